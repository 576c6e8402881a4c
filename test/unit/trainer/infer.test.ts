import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openDb } from '../../../src/store/db';
import { listFrames } from '../../../src/store/dataset';
import { countPredictions, iteratePredictions } from '../../../src/store/predictions';
import { epochMetrics, getRun, listRuns } from '../../../src/store/runs';
import { RunControl } from '../../../src/trainer/control';
import { trainRun } from '../../../src/trainer/loop';
import { inferRun } from '../../../src/trainer/infer';
import { crossfitRun } from '../../../src/trainer/crossfit';
import { loadCheckpoint } from '../../../src/trainer/checkpoint';
import { disposeCctOptimizers } from '../../../src/trainer/cct';
import { createResNet, disposeResNet, readWeights, toTorchStateDict } from '../../../src/trainer/resnet';
import { writeSafetensors } from '../../../src/trainer/safetensors';
import { planFold, videoGroup } from '../../../src/trainer/split';
import { defaultRecipe, parseTrainConfig } from '../../../src/trainer/config';
import { shippedWeights } from '../../../src/trainer/shipped';
import type { TrainerMessage } from '../../../src/trainer/protocol';
import { TINY_CONFIG, tinyProject, type TinyProject } from './project-fixture';

let p: TinyProject;
let runId: number;

beforeAll(async () => {
  await tf.setBackend('cpu');
  p = await tinyProject();
  expect(p.withCrop).toBeGreaterThan(32); // the cancel test stops after one batch of 32
  const r = await trainRun({ projectDir: p.projectDir, kind: 'train', config: { ...TINY_CONFIG, epochs: 1 } }, new RunControl(), () => {});
  runId = r.runId!;
});
afterAll(() => p && rmSync(p.root, { recursive: true, force: true }));

function withDb<T>(fn: (db: ReturnType<typeof openDb>) => T): T {
  const db = openDb(p.projectDir);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

describe('inference', () => {
  it('writes one prediction per frame with a crop, and resumes after a cancel', async () => {
    // cancel after the first batch (evalBatch 32)
    const control = new RunControl();
    const seen: TrainerMessage[] = [];
    const first = await inferRun({ projectDir: p.projectDir, runId }, control, (m) => {
      seen.push(m);
      if (m.type === 'progress') control.cancel();
    });
    expect(first.status).toBe('cancelled');
    expect(withDb((db) => countPredictions(db, runId))).toBe(32);

    const progress: number[] = [];
    const second = await inferRun(
      { projectDir: p.projectDir },
      new RunControl(),
      (m) => m.type === 'progress' && progress.push(m.progress.total),
    );
    expect(second).toMatchObject({ status: 'done', runId, predictions: p.withCrop });
    expect(progress[0]).toBe(p.withCrop - 32); // only the frames still missing
    withDb((db) => {
      const withCrop = new Set(listFrames(db, { withFaceOnly: true }).map((f) => f.frameId));
      const rows = [...iteratePredictions(db, runId)];
      expect(rows).toHaveLength(p.withCrop);
      expect(new Set(rows.map((r) => r.frameId))).toEqual(withCrop);
      for (const r of rows) {
        expect(r.nets).toBe(3);
        expect(r.classes).toBe(7);
        for (let n = 0; n < 3; n++) {
          const s = r.probs.slice(n * 7, n * 7 + 7).reduce((a, b) => a + b, 0);
          expect(s).toBeCloseTo(1, 5);
        }
      }
    });
  });
});

describe('finetune', () => {
  it('starts from a run (heads kept) or a torchvision .safetensors file (fc re-initialised per net)', async () => {
    const cfg = { ...TINY_CONFIG, epochs: 1, epochSize: 12 };
    const fromRun = await trainRun({ projectDir: p.projectDir, kind: 'finetune', config: cfg, fromRun: runId }, new RunControl(), () => {});
    const rec = withDb((db) => JSON.parse(getRun(db, fromRun.runId!)!.config));
    expect(rec.init).toMatchObject({ fromRun: runId, headSkipped: false });
    expect(rec.init.loaded).toBeGreaterThan(10);
    expect(withDb((db) => getRun(db, fromRun.runId!)!.parent_run_id)).toBe(runId);

    const src = createResNet({ depth: 'tiny', inputSize: 32, numClasses: 5 }, 42);
    const file = join(p.root, 'backbone.safetensors');
    writeFileSync(file, writeSafetensors(await toTorchStateDict(src)));
    const srcConv = (await readWeights(src)).get('conv1.weight')!;
    disposeResNet(src);
    // keep the networks: the first conv must be the file's before training moves it
    const out = await trainRun(
      { projectDir: p.projectDir, kind: 'finetune', config: { ...cfg, lrBackbone: 1e-12, lrHead: 1e-12 }, fromFile: file, keepNets: true },
      new RunControl(),
      () => {},
    );
    try {
      const rec2 = withDb((db) => JSON.parse(getRun(db, out.runId!)!.config));
      expect(rec2.init).toMatchObject({ fromFile: file, headSkipped: true });
      const w = (await readWeights(out.nets![1])).get('conv1.weight')!;
      let maxDiff = 0;
      for (let i = 0; i < w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w[i] - srcConv[i]));
      expect(maxDiff).toBeLessThan(1e-6);
      // heads differ between networks (seeded per net), backbones start equal
      const h0 = (await readWeights(out.nets![0])).get('fc.weight')!;
      const h1 = (await readWeights(out.nets![1])).get('fc.weight')!;
      expect(h0).not.toEqual(h1);
    } finally {
      out.nets!.forEach(disposeResNet);
    }
  });
});

