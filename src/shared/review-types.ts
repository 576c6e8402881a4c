// The results of the review and export requests (review.queue, review.frame, review.decide,
// review.counts, flags.score's and export.run's job results, ...): part of THE contract in
// ./api.ts, which re-exports every type here; kept apart so api.ts stays one screenful of requests.
import type { DegenerateVerdict } from './degenerate';
import type { ReviewAction } from './api';

export interface QueueItem {
  flagId: number;
  frameId: number;
  video: string;
  split: string;
  idx: number;
  given: number;
  suggested: number;
  current: number;
  original: number;
  score: number;
  allAgree: boolean;
  rule: string;
  status: 'open' | 'decided';
  /** per-network probability of the suggested class, for the small bars */
  netProbs: number[];
  /** with review.queue's `detail`: the scoring run, the video's id and the crop's path */
  runId?: number;
  videoId?: number;
  imagePath?: string;
}

export interface QueuePage {
  items: QueueItem[];
  next: { score: number; id: number } | null;
  total: number;
}

/** A frame a person decided: the action that stands (not undone) and its labels (glossary above). */
export interface DecidedFrame {
  frameId: number;
  video: string;
  split: string;
  idx: number;
  action: Exclude<ReviewAction, 'skip'>;
  /** the label the imported file gave */
  original: number;
  /** the label after review (what an export writes; -1 when excluded) */
  current: number;
  decidedAt: string;
  actor: string | null;
}

export interface DecisionsPage {
  items: DecidedFrame[];
  /** pass as `before` for the next page (null at the end) */
  next: number | null;
  /** decided frames in all */
  total: number;
}

export interface PairCount {
  given: number;
  suggested: number;
  count: number;
}

/** Frames from..to of a video, downsampled: counts are exact, label and consensus a majority of samples. */
export interface TimelineBucket {
  from: number;
  to: number;
  frames: number;
  /** majority current label of up to 8 evenly spaced frames of the bucket (all of them when it has at most 8) */
  label: number | null;
  /** majority consensus of the same frames; null where the run predicted none of them */
  consensus: number | null;
  /** frames with an open flag */
  flagged: number;
  /** frames with a decided flag */
  decided: number;
}

/** The review timeline of a frame's video, bounded in size whatever the video's length. */
export interface FrameTimeline {
  /** the video's first and last frame idx, and its frame count */
  first: number;
  last: number;
  frames: number;
  /** frames from..to around this one (clipped at the video's ends); labels[i] and consensus[i] are frame from+i's */
  window: { from: number; to: number; labels: (number | null)[]; consensus: (number | null)[]; flagged: number[] };
  /** the whole video in at most 500 contiguous buckets, in frame order */
  overview: TimelineBucket[];
}

export interface FrameDetail {
  frameId: number;
  video: string;
  split: string;
  idx: number;
  original: number;
  current: number;
  hasFace: boolean;
  /** probs[net][class] */
  probs: number[][] | null;
  consensus: number | null;
  flag: QueueItem | null;
  neighbours: { frameId: number; idx: number; current: number; consensus: number | null; flagged: boolean }[];
  /** a window of per-frame tracks around the frame and a downsampled whole video; null if not asked for */
  timeline: FrameTimeline | null;
  history: { action: string; before: number; after: number; at: string }[];
}

export interface SegmentItem {
  video: string;
  start: number;
  end: number;
  given: number;
  suggested: number;
  frameIds: number[];
  score: number;
}

/** One frame's label before → after a decision (or its undo/redo). */
export interface FrameChange {
  frameId: number;
  before: number;
  after: number;
}

/** A decision group, as review.decide/undo/redo reply with it when asked for `detail`. */
export interface DecisionDetail {
  groupId?: number;
  action?: ReviewAction;
  changes?: FrameChange[];
}

export interface DecideResult extends DecisionDetail {
  decided: number;
  groupId: number;
}

export interface ReviewCounts {
  flagged: number;
  reviewed: number;
  remaining: number;
  /** the run the flags came from, and whether it learned anything (null before any scoring) */
  run: { id: number; degenerate: DegenerateVerdict | null } | null;
}

/** What a flags.score job ends with (its job.done result). */
export interface ScoreSummary {
  runId: number;
  flagged: number;
  scored: number;
  rule: string;
  /** set when the run learned nothing usable: these flags are no better than chance */
  degenerate: DegenerateVerdict | null;
  /** with flags.score's `detail`: candidates left out because a reviewer kept them */
  suppressedByReview?: number;
  /** with `detail`: frames skipped because their label is outside the model's classes */
  outOfRange?: number;
  /** with `detail`: the per-class thresholds (confident-learning) */
  thresholds?: number[];
}

/** What an export.run job ends with (its job.done result). */
export interface ExportResult {
  format: string;
  paths: string[];
  summary: Record<string, unknown>;
  /** the folder written (absolute) */
  outDir?: string;
  /** the exports table row that records this export */
  exportId?: number;
}

export interface ExportPreview {
  changes: number;
  pairs: PairCount[];
  sample: { video: string; idx: number; original: number; cleaned: number; action: string }[];
}
