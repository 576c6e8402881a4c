import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCctOptimizers,
  disposeCctOptimizers,
  getLearningRates,
  predict,
  setEpochLearningRates,
  trainStep,
} from '../../../src/trainer/cct';
import { loadCheckpoint, saveCheckpoint } from '../../../src/trainer/checkpoint';
import { registerFastCpuKernels } from '../../../src/trainer/cpu-kernels';
import { createResNet, disposeResNet, readWeights } from '../../../src/trainer/resnet';
import { Rng, createRng } from '../../../src/trainer/rng';

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  registerFastCpuKernels();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'concord-ckpt-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function batch(seed: number): [tf.Tensor4D, tf.Tensor1D] {
  return tf.tidy(() => {
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
    const x = tf.randomNormal([6, 32, 32, 3], 0, 1, 'float32', seed).add(tf.oneHot(y, 3).toFloat().reshape([6, 1, 1, 3]));
    return [x as tf.Tensor4D, y as tf.Tensor1D];
  });
}

describe('checkpoint', () => {
  it('round-trips exactly: same predictions, same next training step, same rng stream', async () => {
    const cfg = { depth: 'tiny' as const, inputSize: 32, numClasses: 7 };
    const nets = [createResNet(cfg, 1), createResNet({ ...cfg, widths: [4, 8, 8, 16] }, 2)];
    const opt = createCctOptimizers();
    const [x, y] = batch(1);
    const [x2, y2] = batch(2);
    await trainStep({ nets, optimizers: opt, x, y, lambda: 0.2 });
    setEpochLearningRates(opt, 1);
    await trainStep({ nets, optimizers: opt, x, y, lambda: 0.4 });
    const rng = createRng(77);
    rng.normal();
    const dir = path.join(tmp, 'run', 'epoch-1');
    await fs.mkdir(path.dirname(dir), { recursive: true });
    const runConfig = { seed: 77, lambda: { beta: 4, rampUp: 9 } };
    await saveCheckpoint(dir, {
      nets,
      optimizers: opt,
      epoch: 2,
      rngState: rng.getState(),
      config: runConfig,
      metrics: { overall: [0.41] },
    });
    expect((await fs.readdir(path.dirname(dir))).sort()).toEqual(['epoch-1']); // no temp dirs left
    expect((await fs.readdir(dir)).sort()).toEqual(['manifest.json', 'weights.bin']);

    const before = tf.memory().numTensors;
    const loaded = await loadCheckpoint<typeof runConfig, { overall: number[] }>(dir);
    // every weight and statistic, two moments per trainable variable, and each Adam's two β^t scalars
    expect(tf.memory().numTensors - before).toBe(nets.reduce((n, net) => n + net.vars.size, 0) + countMoments(nets) + 2 * 2);
    expect(loaded.epoch).toBe(2);
    expect(loaded.config).toEqual(runConfig);
    expect(loaded.metrics).toEqual({ overall: [0.41] });
    expect(getLearningRates(loaded.optimizers)).toEqual(getLearningRates(opt));
    expect(loaded.nets.map((n) => n.numBatchesTracked)).toEqual([2, 2]);
    expect(loaded.nets[1].config.widths).toEqual([4, 8, 8, 16]);
    const r2 = Rng.fromState(loaded.rngState);
    expect([r2.next(), r2.normal()]).toEqual([rng.next(), rng.normal()]);

    const p0 = await predict(nets, x2);
    const p1 = await predict(loaded.nets, x2);
    expect([...p1.ensemble]).toEqual([...p0.ensemble]);

    const s0 = await trainStep({ nets, optimizers: opt, x: x2, y: y2, lambda: 0.5 });
    const s1 = await trainStep({ nets: loaded.nets, optimizers: loaded.optimizers, x: x2, y: y2, lambda: 0.5 });
    expect(s1).toEqual(s0);
    for (let i = 0; i < 2; i++) {
      const a = await readWeights(nets[i]);
      const b = await readWeights(loaded.nets[i]);
      for (const k of a.keys()) expect([...b.get(k)!]).toEqual([...a.get(k)!]);
    }

    // overwrite in place: the directory is replaced, nothing stray left behind
    await saveCheckpoint(dir, { nets, optimizers: opt, epoch: 3, rngState: rng.getState(), config: runConfig, metrics: {} });
    expect((await fs.readdir(path.dirname(dir))).sort()).toEqual(['epoch-1']);
    const again = await loadCheckpoint(dir);
    expect(again.epoch).toBe(3);

    for (const l of [loaded, again]) {
      l.nets.forEach(disposeResNet);
      disposeCctOptimizers(l.optimizers);
    }
    nets.forEach(disposeResNet);
    disposeCctOptimizers(opt);
    tf.dispose([x, y, x2, y2]);
  });

  it('detects corruption and names the file', async () => {
    const nets = [createResNet({ depth: 'tiny', inputSize: 32, numClasses: 8 }, 3)];
    const opt = createCctOptimizers();
    const dir = path.join(tmp, 'corrupt');
    await saveCheckpoint(dir, { nets, optimizers: opt, epoch: 0, rngState: createRng(1).getState(), config: {}, metrics: {} });
    const fresh = await loadCheckpoint(dir); // an optimiser that never stepped has no moments yet
    expect(fresh.nets[0].config.numClasses).toBe(8);
    fresh.nets.forEach(disposeResNet);
    disposeCctOptimizers(fresh.optimizers);
    const weights = path.join(dir, 'weights.bin');
    const bytes = await fs.readFile(weights);
    bytes[100] ^= 0xff;
    await fs.writeFile(weights, bytes);
    const before = tf.memory().numTensors;
    await expect(loadCheckpoint(dir)).rejects.toThrow(/weights\.bin: SHA-256 does not match/);
    expect(tf.memory().numTensors).toBe(before); // partial restores are disposed
    await fs.writeFile(weights, bytes.subarray(0, 1000));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/weights\.bin: is 1000 bytes, the manifest says/);
    await fs.writeFile(path.join(dir, 'manifest.json'), '{"format":"other"}');
    await expect(loadCheckpoint(dir)).rejects.toThrow(/manifest\.json: format is "other"/);
    await expect(loadCheckpoint(path.join(tmp, 'missing'))).rejects.toThrow(/manifest\.json: cannot read checkpoint manifest/);
    nets.forEach(disposeResNet);
    disposeCctOptimizers(opt);
  });
});

/** Adam keeps a first and a second moment per trainable variable. */
function countMoments(nets: { specs: readonly { trainable: boolean }[] }[]): number {
  return 2 * nets.reduce((n, net) => n + net.specs.filter((s) => s.trainable).length, 0);
}
