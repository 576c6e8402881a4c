// The review timeline's geometry: the overview's buckets on the whole video's axis, the window's
// per-frame runs, and clicks back to frame indices.
import { describe, expect, it } from 'vitest';
import type { TimelineBucket } from '../../../src/shared/api';
import { bucketRuns, idxAt, runs, xOf } from '../../../src/renderer/src/timeline';

const bucket = (from: number, to: number, label: number | null, consensus: number | null): TimelineBucket => ({
  from,
  to,
  frames: to - from + 1,
  label,
  consensus,
  flagged: 0,
  decided: 0,
});

describe('timeline geometry', () => {
  it('lays the overview buckets over the whole video, merging neighbours of one class', () => {
    // a 2.5M-frame video in buckets of 5000: the track spans the width, edge to edge
    const buckets = [bucket(1, 5000, 2, 2), bucket(5001, 10_000, 2, 4), bucket(10_001, 12_345, 3, null)];
    const labels = bucketRuns(buckets, 'label', 1, 12_345, 600);
    expect(labels.map((r) => r.v)).toEqual([2, 3]);
    expect(labels[0]!.x).toBe(0);
    expect(labels[1]!.x + labels[1]!.w).toBeCloseTo(600, 9);
    expect(labels[0]!.w).toBeCloseTo((10_000 / 12_345) * 600, 9);
    expect(bucketRuns(buckets, 'consensus', 1, 12_345, 600).map((r) => r.v)).toEqual([2, 4, null]);
  });

  it('draws the window frame by frame and maps clicks back to frames of the window or the video', () => {
    expect(runs([0, 0, 1, null, null], 500)).toEqual([
      { x: 0, w: 200, v: 0 },
      { x: 200, w: 100, v: 1 },
      { x: 300, w: 200, v: null },
    ]);
    // the overview: a click at the left edge is the first frame, at the right edge the last
    expect(idxAt(0, 1, 2_500_000)).toBe(1);
    expect(idxAt(0.5, 1, 2_500_000)).toBe(1_250_001);
    expect(idxAt(1, 1, 2_500_000)).toBe(2_500_000);
    // the window 9750..10250: clicks stay inside it
    expect(idxAt(-0.1, 9750, 10_250)).toBe(9750);
    expect(idxAt(0.999, 9750, 10_250)).toBe(10_250);
    expect(xOf(10_000, 9750, 10_250, 501)).toBe(250);
  });
});
