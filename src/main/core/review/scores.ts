// Scores that say how likely a frame's label is wrong, from the N networks' softmax outputs.
// Pure functions: no SQL, no I/O.
//
// Inputs per frame: probs = N*C float32, network-major (probs[j*C + c] = network j's p(c)), and
// the given label y (the frame's current label).
//   p̄               mean of the N softmax vectors
//   consensus       argmax p̄ (ties go to the lowest class index)
//   allAgree        every network's own argmax equals the consensus
//   selfConfidence  p̄[y]
//   margin          p̄[consensus] - p̄[y]                         in [0, 1]; 0 when consensus = y
//   agreement       1 - mean pairwise Jensen-Shannon divergence (base 2, so each JSD is in [0, 1]);
//                   1 for a single network
//   temporal        over a video's consecutive frames (see temporalScores), 0 or 1:
//                   flicker  - the label differs from both neighbours' labels while the consensus is
//                              the same on all three frames and differs from the label;
//                   boundary - the frame lies between a label change a→b and the nearest consensus
//                              change a→b within BOUNDARY_WINDOW frames (the annotator put the
//                              boundary elsewhere than the networks did).
//
// Ranking score (one number in [0, 1], higher = more likely mislabelled):
//   score = (1 - TEMPORAL_WEIGHT) * margin * agreement + TEMPORAL_WEIGHT * temporal
// margin carries the evidence that the label is wrong, agreement discounts it when the networks
// disagree among themselves, and temporal adds a small bonus for flicker and boundary cases.
// temporal > 0 only where consensus ≠ label, so a frame whose label the ensemble prefers scores 0.
//
// Confident learning (Northcutt et al.): t_c = mean of p̄[c] over frames labelled c; a frame is a
// candidate when some k ≠ y has p̄[k] >= t_k; the suggestion is the k with the largest p̄[k]
// among those. A class with no labelled frames has t = +Infinity (never suggested).

export const TEMPORAL_WEIGHT = 0.2;
export const BOUNDARY_WINDOW = 15;

export interface FrameScores {
  consensus: number;
  allAgree: boolean;
  selfConfidence: number;
  margin: number;
  agreement: number;
  /** p̄, rounded for storage by callers as they see fit. */
  mean: Float32Array;
}

export function checkShape(probs: ArrayLike<number>, nets: number, classes: number): void {
  if (!(nets >= 1 && classes >= 2 && probs.length === nets * classes)) {
    throw new Error(`expected ${nets}x${classes} probabilities, got ${probs.length}`);
  }
}

export function meanProbs(probs: ArrayLike<number>, nets: number, classes: number): Float32Array {
  checkShape(probs, nets, classes);
  const mean = new Float32Array(classes);
  for (let j = 0; j < nets; j++) for (let c = 0; c < classes; c++) mean[c] += probs[j * classes + c]!;
  for (let c = 0; c < classes; c++) mean[c] /= nets;
  return mean;
}

/** Index of the largest of v[from .. from+len), ties to the lowest index (relative to from). */
export function argmax(v: ArrayLike<number>, from = 0, len = v.length - from): number {
  let best = 0;
  for (let c = 1; c < len; c++) if (v[from + c]! > v[from + best]!) best = c;
  return best;
}

/** Jensen-Shannon divergence in bits of two distributions (in [0, 1]). */
export function jsDivergence(p: ArrayLike<number>, pFrom: number, q: ArrayLike<number>, qFrom: number, classes: number): number {
  let js = 0;
  for (let c = 0; c < classes; c++) {
    const a = p[pFrom + c]!;
    const b = q[qFrom + c]!;
    const m = (a + b) / 2;
    if (a > 0) js += 0.5 * a * Math.log2(a / m);
    if (b > 0) js += 0.5 * b * Math.log2(b / m);
  }
  // float32 inputs can land a hair outside [0, 1]
  return Math.min(1, Math.max(0, js));
}

/** 1 - mean pairwise JSD over the N networks; 1 when N = 1. */
export function agreementOf(probs: ArrayLike<number>, nets: number, classes: number): number {
  if (nets < 2) return 1;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < nets; i++) {
    for (let j = i + 1; j < nets; j++) {
      sum += jsDivergence(probs, i * classes, probs, j * classes, classes);
      pairs++;
    }
  }
  return 1 - sum / pairs;
}

export function frameScores(probs: ArrayLike<number>, nets: number, classes: number, label: number): FrameScores {
  if (!(Number.isInteger(label) && label >= 0 && label < classes)) {
    throw new Error(`label ${label} is outside the model's ${classes} classes`);
  }
  const mean = meanProbs(probs, nets, classes);
  const consensus = argmax(mean);
  let allAgree = true;
  for (let j = 0; j < nets && allAgree; j++) if (argmax(probs, j * classes, classes) !== consensus) allAgree = false;
  const selfConfidence = mean[label]!;
  return {
    consensus,
    allAgree,
    selfConfidence,
    margin: Math.max(0, mean[consensus]! - selfConfidence),
    agreement: agreementOf(probs, nets, classes),
    mean,
  };
}

export interface TemporalFlags {
  flicker: Uint8Array;
  boundary: Uint8Array;
}

