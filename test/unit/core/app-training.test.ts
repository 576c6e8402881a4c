// The core's training requests carry everything the CLI needs (fromFile, crossfit folds, resume of
// the newest run, infer's backend), and relay the trainer's run, warning and pause messages as
// contract events, so the CLI can be a host of the core like the desktop app and the server.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCore, type Core } from '../../../src/main/core/app';
import type { EventName, Events } from '../../../src/shared/api';
import { fakeTrainer } from '../../helpers/fake-trainer';
import { tempDir } from '../../helpers/tmp';
import { putEpochMetrics } from '../../../src/store/runs';
import { addRun, makeProject, type TestProject } from '../store/fixtures';

let p: TestProject | null = null;
let core: Core | null = null;
afterEach(async () => {
  await core?.close();
  core = null;
  p?.cleanup();
  p = null;
});

function collect(c: Core, names: EventName[]) {
  const seen: { name: EventName; data: unknown }[] = [];
  for (const name of names) c.on(name, (data: Events[typeof name]) => seen.push({ name, data }));
  return seen;
}

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(ok()).toBe(true);
};

describe('core training requests', () => {
  it('starts a crossfit from a weights file and relays run, warning and pause events', async () => {
    p = makeProject([{ name: 'v0', labels: [0, 1, 0] }]);
    const weights = join(p.dir, 'start.safetensors');
    writeFileSync(weights, 'x');
    const starts: unknown[] = [];
    core = await createCore(p.dir, { launchTrainer: fakeTrainer(starts) });
    const seen = collect(core, ['train.run', 'train.warning', 'train.paused', 'job.done']);
    const job = await core.request('train.start', { kind: 'crossfit', folds: 3, fromFile: 'start.safetensors', config: { epochs: 2 } });
    expect(job.kind).toBe('train.crossfit');
    await until(() => seen.some((e) => e.name === 'train.warning'));
    expect(starts[0]).toMatchObject({ type: 'start', mode: 'crossfit', folds: 3, fromFile: weights, config: { epochs: 2 } });
    await expect(core.request('train.pause', { jobId: job.jobId })).resolves.toEqual({ ok: true });
    await until(() => seen.some((e) => e.name === 'train.paused'));
    await core.request('train.resume', { jobId: job.jobId });
    await until(() => seen.some((e) => e.name === 'job.done'));
    expect(seen.map((e) => e.name)).toEqual(['train.run', 'train.warning', 'train.paused', 'train.paused', 'job.done']);
    expect(seen[0]!.data).toEqual({
      jobId: job.jobId,
      runId: 7,
      kind: 'crossfit',
      backend: 'wasm',
      device: 'cpu',
      resumedFromEpoch: 1,
      config: { epochs: 2 },
    });
    expect(seen[1]!.data).toEqual({ jobId: job.jobId, runId: 7, message: '2 unreadable images skipped' });
    expect(seen.slice(2, 4).map((e) => (e.data as Events['train.paused']).paused)).toEqual([true, false]);
  });

  it('resumes the newest run without a run id, and infers on a chosen backend', async () => {
    p = makeProject([{ name: 'v0', labels: [0, 1, 0] }]);
    const starts: unknown[] = [];
    core = await createCore(p.dir, { launchTrainer: fakeTrainer(starts) });
    await core.request('train.start', { kind: 'finetune', resume: true });
    await until(() => starts.length === 1);
    expect(starts[0]).toMatchObject({ mode: 'finetune', resume: true });
    expect(starts[0]).not.toHaveProperty('runId');
    await core.close();
    core = await createCore(p.dir, { launchTrainer: fakeTrainer(starts) });
    const runId = addRun(p.db, 3, []);
    await core.request('infer.start', { runId, backend: 'cpu' });
    await until(() => starts.length === 2);
    expect(starts[1]).toMatchObject({ mode: 'infer', runId, config: { backend: 'cpu' } });
  });

  it('refuses to pretrain without an image list, in words, before any process starts', async () => {
    p = makeProject([{ name: 'v0', labels: [0, 1, 0] }]);
    const starts: unknown[] = [];
    core = await createCore(p.dir, { launchTrainer: fakeTrainer(starts) });
    expect((await core.request('project.info', {})).imageLists).toBe(0);
    await expect(core.request('train.pretrainFinetune', {})).rejects.toThrow(
      /^pretraining needs an image list \(RAF-DB, AffectNet, or a path,label CSV\).*this project has none$/,
    );
    expect(starts).toHaveLength(0);
    await core.close();
    // with one, it starts
    p.cleanup();
    p = makeProject([
      { name: 'v0', labels: [0, 1, 0] },
      { name: 'csv:faces Train_Set', labels: [2, 3], source: 'csv' },
    ]);
    core = await createCore(p.dir, { launchTrainer: fakeTrainer(starts) });
    expect((await core.request('project.info', {})).imageLists).toBe(1);
    await core.request('train.pretrainFinetune', {});
    await until(() => starts.length === 1);
    expect(starts[0]).toMatchObject({ mode: 'pretrain' });
  });

  it('refuses incomplete or contradictory training requests before any process starts', async () => {
    p = makeProject([{ name: 'v0', labels: [0, 1, 0] }]);
    const starts: unknown[] = [];
    core = await createCore(p.dir, { launchTrainer: fakeTrainer(starts), allowedRoots: [] });
    await expect(core.request('train.start', { kind: 'finetune' })).rejects.toThrow(/fromRun.*fromFile/);
    await expect(core.request('train.start', { kind: 'crossfit' })).rejects.toThrow(/folds/);
    await expect(core.request('train.start', { kind: 'train', fromRun: 2 })).rejects.toThrow(/random weights/);
    await expect(core.request('train.start', { kind: 'finetune', fromRun: 2, fromFile: 'a.safetensors' })).rejects.toThrow(/not both/);
    const outside = join(tempDir(), 'w.safetensors');
    await expect(core.request('train.start', { kind: 'finetune', fromFile: outside })).rejects.toThrow(/outside the project/);
    await expect(core.request('infer.start', { runId: 1, backend: 'gpu' as never })).rejects.toThrow(/backend/);
    expect(starts).toEqual([]);
    expect(core.jobs.list()).toEqual([]);
  });

  it('marks a run whose ensemble collapsed onto one class as degenerate in runs.list and runs.metrics', async () => {
    p = makeProject([{ name: 'v0', labels: [0, 1, 0] }]);
    const net = (confusion: number[][]) => ({ accuracy: 0, macroF1: 0, overall: 0, perClassF1: [], confusion });
    const epoch = (runId: number, e: number, confusion: number[][]) =>
      putEpochMetrics(p!.db, runId, {
        epoch: e,
        lossSup: 1,
        lossCons: 0,
        lossTotal: 1,
        lambda: 0,
        lr: 0.001,
        imagesPerSec: 1,
        val: { nets: [net(confusion)], ensemble: net(confusion) },
      });
    const collapsed = addRun(p.db, 3, []);
    epoch(collapsed, 0, [
      [30, 0],
      [29, 1],
    ]);
    const healthy = addRun(p.db, 3, []);
    epoch(healthy, 0, [
      [30, 0],
      [29, 1],
    ]);
    epoch(healthy, 1, [
      [28, 2],
      [3, 27],
    ]);
    core = await createCore(p.dir);
    const runs = await core.request('runs.list', {});
    const verdict = runs.find((r) => r.id === collapsed)!.degenerate;
    expect(verdict?.reason).toMatch(/answer Neutral for 98 % of the validation frames/);
    expect(runs.find((r) => r.id === healthy)!.degenerate).toBeNull();
    expect((await core.request('runs.metrics', { runId: collapsed })).run.degenerate).toEqual(verdict);
  });
});
