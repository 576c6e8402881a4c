// Does CCT resist label noise on the demo data? Symmetric noise in Train_Set, clean Validation_Set:
// N = 1 with λ = 0 (plain cross-entropy) against N = 3 CCT, same model, epochs and seed, at each noise
// rate. Reports the last and the best epoch's ensemble validation accuracy and macro-F1. One JSON line.
// Usage: npx tsx bench/noise-robustness.ts [--noise 0.3,0] [--model tiny] [--input 48] [--epochs 10]
//        [--videos 12] [--frames 100] [--batch 32] [--backend wasm] [--seed 1] [--workers 0] [--lambda-max 0.9]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { EpochMetrics } from '../src/shared/api';
import { generateDemoData } from '../src/main/core/demo/generate';
import { importAbaw } from '../src/main/core/ingest/abaw';
import { openDb } from '../src/main/core/store/db';
import { RunControl } from '../src/trainer/control';
import { trainRun } from '../src/trainer/loop';

const { values } = parseArgs({
  options: {
    noise: { type: 'string' },
    model: { type: 'string' },
    input: { type: 'string' },
    epochs: { type: 'string' },
    videos: { type: 'string' },
    frames: { type: 'string' },
    batch: { type: 'string' },
    backend: { type: 'string' },
    seed: { type: 'string' },
    workers: { type: 'string' },
    'lambda-max': { type: 'string' },
  },
});
const noises = (values.noise ?? '0.3,0').split(',').map(Number);
const base = {
  model: values.model ?? 'tiny',
  inputSize: Number(values.input ?? 48),
  epochs: Number(values.epochs ?? 10),
  batch: Number(values.batch ?? 32),
  backend: values.backend ?? 'wasm',
  seed: Number(values.seed ?? 1),
  dataWorkers: Number(values.workers ?? 0),
  lambdaMax: Number(values['lambda-max'] ?? 0.9),
};
const videos = Number(values.videos ?? 12);
const frames = Number(values.frames ?? 100);

const root = mkdtempSync(join(tmpdir(), 'concord-bench-noise-'));
const round = (x: number) => Math.round(x * 10000) / 10000;
const summary = (h: EpochMetrics[]) => {
  const last = h[h.length - 1].val!.ensemble;
  const best = h.reduce((a, b) => (b.val!.ensemble.overall > a.val!.ensemble.overall ? b : a));
  return {
    lastAccuracy: round(last.accuracy),
    lastMacroF1: round(last.macroF1),
    bestEpoch: best.epoch + 1,
    bestAccuracy: round(best.val!.ensemble.accuracy),
    bestMacroF1: round(best.val!.ensemble.macroF1),
  };
};

try {
  const results: Record<string, unknown>[] = [];
  const started = Date.now();
  for (const noise of noises) {
    const dir = join(root, `noise-${noise}`);
    const demo = await generateDemoData({
      outDir: join(dir, 'data'),
      videos,
      frames,
      noise,
      noiseKind: 'symmetric',
      seed: base.seed,
      encodeVideos: false,
    });
    const projectDir = join(dir, 'project');
    const db = openDb(projectDir, { create: true });
    importAbaw(db, { annotations: join(dir, 'data', 'annotations'), frames: join(dir, 'data', 'cropped_aligned') });
    db.close();
    for (const nets of [1, 3]) {
      const history: EpochMetrics[] = [];
      const t = Date.now();
      await trainRun(
        { projectDir, kind: 'train', config: { ...base, nets } },
        new RunControl(),
        (m) => m.type === 'epoch' && history.push(m.metrics),
      );
      results.push({
        noise,
        measuredNoise: round(demo.noiseRate),
        nets,
        method: nets === 1 ? 'CE (N=1, λ=0)' : 'CCT (N=3)',
        seconds: Math.round((Date.now() - t) / 1000),
        ...summary(history),
      });
    }
  }
  process.stdout.write(
    JSON.stringify({
      bench: 'noise-robustness',
      ...base,
      videos,
      frames,
      noiseKind: 'symmetric',
      seconds: Math.round((Date.now() - started) / 1000),
      results,
    }) + '\n',
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