/**
 * Temporal evidence over one video's frames in index order. idx[i] is the frame index; a gap in
 * idx (missing crop, no prediction) or a label < 0 breaks the sequence, so neighbours are only
 * frames that are adjacent in the video and both labelled.
 */
export function temporalScores(
  idx: ArrayLike<number>,
  labels: ArrayLike<number>,
  consensus: ArrayLike<number>,
  window = BOUNDARY_WINDOW,
): TemporalFlags {
  const n = labels.length;
  const flicker = new Uint8Array(n);
  const boundary = new Uint8Array(n);
  let start = 0;
  while (start < n) {
    if (labels[start]! < 0) {
      start++;
      continue;
    }
    let end = start + 1;
    while (end < n && labels[end]! >= 0 && idx[end]! === idx[end - 1]! + 1) end++;
    markRun(start, end, labels, consensus, window, flicker, boundary);
    start = end;
  }
  return { flicker, boundary };
}

function markRun(
  start: number,
  end: number,
  L: ArrayLike<number>,
  K: ArrayLike<number>,
  window: number,
  flicker: Uint8Array,
  boundary: Uint8Array,
): void {
  for (let i = start + 1; i < end - 1; i++) {
    if (L[i] !== L[i - 1] && L[i] !== L[i + 1] && K[i - 1] === K[i] && K[i] === K[i + 1] && K[i] !== L[i]) flicker[i] = 1;
  }
  for (let t = start + 1; t < end; t++) {
    const a = L[t - 1]!;
    const b = L[t]!;
    if (a === b) continue;
    // nearest consensus change a→b at s (K[s-1] = a, K[s] = b), |s - t| <= window, inside the run
    let s = -1;
    for (let d = 0; d <= window && s < 0; d++) {
      for (const c of d === 0 ? [t] : [t - d, t + d]) {
        if (c > start && c < end && K[c - 1] === a && K[c] === b) {
          s = c;
          break;
        }
      }
    }
    if (s < 0 || s === t) continue;
    // s > t: frames t..s-1 carry label b but the networks still say a; s < t: frames s..t-1 the reverse
    const lo = Math.min(s, t);
    const hi = Math.max(s, t);
    for (let i = lo; i < hi; i++) if (K[i] !== L[i]) boundary[i] = 1;
  }
}

export function combinedScore(margin: number, agreement: number, temporal: number): number {
  const s = (1 - TEMPORAL_WEIGHT) * margin * agreement + TEMPORAL_WEIGHT * temporal;
  return Math.min(1, Math.max(0, s));
}

/** Accumulates confident-learning thresholds: t_c = mean p̄[c] over frames labelled c. */
export class ClassThresholds {
  private readonly sum: Float64Array;
  private readonly count: Float64Array;
  constructor(readonly classes: number) {
    this.sum = new Float64Array(classes);
    this.count = new Float64Array(classes);
  }

  add(mean: ArrayLike<number>, label: number): void {
    if (label < 0 || label >= this.classes) return;
    this.sum[label] += mean[label]!;
    this.count[label]++;
  }

  thresholds(): number[] {
    return Array.from(this.sum, (s, c) => (this.count[c]! > 0 ? s / this.count[c]! : Number.POSITIVE_INFINITY));
  }
}

/**
 * Confident-learning suggestion for one frame (Northcutt et al.'s confident joint): the frame's
 * confident class is the most probable of the classes whose probability reaches their threshold,
 * the given label included. Returns it when it is another class, else null (no class reaches its
 * threshold, or the given label is the most probable that does).
 */
export function confidentLearningSuggestion(mean: ArrayLike<number>, label: number, thresholds: ArrayLike<number>): number | null {
  let best: number | null = null;
  for (let k = 0; k < thresholds.length; k++) {
    if (!(mean[k]! >= thresholds[k]!)) continue;
    if (best === null || mean[k]! > mean[best]!) best = k;
  }
  return best === label ? null : best;
}

/**
 * Temporal smoothing of one video's predictions: each frame's per-network probabilities become the
 * mean over the frames of the same video within ±radius frame indices (frames without a prediction
 * simply do not count). Expressions change over several frames while a wrong label is often a single
 * frame or a short run, so a smoothed consensus errs less than a per-frame one. A new array; radius 0
 * returns the input.
 */
export function smoothProbs(probs: Float32Array, idx: readonly number[], nets: number, classes: number, radius: number): Float32Array {
  if (!(radius > 0) || idx.length < 2) return probs;
  const size = nets * classes;
  const out = new Float32Array(probs.length);
  const sum = new Float64Array(size);
  let lo = 0; // window [lo, hi) over positions, by frame index
  let hi = 0;
  for (let i = 0; i < idx.length; i++) {
    while (hi < idx.length && idx[hi]! <= idx[i]! + radius) {
      for (let k = 0; k < size; k++) sum[k] += probs[hi * size + k]!;
      hi++;
    }
    while (idx[lo]! < idx[i]! - radius) {
      for (let k = 0; k < size; k++) sum[k] -= probs[lo * size + k]!;
      lo++;
    }
    const n = hi - lo;
    for (let k = 0; k < size; k++) out[i * size + k] = sum[k]! / n;
  }
  return out;
}
