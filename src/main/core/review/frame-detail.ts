// One frame for the review panel: its labels, every network's softmax, the consensus, its flags and
// decisions, its neighbours, and its video's timeline: a per-frame window around it plus a
// downsampled overview of the whole video, both bounded in size and work whatever the length.
// The store returns raw probabilities; the consensus (mean softmax argmax) is computed here.
import type { FrameTimeline, TimelineBucket } from '../../../shared/api';
import type { Db } from '../../../store/db';
import { frameInfo, type FrameInfo } from '../../../store/dataset';
import { decisionsOfFrame, type DecisionRow } from '../../../store/decisions';
import { currentFlagOf, flagsOfFrame, openFlaggedIdx, type FlagRow, type FlagStatus } from '../../../store/flags';
import { framesWithPredictions, latestPredictedRun, type FramePrediction } from '../../../store/predictions';
import {
  bucketCounts,
  bucketCountsGrouped,
  sampleFrames,
  strideFrames,
  trackFrames,
  videoIdxRange,
  type SampledFrame,
} from '../../../store/timeline';
import { argmax, meanProbs } from './scores';

/** The overview has at most this many buckets (a timeline is a few hundred pixels wide). */
export const OVERVIEW_BUCKETS = 500;
/** Up to this many frames the overview's samples come from one strided range scan, beyond it from point lookups. */
const STRIDE_SCAN_MAX = 200_000;
/** Default half-width of the per-frame window. */
export const TIMELINE_WINDOW = 250;

export interface NeighbourFrame {
  frameId: number;
  idx: number;
  hasFace: boolean;
  original: number;
  current: number;
  /** Ensemble argmax, null without a prediction. */
  consensus: number | null;
  flag: { id: number; status: FlagStatus; suggested: number; score: number } | null;
  imagePath: string;
}

/** A frame (the store's FrameInfo) with its predictions, consensus, flags, decisions and neighbours. */
export interface FrameRecordDetail extends FrameInfo {
  runId: number | null;
  /** probs[j] = network j's softmax; empty without a prediction. */
  probs: number[][];
  mean: number[] | null;
  consensus: number | null;
  flags: FlagRow[];
  decisions: DecisionRow[];
  neighbours: NeighbourFrame[];
}

/** The ensemble's class: argmax of the networks' mean softmax. */
function consensusOf(p: FramePrediction): { mean: Float32Array; consensus: number } {
  const mean = meanProbs(p.probs, p.nets, p.classes);
  return { mean, consensus: argmax(mean) };
}

export function frameDetail(db: Db, frameId: number, opts: { context?: number; runId?: number } = {}): FrameRecordDetail {
  const k = opts.context ?? 4;
  const f = frameInfo(db, frameId);
  if (!f) throw new Error(`frame ${frameId} does not exist`);
  const flags = flagsOfFrame(db, frameId);
  const runId = opts.runId ?? flags.find((x) => x.status === 'open')?.run_id ?? flags[0]?.run_id ?? latestPredictedRun(db)?.id ?? null;
  let probs: number[][] = [];
  let mean: number[] | null = null;
  let consensus: number | null = null;
  const neighbours: NeighbourFrame[] = [];
  for (const n of framesWithPredictions(db, runId, f.videoId, f.idx - k, f.idx + k)) {
    const c = n.prediction && consensusOf(n.prediction);
    if (n.frameId === frameId) {
      if (n.prediction && c) {
        const { nets, classes, probs: p } = n.prediction;
        probs = Array.from({ length: nets }, (_, j) => Array.from(p.subarray(j * classes, (j + 1) * classes)));
        mean = Array.from(c.mean);
        consensus = c.consensus;
      }
      continue;
    }
    const fl = currentFlagOf(db, n.frameId);
    neighbours.push({
      frameId: n.frameId,
      idx: n.idx,
      hasFace: n.hasFace,
      original: n.original,
      current: n.current,
      consensus: c?.consensus ?? null,
      flag: fl ? { id: fl.id, status: fl.status, suggested: fl.suggested, score: fl.score } : null,
      imagePath: n.imagePath,
    });
  }
  return {
    frameId,
    videoId: f.videoId,
    video: f.video,
    split: f.split,
    idx: f.idx,
    hasFace: f.hasFace,
    imagePath: f.imagePath,
    original: f.original,
    current: f.current,
    labelSet: f.labelSet,
    runId,
    probs,
    mean,
    consensus,
    flags,
    decisions: decisionsOfFrame(db, frameId),
    neighbours,
  };
}

