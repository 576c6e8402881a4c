import { degenerateVerdict } from '../../../src/shared/degenerate';
import { ABAW8 } from '../../../src/shared/labels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { startTrainerJob, TrainerError, type TrainerJob } from '../../../src/main/core/jobs';
import { openDb } from '../../../src/store/db';
import { epochMetrics, getRun, INTERRUPTED_MESSAGE, markInterruptedRuns } from '../../../src/store/runs';
import { loadCheckpoint } from '../../../src/trainer/checkpoint';
import { createCctOptimizers, disposeCctOptimizers, readLosses } from '../../../src/trainer/cct';
import { disposeResNet, createResNet } from '../../../src/trainer/resnet';
import { registerFastCpuKernels } from '../../../src/trainer/cpu-kernels';
import { trainBatch } from '../../../src/trainer/fit';
import { predictBatch } from '../../../src/trainer/infer';
import type { Batch } from '../../../src/trainer/data';
import type { TrainerMessage } from '../../../src/trainer/protocol';
import { TINY_CONFIG, tinyProject, type TinyProject } from './project-fixture';

function record(job: TrainerJob): TrainerMessage[] {
  const seen: TrainerMessage[] = [];
  job.onAny((m) => seen.push(m));
  return seen;
}

function metricsOf(projectDir: string, runId: number) {
  const db = openDb(projectDir, { readonly: true });
  try {
    return { rows: epochMetrics(db, runId), run: getRun(db, runId)! };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  // This process only reads checkpoints and runs the in-process step; the trainer picks its own backend.
  await tf.setBackend('cpu');
  registerFastCpuKernels();
});

