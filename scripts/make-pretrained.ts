// Makes the starting weights Concord ships for its small CPU presets (resources/pretrained/):
// a single network trained with plain cross-entropy on a clean demo dataset of people who appear in
// no demo project (their own seed), written as a torchvision-keyed .safetensors file with a JSON
// manifest beside it. The paper finetunes backbones pretrained on AffectNet or MS-Celeb; these
// stand in for them on the demo's synthetic faces. Reproducible: the same options give the same data and
// training; the bytes can differ across machines (float summation order), the sha256 says which file ships.
// Usage: npx tsx scripts/make-pretrained.ts [--model tiny] [--input 48] [--videos 48] [--frames 100]
//        [--epochs 12] [--batch 32] [--backend wasm] [--seed 9001] [--out resources/pretrained]
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pretrainedWeights } from '../bench/lib/demo-project';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'tiny' },
    input: { type: 'string', default: '48' },
    videos: { type: 'string', default: '48' },
    frames: { type: 'string', default: '100' },
    epochs: { type: 'string', default: '12' },
    batch: { type: 'string', default: '32' },
    backend: { type: 'string', default: 'wasm' },
    seed: { type: 'string', default: '9001' },
    out: { type: 'string', default: 'resources/pretrained' },
  },
});
const o = {
  model: values.model!,
  inputSize: Number(values.input),
  videos: Number(values.videos),
  frames: Number(values.frames),
  epochs: Number(values.epochs),
  batch: Number(values.batch),
  backend: values.backend!,
  // pretrainedWeights draws its people from seed + 1000
  seed: Number(values.seed) - 1000,
};
const work = mkdtempSync(join(tmpdir(), 'concord-pretrained-'));
try {
  const r = await pretrainedWeights(work, o);
  const out = resolve(values.out!);
  mkdirSync(out, { recursive: true });
  const name = `${o.model}-${o.inputSize}`;
  const file = join(out, `${name}.safetensors`);
  copyFileSync(r.file, file);
  const manifest = {
    model: o.model,
    inputSize: o.inputSize,
    classes: 7,
    data: { generator: 'concord demo-data', seed: Number(values.seed), videos: o.videos, frames: o.frames, noise: 0 },
    training: { loss: 'cross-entropy', nets: 1, epochs: o.epochs, batch: o.batch, backend: o.backend },
    valAccuracy: Number(r.valAccuracy.toFixed(4)),
    seconds: r.seconds,
    sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
    command: `npx tsx scripts/make-pretrained.ts --model ${o.model} --input ${o.inputSize} --videos ${o.videos} --frames ${o.frames} --epochs ${o.epochs} --batch ${o.batch} --backend ${o.backend} --seed ${values.seed}`,
  };
  writeFileSync(join(out, `${name}.json`), JSON.stringify(manifest, null, 2) + '\n');
  console.log(JSON.stringify(manifest));
} finally {
  rmSync(work, { recursive: true, force: true });
}
