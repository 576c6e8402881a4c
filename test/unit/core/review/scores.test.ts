import { describe, expect, it } from 'vitest';
import {
  ClassThresholds,
  TEMPORAL_WEIGHT,
  agreementOf,
  argmax,
  combinedScore,
  confidentLearningSuggestion,
  smoothProbs,
  frameScores,
  jsDivergence,
  meanProbs,
  temporalScores,
} from '../../../../src/main/core/review/scores';
import { nets, peaked } from '../../store/fixtures';

describe('frame scores', () => {
  it('computes consensus, agreement flags, self-confidence and margin from the mean softmax', () => {
    const p = nets(peaked(4, 0.8), peaked(4, 0.6), peaked(2, 0.7));
    const s = frameScores(p, 3, 7, 2);
    const mean = meanProbs(p, 3, 7);
    expect(s.consensus).toBe(4);
    expect(s.allAgree).toBe(false);
    expect(s.selfConfidence).toBeCloseTo(mean[2]!, 6);
    expect(s.margin).toBeCloseTo(mean[4]! - mean[2]!, 6);
    expect(s.agreement).toBeGreaterThan(0);
    expect(s.agreement).toBeLessThan(1);

    const agree = frameScores(nets(peaked(4), peaked(4, 0.7), peaked(4, 0.95)), 3, 7, 0);
    expect(agree.allAgree).toBe(true);
    expect(agree.consensus).toBe(4);
    // consensus equals the label: no margin
    expect(frameScores(nets(peaked(1), peaked(1)), 2, 7, 1).margin).toBe(0);
  });

  it('breaks argmax ties toward the lowest class', () => {
    expect(argmax([0.3, 0.3, 0.1])).toBe(0);
    expect(argmax([0, 1, 0, 1], 2, 2)).toBe(1);
  });

  it('uses base-2 Jensen-Shannon divergence, so agreement spans [0, 1]', () => {
    const a = [1, 0, 0];
    const b = [0, 1, 0];
    expect(jsDivergence(a, 0, b, 0, 3)).toBeCloseTo(1, 6);
    expect(jsDivergence(a, 0, a, 0, 3)).toBe(0);
    expect(agreementOf([...a, ...b], 2, 3)).toBeCloseTo(0, 6);
    expect(agreementOf([...a, ...a, ...a], 3, 3)).toBe(1);
    expect(agreementOf(a, 1, 3)).toBe(1);
    // two one-hot nets on s, one on y: pairs (s,s)=0, (s,y)=1 twice → agreement 1/3
    expect(agreementOf([...a, ...a, ...b], 3, 3)).toBeCloseTo(1 / 3, 6);
  });

  it('rejects a label outside the classes and a wrong shape', () => {
    expect(() => frameScores(nets(peaked(0)), 1, 7, 7)).toThrow(/outside the model's 7 classes/);
    expect(() => meanProbs(new Float32Array(5), 1, 7)).toThrow(/expected 1x7/);
  });

  it('combines margin, agreement and temporal evidence into [0, 1]', () => {
    expect(combinedScore(1, 1, 1)).toBe(1);
    expect(combinedScore(0, 1, 0)).toBe(0);
    expect(combinedScore(0.5, 0.5, 0)).toBeCloseTo((1 - TEMPORAL_WEIGHT) * 0.25, 9);
    expect(combinedScore(0.5, 0.5, 1)).toBeGreaterThan(combinedScore(0.5, 0.5, 0));
  });
});

describe('temporal scores', () => {
  const idx = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

  it('marks a one-frame label flicker when the consensus is stable across it', () => {
    const L = [3, 3, 5, 3, 3];
    const K = [3, 3, 3, 3, 3];
    const t = temporalScores(idx(5), L, K);
    expect(Array.from(t.flicker)).toEqual([0, 0, 1, 0, 0]);
    // consensus moving with the label is not flicker
    expect(Array.from(temporalScores(idx(5), L, [3, 3, 5, 3, 3]).flicker)).toEqual([0, 0, 0, 0, 0]);
    // a gap in frame indices (missing crop) breaks the neighbourhood
    expect(Array.from(temporalScores([1, 2, 4, 5, 6], L, K).flicker)).toEqual([0, 0, 0, 0, 0]);
  });

  it('marks the frames between a label boundary and the consensus boundary', () => {
    // label switches 0→4 at position 3, the networks switch at 6: frames 3..5 labelled 4, consensus 0
    const L = [0, 0, 0, 4, 4, 4, 4, 4, 4];
    const K = [0, 0, 0, 0, 0, 0, 4, 4, 4];
    expect(Array.from(temporalScores(idx(9), L, K).boundary)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0]);
    // and the other way round: networks switch first
    const K2 = [0, 4, 4, 4, 4, 4, 4, 4, 4];
    expect(Array.from(temporalScores(idx(9), L, K2).boundary)).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 0]);
    // the same boundary: nothing
    expect(Array.from(temporalScores(idx(9), L, L).boundary).every((x) => x === 0)).toBe(true);
    // beyond the window: nothing
    expect(Array.from(temporalScores(idx(9), L, K, 2).boundary).every((x) => x === 0)).toBe(true);
  });

  it('ignores unlabelled frames as neighbours', () => {
    const t = temporalScores(idx(5), [3, -1, 5, 3, 3], [3, 3, 3, 3, 3]);
    expect(t.flicker[2]).toBe(0);
  });
});

