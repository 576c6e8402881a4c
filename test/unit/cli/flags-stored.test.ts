// `concord flags` reads the stored flags (scoring first only when the project was never scored, a
// scoring option asks for it, or --rescore), pages past 1,000, says when a run learned nothing, and
// `concord decisions` lists what people decided.
import { afterEach, describe, expect, it } from 'vitest';
import { decisionsCommand, decideCommand, flagsCommand } from '../../../src/main/cli/review';
import { UsageError } from '../../../src/main/cli/args';
import { putEpochMetrics } from '../../../src/store/runs';
import { addRun, makeProject, nets, peaked, type TestProject } from '../store/fixtures';
import { capture } from '../../helpers/io';

let p: TestProject | null = null;
afterEach(() => {
  p?.cleanup();
  p = null;
});

/** FRAMES frames of class 0 that three networks all call class 4. */
function project(frames: number): { runId: number } {
  p = makeProject([{ name: 'v', labels: Array.from({ length: frames }, () => 0) }]);
  const preds: [number, Float32Array][] = [];
  for (let i = 1; i <= frames; i++) preds.push([p.frame('v', i), nets(peaked(4, 0.9), peaked(4, 0.85), peaked(4, 0.8))]);
  return { runId: addRun(p.db, 3, preds) };
}

async function flags(...args: string[]) {
  const io = capture();
  const code = await flagsCommand([p!.dir, ...args], io);
  return { code, io, json: args.includes('--json') ? JSON.parse(io.stdout[0]!) : null };
}

describe('concord flags and decisions', () => {
  it('scores once, then reads the stored flags until --rescore', async () => {
    project(10);
    const first = await flags('--json');
    expect(first.code).toBe(0);
    expect(first.json.result).toMatchObject({ flagged: 10, rule: 'score-threshold' }); // the default rule
    // a decision, then flags again: no new pass, the decided frame is gone from the open list
    expect(await decideCommand([p!.dir, '--frame', 'v:3', '--action', 'keep'], capture())).toBe(0);
    const stored = await flags('--json');
    expect(stored.json.result).toBeNull();
    expect(stored.json.open).toBe(9);
    expect(stored.json.flags.map((f: { idx: number }) => f.idx)).not.toContain(3);
    const text = await flags('--top', '2');
    expect(text.io.stdout[0]).toBe('stored flags of run 1: 9 open, 1 decided (--rescore to score again)');
    expect(text.io.stdout.at(-1)).toBe('… 7 more open flags (--top N to see more)');
    // one video cannot be cross-fitted by video: no hint to a command that would refuse
    expect(text.io.stdout.join('\n')).not.toContain('--out-of-sample');
    // a later run's predictions (a new infer or cross-fit): the stored flags say they are older
    const later = addRun(p!.db, 3, [[p!.frame('v', 1), nets(peaked(0), peaked(0), peaked(0))]]);
    const stale = await flags('--top', '1');
    expect(stale.io.stderr).toContain(`note: run ${later} has newer predictions than these flags; --rescore scores them`);
    expect((await flags('--json')).json.newerPredictions).toBe(later);
    const again = await flags('--rescore', '--json', '--run', '1');
    expect(again.json.result).toMatchObject({ flagged: 9, suppressedByReview: 1 });
    // cli.ts prints a UsageError as one line, exit 2
    await expect(flags('--no-score', '--rescore')).rejects.toBeInstanceOf(UsageError);
  });

  it('lists more than 1,000 flags with --top, page by page', async () => {
    project(1500);
    const all = await flags('--top', '1200', '--json');
    expect(all.json.flags).toHaveLength(1200);
    expect(new Set(all.json.flags.map((f: { flagId: number }) => f.flagId)).size).toBe(1200);
  });

  it('warns that a degenerate run’s flags are no better than chance', async () => {
    const { runId } = project(10);
    const net = {
      accuracy: 0.2,
      macroF1: 0,
      overall: 0,
      perClassF1: [],
      confusion: [
        [10, 0],
        [30, 0],
      ],
    };
    putEpochMetrics(p!.db, runId, {
      epoch: 0,
      lossSup: 1,
      lossCons: 0,
      lossTotal: 1,
      lambda: 0,
      lr: 1e-3,
      imagesPerSec: 1,
      val: { nets: [net], ensemble: net },
    });
    const r = await flags();
    expect(r.io.stderr.join('\n')).toMatch(
      /^warning: run 1 learned nothing usable, so these flags are no better than chance: the networks answer Neutral for 100 %/m,
    );
    expect((await flags('--json')).json.degenerate.reason).toMatch(/collapsed onto one class/);
  });

  it('decisions lists each decided frame once, newest first', async () => {
    project(4);
    for (const [frame, action] of [
      ['v:1', 'keep'],
      ['v:2', 'exclude'],
      ['v:1', 'relabel:3'],
    ])
      expect(await decideCommand([p!.dir, '--frame', frame!, '--action', action!], capture())).toBe(0);
    const io = capture();
    expect(await decisionsCommand([p!.dir], io)).toBe(0);
    expect(io.stdout.map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['v:1', 'relabel', 'Neutral -> Fear'],
      ['v:2', 'exclude', 'Neutral -> (excluded)'],
    ]);
    expect(io.stderr).toEqual(['2 of 2 decided frames']);
    const json = capture();
    await decisionsCommand([p!.dir, '--json', '--top', '1'], json);
    expect(json.stdout.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ idx: 1, action: 'relabel', original: 0, current: 3 }),
    ]);
  });

  it('points in-sample flags to out-of-sample inference where the project can be cross-fitted', async () => {
    p = makeProject(['a', 'b', 'c'].map((name) => ({ name, labels: [0, 0] })));
    addRun(p.db, 3, [[p.frame('a', 1), nets(peaked(4), peaked(4), peaked(4))]]);
    const text = await flags();
    expect(text.code).toBe(0);
    expect(text.io.stdout).toContain(
      `  for out-of-sample flags on every frame: concord infer ${p.dir} --out-of-sample, then concord flags ${p.dir} --rescore`,
    );
  });
});
