import { afterEach, describe, expect, it } from 'vitest';
import {
  computeFlags,
  DEFAULT_OUT_OF_SAMPLE_SCORE_THRESHOLD,
  DEFAULT_SCORE_THRESHOLD,
  DEFAULT_UNSMOOTHED_SCORE_THRESHOLD,
  scoreRun,
} from '../../../../src/main/core/review/flags';
import { decide, undo } from '../../../../src/main/core/review/decisions';
import { pairCounts } from '../../../../src/store/flags';
import { queuePage } from '../../../../src/store/queue';
import { addRun, makeProject, nets, peaked, type TestProject } from '../../store/fixtures';

let p: TestProject;
afterEach(() => p?.cleanup());

/**
 * Video v (labels 0 0 0 0 0 1 1 1):
 *   1-3   all three nets agree with the label 0
 *   4     all three nets say 4 (label 0)            → all-agree flag
 *   5     two nets say 4, one says 0 (label 0)      → no all-agree, consensus 4
 *   6-7   nets agree with label 1
 *   8     all nets say 2 but weakly (label 1)       → all-agree, low score
 */
function standard(source = 'abaw'): { runId: number } {
  p = makeProject([{ name: 'v', source, labels: [0, 0, 0, 0, 0, 1, 1, 1] }]);
  const f = (i: number) => p.frame('v', i);
  const runId = addRun(p.db, 3, [
    [f(1), nets(peaked(0), peaked(0), peaked(0))],
    [f(2), nets(peaked(0, 0.8), peaked(0), peaked(0))],
    [f(3), nets(peaked(0), peaked(0, 0.7), peaked(0))],
    [f(4), nets(peaked(4, 0.95), peaked(4, 0.9), peaked(4, 0.85))],
    [f(5), nets(peaked(4, 0.9), peaked(4, 0.9), peaked(0, 0.6))],
    [f(6), nets(peaked(1), peaked(1), peaked(1))],
    [f(7), nets(peaked(1), peaked(1, 0.8), peaked(1))],
    [f(8), nets(peaked(2, 0.3), peaked(2, 0.35), peaked(2, 0.3))],
  ]);
  return { runId };
}