describe('confident learning', () => {
  it('thresholds are the mean self-confidence per labelled class; suggests the confident class when it is not the label', () => {
    const acc = new ClassThresholds(3);
    acc.add([0.8, 0.1, 0.1], 0);
    acc.add([0.6, 0.3, 0.1], 0);
    acc.add([0.2, 0.5, 0.3], 1);
    const t = acc.thresholds();
    expect(t[0]).toBeCloseTo(0.7, 6);
    expect(t[1]).toBeCloseTo(0.5, 6);
    expect(t[2]).toBe(Number.POSITIVE_INFINITY);
    expect(confidentLearningSuggestion([0.1, 0.55, 0.35], 0, t)).toBe(1);
    expect(confidentLearningSuggestion([0.75, 0.2, 0.05], 1, t)).toBe(0);
    expect(confidentLearningSuggestion([0.6, 0.4, 0], 1, t)).toBeNull();
    // another class reaches its threshold, but so does the more probable given label: the confident class is the label
    expect(confidentLearningSuggestion([0.72, 0.55, 0], 0, t)).toBeNull();
    expect(confidentLearningSuggestion([0.45, 0.52, 0.03], 0, t)).toBe(1);
    // class 2 has no labelled frames: never suggested
    expect(confidentLearningSuggestion([0, 0, 1], 0, t)).toBeNull();
  });
});

describe('smoothProbs', () => {
  it('averages each frame over the frames within ±radius frame indices of the same video', () => {
    // 1 net, 2 classes; frames 1 2 3 and 10 (a gap: 10 has no neighbour within 2)
    const probs = new Float32Array([1, 0, 0, 1, 1, 0, 0.5, 0.5]);
    const out = smoothProbs(probs, [1, 2, 3, 10], 1, 2, 2);
    expect(Array.from(out.subarray(0, 2))).toEqual([2 / 3, 1 / 3].map(Math.fround));
    expect(Array.from(out.subarray(2, 4))).toEqual([2 / 3, 1 / 3].map(Math.fround));
    expect(Array.from(out.subarray(4, 6))).toEqual([2 / 3, 1 / 3].map(Math.fround));
    expect(Array.from(out.subarray(6, 8))).toEqual([0.5, 0.5]);
    const r1 = smoothProbs(probs, [1, 2, 3, 10], 1, 2, 1);
    expect(Array.from(r1.subarray(0, 2))).toEqual([0.5, 0.5]);
    expect(smoothProbs(probs, [1, 2, 3, 10], 1, 2, 0)).toBe(probs);
  });
});
