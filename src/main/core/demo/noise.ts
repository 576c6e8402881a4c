// Synthetic label noise for the demo data. Pure functions: true labels in, given labels out.
//
// The number of corrupted frames is exactly round(rate * labelled frames) for every kind, so a
// requested rate is met to within one frame; which frames are picked is random (each labelled
// frame is equally likely for the frame-wise kinds), so each frame is noisy with probability ≈ rate.
//
// - symmetric: a chosen frame gets a uniformly random OTHER class.
// - pairflip: a chosen frame gets its fixed partner class, c → (c + 1) mod C
//   (ABAW-7: Neutral→Anger→Disgust→Fear→Happiness→Sadness→Surprise→Neutral).
// - segment: whole label segments (maximal runs of one true label in a track) get another class,
//   picked at random, until the target count is reached; the last few frames needed are taken as
//   a run at one end of a segment (a late or early boundary), labelled as the neighbouring segment.
//   This is how video annotations go wrong: a stretch of frames, not scattered single frames.

import type { Rng } from './rng';

export const NOISE_KINDS = ['symmetric', 'pairflip', 'segment'] as const;
export type NoiseKind = (typeof NOISE_KINDS)[number];

/** Label of a frame that is not annotated (ABAW `-1`). */
const UNLABELLED = -1;

/** Pair-flip partner: c → (c + 1) mod classes. */
export function pairPartner(label: number, classes: number): number {
  return (label + 1) % classes;
}

/** A uniformly random class other than `label`. */
export function otherClass(label: number, classes: number, rng: Rng): number {
  return (label + 1 + rng.int(0, classes - 2)) % classes;
}

/** How many labelled frames the noise model corrupts. */
export function targetNoisyCount(labelled: number, rate: number): number {
  return Math.min(labelled, Math.max(0, Math.round(labelled * rate)));
}

export interface LabelSegment {
  track: number;
  start: number;
  /** Exclusive. */
  end: number;
  label: number;
}

/** Maximal runs of one label per track, unlabelled frames excluded. */
export function labelSegments(tracks: readonly (readonly number[])[]): LabelSegment[] {
  const out: LabelSegment[] = [];
  tracks.forEach((labels, track) => {
    let k = 0;
    while (k < labels.length) {
      const label = labels[k];
      let end = k + 1;
      while (end < labels.length && labels[end] === label) end++;
      if (label !== UNLABELLED) out.push({ track, start: k, end, label });
      k = end;
    }
  });
  return out;
}

export interface NoiseResult {
  /** Given labels per track (same shape as the input). */
  given: number[][];
  noisy: number;
  labelled: number;
}

/**
 * Corrupts labels of the given tracks (true labels, -1 for unannotated frames, which stay -1).
 * `classes` is the number of classes (7 for ABAW-7).
 */
export function applyLabelNoise(tracks: readonly (readonly number[])[], kind: NoiseKind, rate: number, rng: Rng, classes = 7): NoiseResult {
  if (!NOISE_KINDS.includes(kind)) throw new Error(`unknown noise kind "${kind}" (expected ${NOISE_KINDS.join(', ')})`);
  if (!(rate >= 0 && rate <= 1)) throw new Error(`noise rate must be between 0 and 1, got ${rate}`);
  if (classes < 2) throw new Error(`noise needs at least 2 classes, got ${classes}`);
  const given = tracks.map((t) => t.slice());
  const positions: Array<[number, number]> = [];
  given.forEach((labels, t) => labels.forEach((l, k) => l !== UNLABELLED && positions.push([t, k])));
  const labelled = positions.length;
  const target = targetNoisyCount(labelled, rate);
  if (target === 0) return { given, noisy: 0, labelled };

  if (kind === 'segment') {
    return { given, noisy: segmentNoise(tracks, given, target, rng, classes), labelled };
  }
  // Partial Fisher-Yates: the first `target` positions are a uniform random subset.
  for (let i = 0; i < target; i++) {
    const j = i + Math.floor(rng.next() * (labelled - i));
    const tmp = positions[i];
    positions[i] = positions[j];
    positions[j] = tmp;
    const [t, k] = positions[i];
    const c = given[t][k];
    given[t][k] = kind === 'pairflip' ? pairPartner(c, classes) : otherClass(c, classes, rng);
  }
  return { given, noisy: target, labelled };
}

function segmentNoise(truth: readonly (readonly number[])[], given: number[][], target: number, rng: Rng, classes: number): number {
  const segments = rng.shuffle(labelSegments(truth));
  const flipped = new Set<LabelSegment>();
  let noisy = 0;
  for (const seg of segments) {
    const len = seg.end - seg.start;
    if (noisy + len > target) continue;
    const c = otherClass(seg.label, classes, rng);
    for (let k = seg.start; k < seg.end; k++) given[seg.track][k] = c;
    flipped.add(seg);
    noisy += len;
    if (noisy === target) return noisy;
  }
  // Top up with a boundary error: a run at one end of an untouched segment takes its neighbour's label.
  const rest = segments.filter((s) => !flipped.has(s));
  for (const seg of rest) {
    const deficit = target - noisy;
    if (deficit <= 0) break;
    const len = seg.end - seg.start;
    const n = Math.min(deficit, len);
    const atStart = rng.chance(0.5);
    const labels = given[seg.track];
    const neighbour = atStart ? labels[seg.start - 1] : labels[seg.end];
    const c =
      neighbour !== undefined && neighbour !== UNLABELLED && neighbour !== seg.label ? neighbour : otherClass(seg.label, classes, rng);
    const from = atStart ? seg.start : seg.end - n;
    for (let k = from; k < from + n; k++) labels[k] = c;
    noisy += n;
  }
  return noisy;
}
