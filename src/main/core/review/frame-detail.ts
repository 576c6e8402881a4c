// One frame for the review panel: its labels, every network's softmax, the consensus, its flags and
// decisions, its neighbours, and the whole video's label and consensus tracks for the timeline.
// The store returns raw probabilities; the consensus (mean softmax argmax) is computed here.
import type { Db } from '../../../store/db';
import { frameInfo, type FrameInfo } from '../../../store/dataset';
import { decisionsOfFrame, type DecisionRow } from '../../../store/decisions';
import { currentFlagOf, flagsOfFrame, openFlaggedIdx, type FlagRow, type FlagStatus } from '../../../store/flags';
import { framesWithPredictions, latestPredictedRun, videoLabelTrack, type FramePrediction } from '../../../store/predictions';
import { argmax, meanProbs } from './scores';

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

/**
 * A whole video's label track against the consensus track, for the review timeline. Arrays are
 * indexed by frame idx-1; consensus is null where the run has no prediction.
 */
export function videoTimeline(
  db: Db,
  videoId: number,
  runId: number | null,
): { labels: number[]; consensus: (number | null)[]; flagged: number[] } {
  const labels: number[] = [];
  const consensus: (number | null)[] = [];
  for (const r of videoLabelTrack(db, videoId, runId)) {
    labels[r.idx - 1] = r.label;
    consensus[r.idx - 1] = r.prediction ? consensusOf(r.prediction).consensus : null;
  }
  return { labels, consensus, flagged: openFlaggedIdx(db, videoId) };
}
