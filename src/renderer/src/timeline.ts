// Geometry of the review timeline: tracks as runs of equal values, the overview's buckets on the
// whole video's axis, and a click position back to a frame index. Pure, so it is unit-tested.
import type { TimelineBucket } from '../../shared/api';

export interface Run {
  x: number;
  w: number;
  v: number | null;
}

/** x of frame idx's left edge when frames from..to span `width`. */
export function xOf(idx: number, from: number, to: number, width: number): number {
  return ((idx - from) / Math.max(1, to - from + 1)) * width;
}

/** Runs of equal consecutive values (values[i] is frame from+i), so long tracks draw as a few rects. */
export function runs(values: readonly (number | null)[], width: number): Run[] {
  const out: Run[] = [];
  const n = Math.max(1, values.length);
  let start = 0;
  for (let i = 1; i <= values.length; i++) {
    if (i === values.length || values[i] !== values[start]) {
      out.push({ x: (start / n) * width, w: ((i - start) / n) * width, v: values[start] ?? null });
      start = i;
    }
  }
  return out;
}

/** One field of the overview's buckets as runs on the axis first..last (neighbouring equal buckets merged). */
export function bucketRuns(
  buckets: readonly TimelineBucket[],
  key: 'label' | 'consensus',
  first: number,
  last: number,
  width: number,
): Run[] {
  const out: Run[] = [];
  for (const b of buckets) {
    const x = xOf(b.from, first, last, width);
    const w = xOf(b.to + 1, first, last, width) - x;
    const prev = out.at(-1);
    if (prev && prev.v === b[key]) prev.w = x + w - prev.x;
    else out.push({ x, w, v: b[key] });
  }
  return out;
}

/** The frame at fraction `frac` (0 = left edge, 1 = right edge) of frames from..to. */
export function idxAt(frac: number, from: number, to: number): number {
  const i = from + Math.floor(frac * (to - from + 1));
  return Math.max(from, Math.min(to, i));
}
