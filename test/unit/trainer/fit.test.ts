import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics } from '../../../src/shared/api';
import { CancelledError } from '../../../src/shared/progress';
import { createCctOptimizers, disposeCctOptimizers, type CctOptimizers } from '../../../src/trainer/cct';
import { parseTrainConfig } from '../../../src/trainer/config';
import { RunControl } from '../../../src/trainer/control';
import { registerFastCpuKernels } from '../../../src/trainer/cpu-kernels';
import type { Sample } from '../../../src/trainer/data';
import { fitCct } from '../../../src/trainer/fit';
import type { StepReport } from '../../../src/trainer/protocol';
import { createResNet, disposeResNet, type ResNet } from '../../../src/trainer/resnet';
import { Rng } from '../../../src/trainer/rng';
import { tempDir } from '../../helpers/tmp';
import { TINY_CONFIG } from './project-fixture';

async function jpeg(file: string, rgb: [number, number, number]): Promise<string> {
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg({ quality: 95 })
    .toFile(file);
  return file;
}

describe('fitCct', () => {
  let dir: string;
  let train: Sample[];
  let val: Sample[];
  let nets: ResNet[];
  let optimizers: CctOptimizers;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    registerFastCpuKernels();
    dir = tempDir();
    const samples: Sample[] = [];
    for (let i = 0; i < 20; i++)
      samples.push({ frameId: i + 1, path: await jpeg(join(dir, `${i}.jpg`), [(i * 37) % 256, 80, 200 - i * 5]), label: i % 7 });
    train = samples.slice(0, 14);
    val = samples.slice(14);
    nets = [0, 1].map((i) => createResNet({ depth: 'tiny', inputSize: 32, numClasses: 7 }, 11 + i));
    optimizers = createCctOptimizers({ backboneLr: 1e-3, headLr: 1e-2 });
  });

  afterAll(() => {
    nets?.forEach(disposeResNet);
    if (optimizers) disposeCctOptimizers(optimizers);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = (epochs: number, batch = 7) => parseTrainConfig({ ...TINY_CONFIG, nets: 2, batch, epochs, dataWorkers: 0 }, 'test');

  it('trains epoch by epoch, awaits onEpochEnd, validates and leaks no tensor', async () => {
    const events: string[] = [];
    const steps: StepReport[] = [];
    const ended: EpochMetrics[] = [];
    const rng = new Rng(5);
    const callbacks = {
      onStep: (s: StepReport) => {
        steps.push(s);
        events.push(`step ${s.epoch}.${s.step}`);
      },
      onEpochEnd: async (m: EpochMetrics, state: { epochsDone: number }) => {
        events.push(`end ${m.epoch} (${state.epochsDone} done)`);
        await new Promise((r) => setTimeout(r, 20));
        ended.push(m);
        events.push(`stored ${m.epoch}`);
      },
    };
    // The first epoch creates the optimisers' slot variables; count tensors from then on.
    const first = await fitCct(
      nets,
      optimizers,
      { train, val, classes: 7 },
      { config: config(1), startEpoch: 0, rng, control: new RunControl(), callbacks },
    );
    expect(first.final?.epoch).toBe(0);
    const before = tf.memory().numTensors;
    const second = await fitCct(
      nets,
      optimizers,
      { train, val, classes: 7 },
      { config: config(2), startEpoch: 1, rng, control: new RunControl(), callbacks },
    );
    expect(tf.memory().numTensors).toBe(before);

    expect(events.filter((e) => !e.startsWith('step'))).toEqual(['end 0 (1 done)', 'stored 0', 'end 1 (2 done)', 'stored 1']);
    // The next epoch starts only once the previous onEpochEnd has finished.
    expect(events.findIndex((e) => e.startsWith('step 1.'))).toBeGreaterThan(events.indexOf('stored 0'));
    expect(steps.at(-1)).toMatchObject({ epoch: 1, step: steps.at(-1)!.steps });
    expect(ended.map((m) => m.epoch)).toEqual([0, 1]);
    expect(second.final).toBe(ended[1]);
    expect(second.skippedImages).toBe(0);
    expect(ended[1].val?.nets).toHaveLength(2);
    expect(Number.isFinite(ended[1].loss.total)).toBe(true);
  });

  it('stops with CancelledError at the next safe point and leaves no pending losses behind', async () => {
    const control = new RunControl();
    const before = tf.memory().numTensors;
    let epochEnds = 0;
    const run = fitCct(
      nets,
      optimizers,
      { train, val: [], classes: 7 },
      {
        // Four steps: the cancel comes with step 1's readback, during step 2; step 3's safe point throws.
        config: config(3, 4),
        startEpoch: 0,
        rng: new Rng(6),
        control,
        callbacks: { onStep: () => control.cancel(), onEpochEnd: () => void epochEnds++ },
      },
    );
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(epochEnds).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});
