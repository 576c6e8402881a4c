// The training commands are hosts of the core: each sends one train.start / infer.start request
// (crossfit folds, --from FILE, --resume of the newest run, infer's --backend) and prints the
// job's relayed run, warning and epoch events. The trainer here is a scripted stand-in; the demo
// pipeline test (pipeline.test.ts) trains for real.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crossfit, finetune, infer, train } from '../../../src/main/cli/train';
import { JobFailedError } from '../../../src/main/cli/core-job';
import { fakeTrainer } from '../../helpers/fake-trainer';
import { putPredictions } from '../../../src/store/predictions';
import { DEFAULT_MIN_GROUPS } from '../../../src/main/core/review/out-of-sample';
import { addRun, finishedRun, makeProject, nets, peaked, type TestProject } from '../store/fixtures';
import { capture } from '../../helpers/io';

let p: TestProject | null = null;
afterEach(() => {
  p?.cleanup();
  p = null;
});

describe('training commands through the core', () => {
  it('crossfit --folds --from FILE --json sends one crossfit request and prints its events', async () => {
    p = makeProject([{ name: 'v0', labels: [0, 1, 0] }]);
    const weights = join(p.dir, 'w.safetensors');
    writeFileSync(weights, 'x');
    const io = capture();
    const starts: unknown[] = [];
    const code = await crossfit(
      [p.dir, '--folds', '3', '--from', weights, '--epochs', '2', '--json'],
      io,
      fakeTrainer(starts, { autoFinish: true }),
    );
    expect(code, io.stderr.join('\n')).toBe(0);
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({ mode: 'crossfit', folds: 3, fromFile: weights, config: { epochs: 2 } });
    const events = io.stdout.map((l) => JSON.parse(l) as { event: string });
    expect(events.map((e) => e.event)).toEqual(['run', 'epoch', 'done']);
    expect(events[0]).toMatchObject({ runId: 7, kind: 'crossfit', backend: 'wasm', resumedFromEpoch: 1 });
    expect(events[2]).toMatchObject({ mode: 'crossfit', status: 'done', runId: 7 });
    expect(io.stderr).toContain('warning: 2 unreadable images skipped');
  });

  it('crossfit --fold-by stretch sends it in the config; another value is a usage error before any trainer starts', async () => {
    p = makeProject([{ name: 'v0', labels: [0, 1, 0] }]);
    const starts: unknown[] = [];
    const io = capture();
    expect(await crossfit([p.dir, '--folds', '2', '--fold-by', 'stretch', '--json'], io, fakeTrainer(starts, { autoFinish: true }))).toBe(
      0,
    );
    expect(starts[0]).toMatchObject({ mode: 'crossfit', folds: 2, config: { foldBy: 'stretch' } });
    const bad = capture();
    const none: unknown[] = [];
    expect(await crossfit([p.dir, '--folds', '2', '--fold-by', 'frame'], bad, fakeTrainer(none, { autoFinish: true }))).toBe(2);
    expect(bad.stderr.join('\n')).toContain('--fold-by must be video or stretch');
    expect(none).toHaveLength(0);
  });

  it('finetune --resume without a run id resumes the newest run; train prints readable lines', async () => {
    p = makeProject([{ name: 'v0', labels: [0, 1, 0] }]);
    const starts: unknown[] = [];
    const io = capture();
    expect(await finetune([p.dir, '--resume'], io, fakeTrainer(starts, { autoFinish: true }))).toBe(0);
    expect(starts[0]).toMatchObject({ mode: 'finetune', resume: true });
    expect(starts[0]).not.toHaveProperty('runId');
    expect(starts[0]).not.toHaveProperty('fromRun');
    const io2 = capture();
    expect(await train([p.dir, '--epochs', '2', '--resume', '--run', '5'], io2, fakeTrainer(starts, { autoFinish: true }))).toBe(0);
    expect(starts[1]).toMatchObject({ mode: 'train', resume: true, runId: 5 });
    expect(io2.stderr.some((l) => /^run 7 \(train\) on wasm \(cpu\), resuming after epoch 1$/.test(l))).toBe(true);
    expect(io2.stdout[0]).toMatch(/^epoch {3}1\/2 {2}loss 1\.500/);
    expect(io2.stdout.at(-1)).toBe('training done, run 7');
  });

  it('infer --backend reaches the trainer; a refusal of the core is one line, exit 1', async () => {
    p = makeProject([{ name: 'v0', labels: [0, 1, 0] }]);
    const starts: unknown[] = [];
    const none = capture();
    // no run yet: the core refuses, no trainer starts, and no stack trace is printed
    const refused = infer([p.dir], none, fakeTrainer(starts));
    await expect(refused).rejects.toThrow(/no trained run yet/);
    // cli.ts prints a JobFailedError's message as one line, without its stack
    await expect(refused).rejects.toBeInstanceOf(JobFailedError);
    expect(starts).toEqual([]);
    const runId = addRun(p.db, 3, []);
    const io = capture();
    expect(await infer([p.dir, '--backend', 'cpu', '--run', String(runId)], io, fakeTrainer(starts, { autoFinish: true }))).toBe(0);
    expect(starts[0]).toMatchObject({ mode: 'infer', runId, config: { backend: 'cpu' } });
    await expect(infer([p.dir, '--backend', 'gpu'], capture(), fakeTrainer(starts))).resolves.toBe(2);
  });

  describe("infer follows the out-of-sample plan, as Review's Score does", () => {
    const videos = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ name: `v${i}`, split: i === 0 ? 'Validation_Set' : 'Train_Set', labels: [0, 1, 2] }));

    it("cross-fits the plan's folds with the default recipe where out-of-sample is the default; --in-sample predicts with the trained run", async () => {
      p = makeProject(videos(DEFAULT_MIN_GROUPS));
      const trained = finishedRun(p, 'train', 60);
      const starts: unknown[] = [];
      const io = capture();
      expect(await infer([p.dir], io, fakeTrainer(starts, { autoFinish: true })), io.stderr.join('\n')).toBe(0);
      // the cross-fit, then the trained run's in-sample predictions (scoring judges by stretch)
      expect(starts).toHaveLength(2);
      expect(starts[0]).toMatchObject({ mode: 'crossfit', folds: 3 });
      expect(starts[1]).toMatchObject({ mode: 'infer', runId: trained });
      expect(io.stderr).toContain(
        `predicting with run ${trained}'s networks too (in-sample), for the frames outside the stretches the cross-fit contradicts`,
      );
      expect(io.stderr[0]).toMatch(
        /^out-of-sample is the default here: 12 video groups.*cross-fitting 3 folds with the default recipe, about 2 min/,
      );
      expect(io.stdout).toContain('cross-fit (out-of-sample inference) done, run 7');
      const inSample = capture();
      expect(await infer([p.dir, '--in-sample', '--backend', 'cpu'], inSample, fakeTrainer(starts, { autoFinish: true }))).toBe(0);
      expect(starts).toHaveLength(3);
      expect(starts[2]).toMatchObject({ mode: 'infer', config: { backend: 'cpu' } });
      expect(inSample.stderr.join('\n')).not.toMatch(/cross-fit/);
    });

    it('does nothing when a cross-fit newer than the newest training run already predicted every frame', async () => {
      p = makeProject(videos(DEFAULT_MIN_GROUPS));
      const trained = finishedRun(p, 'train', 60);
      const cf = finishedRun(p, 'crossfit', 120, { crossfit: { folds: 3 } });
      putPredictions(p.db, cf, 3, 7, [{ frameId: p.frame('v1', 1), probs: nets(peaked(0), peaked(0), peaked(0)) }]);
      const starts: unknown[] = [];
      const io = capture();
      expect(await infer([p.dir, '--json'], io, fakeTrainer(starts, { autoFinish: true }))).toBe(0);
      // no cross-fit: only the trained run's in-sample predictions are made (or completed)
      expect(starts).toEqual([expect.objectContaining({ mode: 'infer', runId: trained })]);
      expect(JSON.parse(io.stdout[0]!)).toMatchObject({ event: 'done', mode: 'crossfit', runId: cf });
      // a training run after the cross-fit makes its predictions stale: infer cross-fits again
      finishedRun(p, 'train', 60);
      expect(await infer([p.dir], capture(), fakeTrainer(starts, { autoFinish: true }))).toBe(0);
      expect(starts[1]).toMatchObject({ mode: 'crossfit', folds: 3 });
    });

    it('stays in-sample and says why with too few video groups; --out-of-sample --folds K asks for a cross-fit anyway', async () => {
      p = makeProject(videos(6));
      finishedRun(p, 'train', 60);
      const starts: unknown[] = [];
      const io = capture();
      expect(await infer([p.dir], io, fakeTrainer(starts, { autoFinish: true }))).toBe(0);
      expect(starts[0]).toMatchObject({ mode: 'infer' });
      expect(io.stderr[0]).toMatch(/^in-sample: out-of-sample is offered, not the default: with 6 video groups/);
      expect(await infer([p.dir, '--folds', '2'], capture(), fakeTrainer(starts, { autoFinish: true }))).toBe(0);
      expect(starts[1]).toMatchObject({ mode: 'crossfit', folds: 2 });
      expect(starts[2]).toMatchObject({ mode: 'infer' });
      const bad = capture();
      expect(await infer([p.dir, '--folds', '9'], bad, fakeTrainer(starts))).toBe(2);
      expect(bad.stderr.join('\n')).toContain('--folds K must be between 2 and 6 here');
      const both = capture();
      expect(await infer([p.dir, '--run', '1', '--out-of-sample'], both, fakeTrainer(starts))).toBe(2);
      expect(both.stderr.join('\n')).toContain("--run predicts with that run's networks (in-sample)");
      expect(starts).toHaveLength(3);
    });
  });
});