describe('scoreRun', () => {
  it('says to run inference when there are no predictions', () => {
    p = makeProject([{ name: 'v', labels: [0, 1] }]);
    expect(() => scoreRun(p.db, { projectDir: 'proj' })).toThrow(/no predictions.*concord infer proj/);
    expect(() => scoreRun(p.db, { runId: 99 })).toThrow(/run 99 does not exist/);
  });

  it('all-agree flags frames where every network agrees on another class', () => {
    const { runId } = standard();
    // by default a thin agreement (frame 8, score < 0.2) is not a flag: all-agree's minimum score is 0.25
    expect(scoreRun(p.db, { rule: 'all-agree' })).toMatchObject({ runId, rule: 'all-agree', scored: 8, flagged: 1 });
    expect(queuePage(p.db).items.map((i) => i.idx)).toEqual([4]);
    const r = scoreRun(p.db, { rule: 'all-agree', threshold: 0 });
    expect(r).toMatchObject({ runId, rule: 'all-agree', scored: 8, flagged: 2 });
    const items = queuePage(p.db).items;
    expect(items.map((i) => i.idx)).toEqual([4, 8]); // strong one first
    const top = items[0]!;
    expect(top).toMatchObject({ given: 0, suggested: 4, allAgree: true, rule: 'all-agree', status: 'open', runId, video: 'v' });
    expect(top.score).toBeGreaterThan(0.5);
    expect(items[1]!.score).toBeLessThan(0.2);
    const d = top.details as Record<string, number>;
    for (const k of ['margin', 'agreement', 'selfConfidence', 'consensus', 'temporal', 'score']) expect(d).toHaveProperty(k);
    expect(pairCounts(p.db)).toEqual([
      { given: 0, suggested: 4, n: 1 },
      { given: 1, suggested: 2, n: 1 },
    ]);
  });

  it('smoothing scores each frame on its ±k neighbours: a one-frame wrong label stands out, a one-frame misprediction does not', () => {
    // labels 0 0 0 3 0 0 0 0 0: frame 4's label is the odd one out, the nets see 0 there weakly;
    // frame 7's label is right, but the nets misfire on that single frame.
    p = makeProject([{ name: 'v', labels: [0, 0, 0, 3, 0, 0, 0, 0, 0] }]);
    const f = (i: number) => p.frame('v', i);
    const rows: [number, Float32Array][] = [];
    for (let i = 1; i <= 9; i++) {
      const c = i === 7 ? 5 : 0;
      const conf = i === 4 ? 0.4 : 0.9;
      rows.push([f(i), nets(peaked(c, conf), peaked(c, conf), peaked(c, conf))]);
    }
    const runId = addRun(p.db, 3, rows);
    const plain = computeFlags(p.db, { runId, rule: 'all-agree' }).flags.map((x) => x.idx);
    expect(plain.sort()).toEqual([4, 7]);
    const smoothed = computeFlags(p.db, { runId, rule: 'all-agree', smooth: 2 }).flags;
    expect(smoothed.map((x) => x.idx)).toEqual([4]);
    expect(smoothed[0]).toMatchObject({ given: 3, suggested: 0 });
    // its margin grew: the neighbours are confident about 0
    const before = computeFlags(p.db, { runId, rule: 'all-agree' }).flags.find((x) => x.idx === 4)!;
    expect(smoothed[0]!.details.margin).toBeGreaterThan(before.details.margin);
    expect(() => computeFlags(p.db, { runId, smooth: -1 })).toThrow(/smoothing -1/);
  });

  it('never smooths an image dataset: its neighbouring frames are unrelated images', () => {
    p = makeProject([{ name: 'raf', source: 'rafdb', labels: [0, 0, 0, 3, 0, 0, 0, 0, 0] }]);
    const f = (i: number) => p.frame('raf', i);
    const rows: [number, Float32Array][] = [];
    for (let i = 1; i <= 9; i++) {
      const c = i === 7 ? 5 : 0;
      rows.push([f(i), nets(peaked(c, 0.9), peaked(c, 0.9), peaked(c, 0.9))]);
    }
    const runId = addRun(p.db, 3, rows);
    // as without smoothing: image 7's confident misprediction is still a flag
    expect(
      computeFlags(p.db, { runId, rule: 'all-agree', smooth: 2 })
        .flags.map((x) => x.idx)
        .sort(),
    ).toEqual([4, 7]);
  });

  it('score-threshold flags by the combined score, including frames where the networks split', () => {
    standard();
    const all = scoreRun(p.db, { rule: 'score-threshold', threshold: 0 });
    expect(all.flagged).toBe(3); // 4, 5 and 8: every frame whose consensus is not its label
    const strict = computeFlags(p.db, { rule: 'score-threshold', threshold: 0.5 });
    expect(strict.flags.map((f) => f.idx)).toEqual([4]);
    // the default keeps exactly the frames scoring at least DEFAULT_SCORE_THRESHOLD on smoothed
    // predictions, DEFAULT_UNSMOOTHED_SCORE_THRESHOLD on a frame's own (smoothing 0, the core's default)
    expect([DEFAULT_SCORE_THRESHOLD, DEFAULT_UNSMOOTHED_SCORE_THRESHOLD]).toEqual([0.15, 0.2]);
    const atLeast = (min: number, smooth: number) =>
      computeFlags(p.db, { rule: 'score-threshold', threshold: 0, smooth })
        .flags.filter((f) => f.score >= min)
        .map((f) => f.idx);
    const smoothedDefault = computeFlags(p.db, { rule: 'score-threshold', smooth: 1 }).flags.map((f) => f.idx);
    expect(smoothedDefault).toEqual(atLeast(DEFAULT_SCORE_THRESHOLD, 1));
    const byDefault = computeFlags(p.db, { rule: 'score-threshold' }).flags.map((f) => f.idx);
    const expected = atLeast(DEFAULT_UNSMOOTHED_SCORE_THRESHOLD, 0);
    expect(byDefault).toEqual(expected);
    // the two defaults differ on this run: a frame scoring between them is flagged only when smoothed
    const between = computeFlags(p.db, { rule: 'score-threshold', threshold: 0 }).flags.filter(
      (f) => f.score >= DEFAULT_SCORE_THRESHOLD && f.score < DEFAULT_UNSMOOTHED_SCORE_THRESHOLD,
    );
    expect(atLeast(DEFAULT_SCORE_THRESHOLD, 0).length - expected.length).toBe(between.length);
    // frame 5's split vote (one network dissents) and frame 8 score between them: flags at 0.15, not at 0.2
    expect(between.map((f) => f.idx).sort()).toEqual([5, 8]);
    expect(atLeast(DEFAULT_SCORE_THRESHOLD, 0)).toContain(5);
    // and it is the rule a pass uses when none is named
    const unnamed = scoreRun(p.db);
    expect(unnamed).toMatchObject({ rule: 'score-threshold', flagged: expected.length });
    expect(queuePage(p.db).items.map((i) => i.idx)).toEqual(expected);
    expect(computeFlags(p.db, { rule: 'all-agree', threshold: 0 }).flags.map((f) => f.idx)).not.toContain(5);
    expect(() => computeFlags(p.db, { rule: 'score-threshold', threshold: 2 })).toThrow(/outside \[0, 1\]/);
  });

  it("an image list's frames, never smoothed, are held to the unsmoothed default threshold", () => {
    standard('csv');
    const own = computeFlags(p.db, { rule: 'score-threshold', threshold: 0 })
      .flags.filter((f) => f.score >= DEFAULT_UNSMOOTHED_SCORE_THRESHOLD)
      .map((f) => f.idx);
    // the app and the CLI ask for smoothing ±2; an image list's frames are scored on their own
    expect(computeFlags(p.db, { rule: 'score-threshold', smooth: 2 }).flags.map((f) => f.idx)).toEqual(own);
    expect(own).not.toContain(5);
    // a threshold given is a threshold kept, smoothed or not
    expect(computeFlags(p.db, { rule: 'score-threshold', smooth: 2, threshold: 0.15 }).flags.map((f) => f.idx)).toContain(5);
  });

  it("a cross-fit's out-of-sample predictions are held to their own default threshold, smoothed or not", () => {
    const { runId } = standard();
    p.db.prepare("UPDATE runs SET kind = 'crossfit' WHERE id = ?").run(runId);
    const scores = computeFlags(p.db, { rule: 'score-threshold', threshold: 0, smooth: 2 }).flags;
    const expected = scores.filter((f) => f.score >= DEFAULT_OUT_OF_SAMPLE_SCORE_THRESHOLD).map((f) => f.idx);
    expect(computeFlags(p.db, { rule: 'score-threshold', smooth: 2 }).flags.map((f) => f.idx)).toEqual(expected);
    const unsmoothed = computeFlags(p.db, { rule: 'score-threshold', threshold: 0 }).flags;
    const own = unsmoothed.filter((f) => f.score >= DEFAULT_OUT_OF_SAMPLE_SCORE_THRESHOLD).map((f) => f.idx);
    expect(computeFlags(p.db, { rule: 'score-threshold' }).flags.map((f) => f.idx)).toEqual(own);
    // it is stricter than the in-sample defaults: frames 5 and 8 score between them and are not flags
    const between = unsmoothed.filter((f) => f.score >= DEFAULT_SCORE_THRESHOLD && f.score < DEFAULT_OUT_OF_SAMPLE_SCORE_THRESHOLD);
    expect(between.map((f) => f.idx).sort()).toEqual([5, 8]);
    expect(own).not.toContain(5);
  });

  it('confident-learning uses per-class thresholds of mean self-confidence', () => {
    standard();
    const r = computeFlags(p.db, { rule: 'confident-learning' });
    const t = r.result.thresholds!;
    // class 4 and 2 have no labelled frames, so they can never be reached
    expect(t[4]).toBe(Number.POSITIVE_INFINITY);
    expect(r.flags).toHaveLength(0);
    // relabel frame 1 to class 4 (a "clean" 4), then class 4 gets a finite threshold
    decide(p.db, { frameIds: [p.frame('v', 1)], action: 'relabel', label: 4 });
    const r2 = computeFlags(p.db, { rule: 'confident-learning' });
    expect(Number.isFinite(r2.result.thresholds![4]!)).toBe(true);
    const byIdx = new Map(r2.flags.map((f) => [f.idx, f]));
    expect(byIdx.get(4)?.suggested).toBe(4);
    expect(byIdx.get(5)?.suggested).toBe(4); // split vote still reaches t_4
    // the relabelled frame: nets say 0 above t_0, but a person's verdict is not reopened by scoring
    expect(byIdx.has(1)).toBe(false);
    expect(r2.result.suppressedByReview).toBe(1);
    expect(byIdx.get(4)!.details.clThreshold).toBeCloseTo(r2.result.thresholds![4]!, 3);
  });

  it('re-scoring replaces open flags and keeps decided ones', () => {
    standard();
    scoreRun(p.db, { rule: 'all-agree', threshold: 0 });
    const first = queuePage(p.db).items;
    decide(p.db, { frameIds: [first[1]!.frameId], action: 'exclude' });
    scoreRun(p.db, { rule: 'all-agree', threshold: 0 });
    const open = queuePage(p.db).items;
    expect(open.map((i) => i.idx)).toEqual([4]);
    expect(open[0]!.flagId).not.toBe(first[0]!.flagId);
    const decided = queuePage(p.db, { filter: { status: 'decided' } }).items;
    expect(decided.map((i) => i.flagId)).toEqual([first[1]!.flagId]);
    expect(pairCounts(p.db, 'open')).toEqual([{ given: 0, suggested: 4, n: 1 }]);
    expect(pairCounts(p.db, 'decided')).toEqual([{ given: 1, suggested: 2, n: 1 }]);
  });

  it('an accepted, relabelled or excluded frame is never flagged again by a later, more certain run', () => {
    const { runId } = standard();
    scoreRun(p.db, { rule: 'all-agree', threshold: 0 });
    const items = queuePage(p.db).items;
    expect(items.length).toBeGreaterThanOrEqual(2);
    const [a, b] = items;
    decide(p.db, { frameIds: [a!.frameId], action: 'accept' });
    decide(p.db, { frameIds: [b!.frameId], action: 'relabel', label: 3 });
    // a new run whose networks all contradict both verdicts, very confidently
    const other = addRun(p.db, 3, [
      [a!.frameId, nets(peaked(6, 0.99), peaked(6, 0.99), peaked(6, 0.99))],
      [b!.frameId, nets(peaked(5, 0.99), peaked(5, 0.99), peaked(5, 0.99))],
    ]);
    const again = scoreRun(p.db, { runId: other, threshold: 0, rule: 'all-agree' });
    expect(again.flagged).toBe(0);
    expect(again.suppressedByReview).toBe(2);
    expect(scoreRun(p.db, { runId, threshold: 0, rule: 'all-agree' }).flagged).toBe(items.length - 2);
    const open = new Set(queuePage(p.db).items.map((i) => i.frameId));
    expect(open.has(a!.frameId) || open.has(b!.frameId)).toBe(false);
    // undo reopens: the relabel is reverted and the frame can be flagged again
    undo(p.db);
    expect(scoreRun(p.db, { runId: other, threshold: 0, rule: 'all-agree' }).flagged).toBe(1);
  });

  it('a kept frame is not flagged again unless the new evidence is stronger', () => {
    const { runId } = standard();
    scoreRun(p.db, { rule: 'all-agree', threshold: 0 });
    const top = queuePage(p.db).items[0]!;
    decide(p.db, { frameIds: [top.frameId], action: 'keep' });
    const again = scoreRun(p.db, { runId, threshold: 0, rule: 'all-agree' });
    expect(again.suppressedByReview).toBe(1);
    expect(queuePage(p.db).items.map((i) => i.idx)).toEqual([8]);

    // a new run whose networks are even more certain about class 4
    const f = (i: number) => p.frame('v', i);
    const run2 = addRun(p.db, 3, [
      [f(4), nets(peaked(4, 0.99), peaked(4, 0.99), peaked(4, 0.99))],
      [f(8), nets(peaked(2, 0.3), peaked(2, 0.35), peaked(2, 0.3))],
    ]);
    const stronger = scoreRun(p.db, { runId: run2, threshold: 0, rule: 'all-agree' });
    expect(stronger.suppressedByReview).toBe(0);
    const items = queuePage(p.db).items;
    expect(items.map((i) => i.idx)).toEqual([4, 8]);
    expect(items[0]!.score).toBeGreaterThan(top.score);

    // protection follows the newest keep that is not undone: undoing the second keep falls back to
    // the first one, which was made on weaker evidence than this run's
    const weaker = addRun(p.db, 3, [[f(4), nets(peaked(4, 0.9), peaked(4, 0.9), peaked(4, 0.9))]]);
    decide(p.db, { frameIds: [items[0]!.frameId], action: 'keep' });
    expect(scoreRun(p.db, { runId: weaker, threshold: 0, rule: 'all-agree' }).flagged).toBe(0);
    undo(p.db);
    expect(scoreRun(p.db, { runId: weaker, threshold: 0, rule: 'all-agree' }).flagged).toBe(1);
  });

  it('scores the current label, skips unlabelled frames and labels outside the model', () => {
    p = makeProject([{ name: 'v', labels: [0, -1, 0] }]);
    const f = (i: number) => p.frame('v', i);
    addRun(p.db, 2, [
      [f(1), nets(peaked(3), peaked(3))],
      [f(2), nets(peaked(3), peaked(3))],
      [f(3), nets(peaked(0), peaked(0))],
    ]);
    expect(scoreRun(p.db)).toMatchObject({ scored: 2, flagged: 1 });
    decide(p.db, { frameIds: [f(1)], action: 'accept' });
    // the current label is now 3, which the networks agree with
    expect(scoreRun(p.db).flagged).toBe(0);
  });

  it('adds temporal evidence for a flicker', () => {
    p = makeProject([{ name: 'v', labels: [2, 2, 5, 2, 2] }]);
    const f = (i: number) => p.frame('v', i);
    const same = nets(peaked(2, 0.6), peaked(2, 0.6));
    addRun(
      p.db,
      2,
      [1, 2, 3, 4, 5].map((i) => [f(i), same] as [number, Float32Array]),
    );
    const r = computeFlags(p.db);
    expect(r.flags).toHaveLength(1);
    expect(r.flags[0]!.details.flicker).toBe(true);
    expect(r.flags[0]!.details.temporal).toBe(1);
    expect(r.flags[0]!.score).toBeGreaterThan(0.2);
  });
});