describe('crossfit', () => {
  it('scores every video with the fold model that did not train on it', async () => {
    const events: TrainerMessage[] = [];
    const r = await crossfitRun({ projectDir: p.projectDir, folds: 2, config: { ...TINY_CONFIG, epochs: 1 } }, new RunControl(), (m) =>
      events.push(m),
    );
    expect(r.status).toBe('done');
    expect(r.foldRuns).toHaveLength(2);
    expect(r.predictions).toBe(p.withCrop);
    withDb((db) => {
      const parent = getRun(db, r.runId!)!;
      expect(parent.kind).toBe('crossfit');
      expect(parent.status).toBe('done');
      expect(JSON.parse(parent.config).crossfit).toEqual({ folds: 2 });
      const children = listRuns(db).filter((x) => x.parent_run_id === r.runId);
      expect(children.map((c) => c.id).sort()).toEqual([...r.foldRuns!].sort());
      for (const c of children) expect(epochMetrics(db, c.id)).toHaveLength(1);
      // each fold's training frames and held-out frames share no video
      const cfg = parseTrainConfig({ ...TINY_CONFIG, epochs: 1 });
      const frames = listFrames(db, { withFaceOnly: true });
      const videos = db.prepare('SELECT * FROM videos').all() as never[];
      const heldOut = new Set<number>();
      for (const fold of [0, 1]) {
        const plan = planFold(frames, videos, cfg, 2, fold);
        const trainGroups = new Set(plan.train.map((f) => videoGroup(f.video)));
        for (const f of plan.heldOut) {
          expect(trainGroups.has(videoGroup(f.video))).toBe(false);
          heldOut.add(f.frameId);
        }
      }
      expect(heldOut.size).toBe(p.withCrop);
      expect(countPredictions(db, r.runId!)).toBe(p.withCrop);
    });
    // the fold checkpoints are loadable
    const child = withDb((db) => getRun(db, r.foldRuns![0])!);
    const ck = await loadCheckpoint(child.checkpoint_dir!);
    expect(ck.epoch).toBe(1);
    ck.nets.forEach(disposeResNet);
    disposeCctOptimizers(ck.optimizers);
  });

  it('starts every fold from a given run, inheriting its model and input size', async () => {
    const r = await crossfitRun(
      { projectDir: p.projectDir, folds: 2, fromRun: runId, config: { epochs: 1, batch: 8, seed: 5, nets: 2 } },
      new RunControl(),
      () => {},
    );
    expect(r.status).toBe('done');
    withDb((db) => {
      const source = JSON.parse(getRun(db, runId)!.config);
      const parent = JSON.parse(getRun(db, r.runId!)!.config);
      expect(parent.init.fromRun).toBe(runId);
      expect([parent.model, parent.inputSize]).toEqual([source.model, source.inputSize]);
      for (const id of r.foldRuns!) {
        const child = JSON.parse(getRun(db, id)!.config);
        expect(child.init.fromRun).toBe(runId);
        expect(child.init.loaded).toBeGreaterThan(0);
        expect(child.model).toBe(source.model);
      }
    });
  });

  it('names a missing starting run', async () => {
    await expect(
      crossfitRun({ projectDir: p.projectDir, folds: 2, fromRun: 999, config: TINY_CONFIG }, new RunControl(), () => {}),
    ).rejects.toThrow(/run 999 does not exist/);
  });
});