describe('CCT training in the trainer process', () => {
  let a: TinyProject;
  let b: TinyProject;
  beforeAll(async () => {
    // Two projects over the same demo data: the uninterrupted and the killed run train side by side.
    [a, b] = await Promise.all([tinyProject(), tinyProject()]);
  });
  afterAll(() => {
    for (const p of [a, b]) if (p) rmSync(p.root, { recursive: true, force: true });
  });

  it('runs 2 epochs, stores metrics and a checkpoint; a run killed after epoch 1 and resumed matches it', async () => {
    const full = startTrainerJob({ projectDir: a.projectDir, message: { mode: 'train', config: { ...TINY_CONFIG } } });
    const fullEvents = record(full);
    const killed = startTrainerJob({ projectDir: b.projectDir, message: { mode: 'train', config: { ...TINY_CONFIG } } });
    killed.on('checkpoint', (m) => {
      if (m.epoch === 1) killed.kill();
    });
    const [fullResult, killedError] = await Promise.all([
      full.result,
      killed.result.then(
        () => null,
        (e: unknown) => e,
      ),
    ]);

    // --- the uninterrupted run
    expect(fullResult.status).toBe('done');
    const runId = fullResult.runId!;
    const { rows, run } = metricsOf(a.projectDir, runId);
    expect(run.status).toBe('done');
    expect(run.backend).toBe('cpu');
    const cfg = JSON.parse(run.config);
    expect(cfg).toMatchObject({
      nets: 3,
      epochs: 2,
      model: 'tiny',
      inputSize: 32,
      classes: 7,
      rampUp: 1.8,
      beta: 4,
      lambdaMax: 0.9,
      clampAfterRampUp: true,
    });
    expect(cfg.split).toMatchObject({ train: a.trainable, val: a.validation, validation: 'splits Validation_Set' });
    expect(JSON.parse(run.versions!)).toBeTypeOf('object');
    expect(rows.map((r) => r.epoch)).toEqual([0, 1]);
    // λ(0) = 0.9·exp(-4) and λ(1) = 0.9·exp(-4·(1-1/1.8)²)
    expect(rows[0].lambda).toBeCloseTo(0.9 * Math.exp(-4), 10);
    expect(rows[1].lambda).toBeCloseTo(0.9 * Math.exp(-4 * (1 - 1 / 1.8) ** 2), 10);
    expect(rows[1].lr).toBeCloseTo(1e-3 * 0.95, 12);
    for (const r of rows) {
      expect(r.loss_total).toBeCloseTo((1 - r.lambda) * r.loss_sup + r.lambda * r.loss_cons, 5);
      const val = JSON.parse(r.val!);
      expect(val.nets).toHaveLength(3);
      for (const m of [...val.nets, val.ensemble]) {
        expect(m.confusion.flat().reduce((s: number, x: number) => s + x, 0)).toBe(a.validation);
        expect(m.overall).toBeCloseTo(0.67 * m.macroF1 + 0.33 * m.accuracy, 12);
      }
    }
    const ck = await loadCheckpoint(run.checkpoint_dir!);
    expect(ck.epoch).toBe(2);
    expect(ck.nets).toHaveLength(3);
    expect((ck.metrics as unknown[]).length).toBe(2);
    ck.nets.forEach(disposeResNet);
    disposeCctOptimizers(ck.optimizers);
    expect(fullEvents.filter((m) => m.type === 'epoch')).toHaveLength(2);
    // an epoch whose validation says the run learned nothing warns, and only such an epoch
    const warned = fullEvents
      .filter((m) => m.type === 'warning' && /no better than chance/.test(m.message))
      .map((m) => (m as { message: string }).message);
    for (const r of rows) {
      const verdict = degenerateVerdict(JSON.parse(r.val!).ensemble.confusion, r.epoch, ABAW8);
      expect(warned.some((w) => w.startsWith(`epoch ${r.epoch + 1}: `))).toBe(verdict !== null);
      if (verdict) expect(warned).toContain(`epoch ${r.epoch + 1}: ${verdict.reason}; ${verdict.advice}`);
    }
    expect(fullEvents.filter((m) => m.type === 'checkpoint').map((m) => (m as { epoch: number }).epoch)).toEqual([1, 2]);
    const step = fullEvents.find((m) => m.type === 'step') as Extract<TrainerMessage, { type: 'step' }>;
    expect(step.steps).toBe(Math.ceil(a.trainable / 12));
    expect(step.imagesPerSec).toBeGreaterThan(0);

    // --- the killed run: a crash report, then --resume from its epoch-1 checkpoint
    expect(killedError).toBeInstanceOf(TrainerError);
    expect((killedError as TrainerError).message).toMatch(/SIGKILL/);
    const killedRunId = (killedError as TrainerError).details.runId!;
    expect(metricsOf(b.projectDir, killedRunId).rows.map((r) => r.epoch)).toContain(0);
    // the dead trainer left its run 'running' and its lock file behind: a host listing runs says so
    expect(metricsOf(b.projectDir, killedRunId).run.status).toBe('running');
    const db = openDb(b.projectDir);
    try {
      expect(markInterruptedRuns(db, b.projectDir)).toBe(1);
    } finally {
      db.close();
    }
    expect(metricsOf(b.projectDir, killedRunId).run).toMatchObject({ status: 'failed', error: INTERRUPTED_MESSAGE });
    const resumed = startTrainerJob({ projectDir: b.projectDir, message: { mode: 'train', resume: true, config: {} } });
    const resumedEvents = record(resumed);
    const rr = await resumed.result;
    expect(rr.runId).toBe(killedRunId);
    const runEvent = resumedEvents.find((m) => m.type === 'run') as Extract<TrainerMessage, { type: 'run' }>;
    expect(runEvent.resumedFromEpoch).toBe(1);
    const after = metricsOf(b.projectDir, killedRunId);
    expect(after.run.status).toBe('done');
    expect(after.rows).toHaveLength(2);
    for (const e of [0, 1]) {
      const x = rows[e];
      const y = after.rows[e];
      expect(Math.abs(x.loss_total - y.loss_total)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(x.loss_sup - y.loss_sup)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(x.loss_cons - y.loss_cons)).toBeLessThanOrEqual(1e-6);
      expect(JSON.parse(y.val!)).toEqual(JSON.parse(x.val!));
    }
  });

  it('pauses, resumes, and leaves a loadable checkpoint when cancelled', async () => {
    const job = startTrainerJob({ projectDir: a.projectDir, message: { mode: 'train', config: { ...TINY_CONFIG, epochs: 4 } } });
    const seen = record(job);
    let pausedStatus: string | null = null;
    let paused = false;
    job.on('step', () => {
      if (!paused) {
        paused = true;
        job.pause();
      }
    });
    job.on('paused', () => {
      pausedStatus = metricsOf(a.projectDir, job.runId!).run.status;
      setTimeout(() => job.resume(), 300);
    });
    job.on('checkpoint', (m) => m.epoch === 1 && job.cancel());
    const r = await job.result;
    expect(pausedStatus).toBe('paused');
    expect(seen.some((m) => m.type === 'resumed')).toBe(true);
    expect(r.status).toBe('cancelled');
    const { run } = metricsOf(a.projectDir, r.runId!);
    expect(run.status).toBe('cancelled');
    const ck = await loadCheckpoint(run.checkpoint_dir!);
    expect(ck.epoch).toBeGreaterThanOrEqual(1);
    expect(ck.epoch).toBeLessThan(4);
    ck.nets.forEach(disposeResNet);
    disposeCctOptimizers(ck.optimizers);
  });
});

describe('training step in-process', () => {
  it("a tiny model's loss falls, and a step and an inference batch leak no tensor", async () => {
    const size = 16;
    const nets = [0, 1].map((i) => createResNet({ depth: 'tiny', inputSize: size, numClasses: 3 }, 100 + i));
    const opt = createCctOptimizers();
    const n = 6;
    const x = new Float32Array(n * size * size * 3);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    // class-coloured images: learnable in a few steps
    for (let i = 0; i < n; i++) for (let p = 0; p < size * size; p++) x[(i * size * size + p) * 3 + labels[i]] = 1;
    const batch: Batch = { x, labels, frameIds: [...labels.keys()], count: n, index: 0 };
    await readLosses(trainBatch(nets, opt, batch, size, 0.3, false)); // first step creates the optimiser's moments
    const before = tf.memory().numTensors;
    const first = await readLosses(trainBatch(nets, opt, batch, size, 0.3, false));
    expect(tf.memory().numTensors).toBe(before);
    let last = first;
    for (let i = 0; i < 6; i++) last = await readLosses(trainBatch(nets, opt, batch, size, 0.3, false));
    expect(last.sup).toBeLessThan(first.sup * 0.7);
    const probs = await predictBatch(nets, batch, size);
    expect(tf.memory().numTensors).toBe(before);
    expect(probs).toHaveLength(n);
    expect(probs[0]).toHaveLength(2 * 3);
    expect(probs[0][0] + probs[0][1] + probs[0][2]).toBeCloseTo(1, 5);
    nets.forEach(disposeResNet);
    disposeCctOptimizers(opt);
  });
});