/** The most frequent value (the smallest on a tie); null when there is none. */
function majority(values: readonly number[]): number | null {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | null = null;
  let bestN = 0;
  for (const [v, n] of counts) if (n > bestN || (n === bestN && best !== null && v < best)) [best, bestN] = [v, n];
  return best;
}

/** The frame of [from, to] that stands for its bucket in the overview: the middle one. */
function middle(from: number, to: number): number {
  return from + Math.floor((to - from + 1) / 2);
}

/**
 * The whole video in at most OVERVIEW_BUCKETS buckets: exact counts, label and consensus from the
 * sampled frames (every frame when `all` is given: a short video is read in one range instead).
 */
function overview(
  db: Db,
  videoId: number,
  runId: number | null,
  range: { first: number; last: number; frameCount: number },
  all: SampledFrame[] | null,
): TimelineBucket[] {
  const { first, last } = range;
  const size = Math.ceil((last - first + 1) / OVERVIEW_BUCKETS);
  // idx is unique per video, so as many frames as the span means no gaps (an import writes 1..frame_count)
  const contiguous = range.frameCount === last - first + 1;
  const short = last - first + 1 <= STRIDE_SCAN_MAX;
  const counts =
    short && contiguous
      ? bucketCountsGrouped(db, videoId, { first, last, size })
      : bucketCounts(db, videoId, { first, last, size, contiguous });
  const labels = counts.map((): number[] => []);
  const consensus = counts.map((): number[] => []);
  const offset = middle(0, size - 1);
  const samples =
    all ??
    (short
      ? strideFrames(db, videoId, runId, { first, last, size, offset })
      : sampleFrames(
          db,
          videoId,
          runId,
          counts.map((b) => middle(b.from, b.to)),
        ));
  for (const s of samples) {
    const k = Math.floor((s.idx - first) / size);
    labels[k]!.push(s.current);
    if (s.prediction) consensus[k]!.push(consensusOf(s.prediction).consensus);
  }
  return counts.map((b, k) => ({ ...b, label: majority(labels[k]!), consensus: majority(consensus[k]!) }));
}

/**
 * A frame's video timeline: per-frame label and consensus tracks and open flags for the frames
 * within `half` of idx (clipped at the video's ends), and the downsampled whole video.
 */
export function frameTimeline(db: Db, videoId: number, runId: number | null, idx: number, half = TIMELINE_WINDOW): FrameTimeline {
  const range = videoIdxRange(db, videoId);
  if (!range) throw new Error(`video ${videoId} has no frames`);
  const { first, last } = range;
  const from = Math.max(first, idx - half);
  const to = Math.min(last, idx + half);
  // up to this length every frame is a sample anyway, and one range read beats that many lookups
  const all = last - first + 1 <= OVERVIEW_BUCKETS ? trackFrames(db, videoId, runId, first, last) : null;
  const labels: (number | null)[] = new Array<number | null>(to - from + 1).fill(null);
  const consensus: (number | null)[] = new Array<number | null>(to - from + 1).fill(null);
  for (const r of all ?? trackFrames(db, videoId, runId, from, to)) {
    if (r.idx < from || r.idx > to) continue;
    labels[r.idx - from] = r.current;
    consensus[r.idx - from] = r.prediction ? consensusOf(r.prediction).consensus : null;
  }
  const buckets = overview(db, videoId, runId, range, all);
  return {
    first,
    last,
    frames: buckets.reduce((n, b) => n + b.frames, 0),
    window: { from, to, labels, consensus, flagged: openFlaggedIdx(db, videoId, from, to) },
    overview: buckets,
  };
}