describe('shipped starting weights and the default recipe', () => {
  it('a train run starts from the backbone shipped for its model and input size, each network with its own head; pretrained none does not', async () => {
    const dir = join(p.root, 'shipped');
    mkdirSync(dir, { recursive: true });
    const src = createResNet({ depth: 'tiny', inputSize: 32, numClasses: 7 }, 7);
    writeFileSync(join(dir, 'tiny-32.safetensors'), writeSafetensors(await toTorchStateDict(src)));
    writeFileSync(join(dir, 'tiny-32.json'), JSON.stringify({ model: 'tiny', inputSize: 32, classes: 7 }));
    const srcFc = (await readWeights(src)).get('fc.weight')!;
    const shippedConv = (await readWeights(src)).get('conv1.weight')!;
    disposeResNet(src);
    expect(shippedWeights('tiny', 32, dir)?.file).toBe(join(dir, 'tiny-32.safetensors'));
    expect(shippedWeights('tiny', 48, dir)).toBeNull();
    const before = process.env.CONCORD_PRETRAINED_DIR;
    process.env.CONCORD_PRETRAINED_DIR = dir;
    try {
      const cfg = { ...TINY_CONFIG, epochs: 1, epochSize: 12, lrBackbone: 1e-12, lrHead: 1e-12 };
      const seen: TrainerMessage[] = [];
      const out = await trainRun({ projectDir: p.projectDir, kind: 'train', config: cfg, keepNets: true }, new RunControl(), (m) =>
        seen.push(m),
      );
      try {
        const rec = withDb((db) => JSON.parse(getRun(db, out.runId!)!.config));
        expect(rec.init).toMatchObject({ fromFile: join(dir, 'tiny-32.safetensors'), shipped: true, headSkipped: true });
        // the backbone is the shipped one (lr 1e-12: unchanged by the one epoch) ...
        const conv = (await readWeights(out.nets![2])).get('conv1.weight')!;
        let convDiff = 0;
        for (let i = 0; i < conv.length; i++) convDiff = Math.max(convDiff, Math.abs(conv[i] - shippedConv[i]));
        expect(convDiff).toBeLessThan(1e-6);
        // ... and the heads are the networks' own: different from the shipped one and from each other
        const heads = await Promise.all(out.nets!.map(async (n) => (await readWeights(n)).get('fc.weight')!));
        const differ = (a: Float32Array, b: Float32Array) => a.some((x, i) => Math.abs(x - b[i]) > 1e-4);
        expect(differ(heads[0]!, srcFc)).toBe(true);
        expect(differ(heads[0]!, heads[1]!) && differ(heads[1]!, heads[2]!)).toBe(true);
        // so the consistency term has something to do
        const cons = withDb((db) => db.prepare('SELECT loss_cons FROM epoch_metrics WHERE run_id = ?').pluck().get(out.runId!) as number);
        expect(cons).toBeGreaterThan(0);
        // no note about random weights: the run did not start from them
        expect(seen.some((m) => m.type === 'warning' && /random weights/.test(m.message))).toBe(false);
      } finally {
        out.nets!.forEach(disposeResNet);
      }
      const seen2: TrainerMessage[] = [];
      const none = await trainRun(
        { projectDir: p.projectDir, kind: 'train', config: { ...cfg, pretrained: 'none' } },
        new RunControl(),
        (m) => seen2.push(m),
      );
      expect(withDb((db) => JSON.parse(getRun(db, none.runId!)!.config)).init).toBeUndefined();
      expect(seen2.some((m) => m.type === 'warning' && /^note: CCT from random weights/.test(m.message))).toBe(true);
    } finally {
      if (before === undefined) delete process.env.CONCORD_PRETRAINED_DIR;
      else process.env.CONCORD_PRETRAINED_DIR = before;
    }
  });

  it('fills what the config leaves out by backend: tiny at 48 px on CPU backends, ResNet-18 at 112 px on a GPU', async () => {
    expect(defaultRecipe({ name: 'wasm' })).toEqual({ model: 'tiny', inputSize: 48, epochs: 10, batch: 16 });
    expect(defaultRecipe({ name: 'webgpu', adapter: { software: true } }).model).toBe('tiny');
    expect(defaultRecipe({ name: 'webgpu', adapter: { software: false } })).toEqual({
      model: 'resnet18',
      inputSize: 112,
      epochs: 20,
      batch: 32,
    });
    expect(defaultRecipe({ name: 'tensorflow-gpu' }).model).toBe('resnet18');
    // a run with no model/input/epochs on the cpu backend gets the CPU recipe, recorded as such
    const r = await trainRun(
      { projectDir: p.projectDir, kind: 'train', config: { backend: 'cpu', epochSize: 12, pretrained: 'none' } },
      new RunControl(),
      () => {},
    );
    const rec = withDb((db) => JSON.parse(getRun(db, r.runId!)!.config));
    expect(rec).toMatchObject({ model: 'tiny', inputSize: 48, epochs: 10, batch: 16, backend: 'cpu' });
    // a crossfit records, and trains its folds with, the same recipe
    const cf = await crossfitRun(
      { projectDir: p.projectDir, folds: 2, config: { backend: 'cpu', epochs: 1, epochSize: 12 } },
      new RunControl(),
      () => {},
    );
    const folds = withDb((db) =>
      listRuns(db)
        .filter((x) => x.parent_run_id === cf.runId)
        .map((x) => JSON.parse(x.config)),
    );
    expect(withDb((db) => JSON.parse(getRun(db, cf.runId!)!.config))).toMatchObject({ model: 'tiny', inputSize: 48 });
    expect(folds).toHaveLength(2);
    for (const f of folds) expect(f).toMatchObject({ model: 'tiny', inputSize: 48, epochs: 1 });
    // and, like train, every fold starts from the shipped backbone (not from random weights), its heads its own
    expect(withDb((db) => JSON.parse(getRun(db, cf.runId!)!.config)).init).toMatchObject({ shipped: true });
    for (const f of folds) {
      expect(f.init.fromFile).toMatch(/resources[\\/]pretrained[\\/]tiny-48\.safetensors$/);
      expect(f.init.loaded).toBeGreaterThan(0);
      expect(f.init.headSkipped).toBe(true);
    }
  });
});
