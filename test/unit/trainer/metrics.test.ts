import { describe, expect, it } from 'vitest';
import { argmaxRows, confusionMatrix, evaluate, f1FromConfusion, overallScore } from '../../../src/trainer/metrics';

describe('confusionMatrix', () => {
  it('counts true × predicted and skips -1', () => {
    const m = confusionMatrix([0, 0, 1, 1, 2, -1], [0, 1, 1, 1, 0, 2], 3);
    expect(m).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 0],
    ]);
  });

  it('rejects mismatched lengths and out-of-range labels', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/2 labels but yPred has 1/);
    expect(() => confusionMatrix([0, 7], [0, 1], 7)).toThrow(/true label 7 at index 1/);
    expect(() => confusionMatrix([0, 1], [0, -1], 7)).toThrow(/predicted label -1 at index 1/);
  });
});

describe('evaluate', () => {
  // Hand case, C = 4: frames (t,p) = (0,0) (0,1) (1,1) (1,1) (2,0), one unlabelled frame; class 3 absent.
  // class 0: TP 1, 2 true, 2 predicted → F1 = 2/4; class 1: TP 2, 2 true, 3 predicted → 4/5;
  // class 2: 1 true, 0 predicted → 0; class 3: nothing true or predicted → zero-division rule.
  const yTrue = new Int32Array([0, 0, 1, 1, 2, -1]);
  const yPred = [0, 1, 1, 1, 0, 2];

  it('pools all frames; absent class counts as F1 0 by default (sklearn zero_division=0)', () => {
    const r = evaluate(yTrue, yPred, 4);
    expect(r.count).toBe(5);
    expect(r.accuracy).toBeCloseTo(0.6, 12);
    expect(r.perClassF1).toEqual([0.5, 0.8, 0, 0]);
    expect(r.macroF1).toBeCloseTo(0.325, 12);
    expect(r.overall).toBeCloseTo(0.67 * 0.325 + 0.33 * 0.6, 12);
    expect(r.overall).toBeCloseTo(0.41575, 12);
    expect(r.support).toEqual([2, 2, 1, 0]);
    expect(r.confusion[3]).toEqual([0, 0, 0, 0]);
  });

  it('zeroDivision: 1 scores an absent class as 1', () => {
    const r = evaluate(yTrue, yPred, 4, { zeroDivision: 1 });
    expect(r.perClassF1).toEqual([0.5, 0.8, 0, 1]);
    expect(r.macroF1).toBeCloseTo(0.575, 12);
    expect(r.overall).toBeCloseTo(0.58325, 12);
  });

  it('a class predicted but never true scores 0 under either rule', () => {
    for (const zd of [0, 1] as const) {
      const r = evaluate([0, 0], [0, 1], 2, { zeroDivision: zd });
      expect(r.perClassF1[1]).toBe(0);
      expect(r.perClassF1[0]).toBeCloseTo(2 / 3, 12);
      expect(r.macroF1).toBeCloseTo(1 / 3, 12);
      expect(r.accuracy).toBe(0.5);
    }
  });

  it('perfect predictions score 1 and an all-unlabelled set scores 0 with count 0', () => {
    const r = evaluate([0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5, 6], 7);
    expect(r.macroF1).toBe(1);
    expect(r.accuracy).toBe(1);
    expect(r.overall).toBeCloseTo(1, 12);
    const empty = evaluate([-1, -1], [3, 4], 7);
    expect(empty.count).toBe(0);
    expect(empty.accuracy).toBe(0);
    expect(empty.macroF1).toBe(0);
  });

  it('differs from averaging per-batch F1 (the authors-code bug)', () => {
    const t = [0, 0, 1, 1];
    const p = [0, 0, 0, 1];
    const pooled = evaluate(t, p, 2).macroF1;
    const perBatch = (evaluate(t.slice(0, 2), p.slice(0, 2), 2).macroF1 + evaluate(t.slice(2), p.slice(2), 2).macroF1) / 2;
    expect(pooled).toBeCloseTo((0.8 + 2 / 3) / 2, 12);
    expect(perBatch).not.toBeCloseTo(pooled, 3);
  });

  it('supports ABAW-8 (Other = class 7)', () => {
    const r = evaluate([7, 7, 0], [7, 0, 0], 8);
    expect(r.perClassF1[7]).toBeCloseTo(2 / 3, 12);
    expect(r.perClassF1.length).toBe(8);
  });
});

describe('helpers', () => {
  it('overallScore and f1FromConfusion', () => {
    expect(overallScore(0.404, 0.638)).toBeCloseTo(0.48122, 5);
    expect(
      f1FromConfusion(
        [
          [0, 0],
          [0, 0],
        ],
        0,
      ),
    ).toEqual([0, 0]);
    expect(
      f1FromConfusion(
        [
          [0, 0],
          [0, 0],
        ],
        1,
      ),
    ).toEqual([1, 1]);
  });

  it('argmaxRows picks the first maximum per row', () => {
    expect([...argmaxRows([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0, 0, 1], 3)]).toEqual([1, 0, 2]);
    expect(() => argmaxRows([1, 2, 3], 2)).toThrow(/not a multiple/);
  });
});
