import { describe, expect, it } from 'vitest';
import { applyLabelNoise, labelSegments, NOISE_KINDS, pairPartner, targetNoisyCount } from '../../../../src/main/core/demo/noise';
import { createRng } from '../../../../src/main/core/demo/rng';

/** Tracks of label segments (lengths 10-40) with a few unannotated runs. */
function makeTracks(seed: number, count: number, frames: number): number[][] {
  const rng = createRng(seed, 'tracks');
  return Array.from({ length: count }, () => {
    const labels: number[] = [];
    let prev = -1;
    while (labels.length < frames) {
      let c = rng.int(0, 6);
      if (c === prev) c = (c + 1) % 7;
      labels.push(...new Array<number>(rng.int(10, 40)).fill(c));
      prev = c;
    }
    labels.length = frames;
    if (rng.chance(0.5)) labels.fill(-1, 5, 12);
    return labels;
  });
}

function countDiff(a: number[][], b: number[][]): number {
  let n = 0;
  a.forEach((t, i) => t.forEach((l, k) => (n += l !== b[i][k] ? 1 : 0)));
  return n;
}

describe('applyLabelNoise', () => {
  const tracks = makeTracks(7, 8, 150);
  const labelled = tracks.flat().filter((l) => l >= 0).length;

  for (const kind of NOISE_KINDS) {
    for (const rate of [0, 0.1, 0.3, 0.5]) {
      it(`${kind} at ${rate} corrupts round(rate x labelled) frames and leaves -1 alone`, () => {
        const r = applyLabelNoise(tracks, kind, rate, createRng(3, kind));
        expect(r.labelled).toBe(labelled);
        expect(r.noisy).toBe(targetNoisyCount(labelled, rate));
        expect(countDiff(tracks, r.given)).toBe(r.noisy);
        tracks.forEach((t, i) =>
          t.forEach((l, k) => {
            if (l === -1) expect(r.given[i][k]).toBe(-1);
            else expect(r.given[i][k]).toBeGreaterThanOrEqual(0);
            expect(r.given[i][k]).toBeLessThan(7);
          }),
        );
        expect(tracks[0]).not.toBe(r.given[0]); // input not mutated in place
      });
    }
  }

  it('pairflip maps every corrupted frame to (c + 1) mod 7', () => {
    const r = applyLabelNoise(tracks, 'pairflip', 0.4, createRng(1, 'p'));
    tracks.forEach((t, i) => t.forEach((l, k) => r.given[i][k] !== l && expect(r.given[i][k]).toBe(pairPartner(l, 7))));
    expect(pairPartner(6, 7)).toBe(0);
  });

  it('symmetric noise uses several other classes, roughly uniformly', () => {
    const r = applyLabelNoise(tracks, 'symmetric', 0.5, createRng(1, 's'));
    const offsets = new Array(7).fill(0);
    tracks.forEach((t, i) => t.forEach((l, k) => r.given[i][k] !== l && offsets[(r.given[i][k] - l + 7) % 7]++));
    expect(offsets[0]).toBe(0);
    const total = offsets.reduce((a, b) => a + b, 0);
    for (let d = 1; d < 7; d++) expect(offsets[d] / total).toBeGreaterThan(0.1); // 1/6 each ideally
  });

  it('frame-wise noise is scattered, segment noise comes in long runs', () => {
    const runs = (kind: 'symmetric' | 'segment'): number => {
      const r = applyLabelNoise(tracks, kind, 0.3, createRng(5, kind));
      let n = 0;
      tracks.forEach((t, i) =>
        t.forEach((l, k) => {
          const wrong = r.given[i][k] !== l;
          const prevWrong = k > 0 && r.given[i][k - 1] !== t[k - 1];
          if (wrong && !prevWrong) n++;
        }),
      );
      return r.noisy / n; // mean run length
    };
    expect(runs('symmetric')).toBeLessThan(2);
    expect(runs('segment')).toBeGreaterThan(8);
  });

  it('segment noise relabels whole true segments except at most one partial run per top-up', () => {
    const r = applyLabelNoise(tracks, 'segment', 0.3, createRng(9, 'seg'));
    let partial = 0;
    for (const s of labelSegments(tracks)) {
      const given = r.given[s.track].slice(s.start, s.end);
      const wrong = given.filter((g) => g !== s.label).length;
      if (wrong > 0 && wrong < given.length) partial++;
      if (wrong === given.length) expect(new Set(given).size).toBe(1); // one new class per segment
    }
    expect(partial).toBeLessThanOrEqual(1);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = applyLabelNoise(tracks, 'symmetric', 0.3, createRng(1, 'x')).given;
    const b = applyLabelNoise(tracks, 'symmetric', 0.3, createRng(1, 'x')).given;
    const c = applyLabelNoise(tracks, 'symmetric', 0.3, createRng(2, 'x')).given;
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('rejects bad input with the reason', () => {
    expect(() => applyLabelNoise(tracks, 'bogus' as never, 0.3, createRng(1))).toThrow(/unknown noise kind "bogus"/);
    expect(() => applyLabelNoise(tracks, 'symmetric', 1.5, createRng(1))).toThrow(/between 0 and 1/);
  });

  it('labelSegments finds maximal runs and skips -1', () => {
    expect(labelSegments([[0, 0, -1, -1, 2, 2, 2, 0]])).toEqual([
      { track: 0, start: 0, end: 2, label: 0 },
      { track: 0, start: 4, end: 7, label: 2 },
      { track: 0, start: 7, end: 8, label: 0 },
    ]);
  });
});
