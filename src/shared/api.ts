// THE contract between the UI and the core: every request, its payload and result, every event,
// every job kind. The Electron preload, the HTTP/WebSocket host and the CLI are thin transports
// over it; their runtime names (methods, events, channels) are in ./contract.ts.
//
// The label words, one meaning each:
//   original  a frame's label as first imported from the annotation file (never changes)
//   current   a frame's label after the latest decision (= original until one is made)
//   given     a flag's label: the frame's current label when the flag was scored (so = original on
//             a first pass, and the cleaned label after a retrain)
//   suggested the class the networks agree on instead of the given label
//   decision  an audit row: action accept | relabel | keep | exclude | skip, label before → after
//             (undo/redo append rows too); the rule for "after" is ./decisions.ts's labelAfter
import { z } from 'zod';

export interface Progress {
  phase: string;
  done: number;
  total: number;
  /** items per second */
  rate: number;
  etaSeconds: number | null;
  item?: string;
}

export const ReviewAction = z.enum(['accept', 'relabel', 'keep', 'exclude', 'skip']);
export type ReviewAction = z.infer<typeof ReviewAction>;

export const FlagRule = z.enum(['all-agree', 'confident-learning', 'score-threshold']);
export type FlagRule = z.infer<typeof FlagRule>;

export const QueueFilter = z
  .object({
    video: z.string().optional(),
    split: z.string().optional(),
    given: z.number().int().min(-1).max(7).optional(),
    suggested: z.number().int().min(0).max(7).optional(),
    minScore: z.number().optional(),
    maxScore: z.number().optional(),
    rule: FlagRule.optional(),
    status: z.enum(['open', 'decided', 'all']).optional(),
  })
  .strict();
export type QueueFilter = z.infer<typeof QueueFilter>;

const relPath = z.string().min(1).max(4096);

/** Every request: name → [payload schema, result type]. */
export const requests = {
  'project.info': z.object({}).strict(),
  'import.abaw': z.object({ annotations: relPath, frames: relPath, videos: relPath.optional(), verify: z.boolean().optional() }).strict(),
  'import.video': z.object({ videos: relPath, annotations: relPath }).strict(),
  'import.images': z.object({ list: relPath, root: relPath, format: z.enum(['rafdb', 'affectnet', 'csv']) }).strict(),
  'jobs.list': z.object({}).strict(),
  'jobs.cancel': z.object({ jobId: z.string() }).strict(),
  'train.start': z
    .object({
      kind: z.enum(['train', 'finetune', 'pretrain']).default('train'),
      config: z.record(z.string(), z.unknown()).default({}),
      fromRun: z.number().int().optional(),
      resumeRun: z.number().int().optional(),
    })
    .strict(),
  'train.pause': z.object({ jobId: z.string() }).strict(),
  /** Pretrain on the project's image lists, then finetune from that run on its video frames: one train.pretrain job. */
  'train.pretrainFinetune': z
    .object({
      config: z.record(z.string(), z.unknown()).default({}),
      /** the image-list sources to pretrain on (default all: rafdb, affectnet, csv) */
      sources: z
        .array(z.enum(['rafdb', 'affectnet', 'csv']))
        .min(1)
        .optional(),
      /** the pretrain's epochs, when not config.epochs (the finetune's) */
      pretrainEpochs: z.number().int().min(1).optional(),
      /** stop after the pretrain */
      skipFinetune: z.boolean().optional(),
      /** resume the pretrain (the latest run, or resumeRun) */
      resume: z.boolean().optional(),
      resumeRun: z.number().int().optional(),
    })
    .strict(),
  'train.resume': z.object({ jobId: z.string() }).strict(),
  'runs.list': z.object({}).strict(),
  'runs.metrics': z.object({ runId: z.number().int() }).strict(),
  'infer.start': z.object({ runId: z.number().int().optional() }).strict(),
  'flags.score': z
    .object({
      runId: z.number().int().optional(),
      rule: FlagRule.optional(),
      threshold: z.number().optional(),
      /** Score on predictions averaged over ±smooth frames of the video (0: per frame). */
      smooth: z.number().int().min(0).max(100).optional(),
      /** end with the whole scoring result (ScoreSummary's optional fields too) */
      detail: z.boolean().optional(),
    })
    .strict(),
  'review.queue': z
    .object({
      filter: QueueFilter.default({}),
      after: z.object({ score: z.number(), id: z.number().int() }).optional(),
      limit: z.number().int().min(1).max(1000).default(100),
      /** also reply with each item's runId, videoId and imagePath */
      detail: z.boolean().optional(),
    })
    .strict(),
  'review.pairs': z.object({ status: z.enum(['open', 'decided', 'all']).optional() }).strict(),
  'review.frame': z.object({ frameId: z.number().int(), context: z.number().int().min(0).max(50).default(4) }).strict(),
  'review.segments': z.object({ filter: QueueFilter.default({}), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
  'review.decide': z
    .object({
      frameIds: z.array(z.number().int()).min(1).max(100_000),
      action: ReviewAction,
      label: z.number().int().min(0).max(7).optional(),
      /** also reply with the group's action and per-frame changes (DecideResult.changes) */
      detail: z.boolean().optional(),
    })
    .strict(),
  /** Resolve a `VIDEO:FRAME` reference (FRAME 1-based, as in the annotation file) to a frame id. */
  'review.frameId': z.object({ ref: z.string().min(1).max(4096) }).strict(),
  /** `detail`: also reply with the reverted group (groupId, action, changes). */
  'review.undo': z.object({ detail: z.boolean().optional() }).strict(),
  'review.redo': z.object({ detail: z.boolean().optional() }).strict(),
  'review.counts': z.object({}).strict(),
  'export.preview': z.object({}).strict(),
  'export.run': z.object({ format: z.enum(['abaw', 'csv', 'report']), outDir: relPath }).strict(),
} as const;

export type RequestName = keyof typeof requests;
export type RequestPayload<K extends RequestName> = z.input<(typeof requests)[K]>;

/** What train.start's `kind` may be. */
export type TrainKind = z.output<(typeof requests)['train.start']>['kind'];

/**
 * Every kind of long job the core runs; JobInfo and the job.* events carry one. 'review.decide' is
 * a large review.decide (a bulk decision): the request still answers with its DecideResult, and
 * the job only reports its progress (it cannot be cancelled).
 */
export type JobKind =
  'import.abaw' | 'import.video' | 'import.images' | `train.${TrainKind}` | 'infer' | 'flags.score' | 'export.run' | 'review.decide';

/** Events pushed from the core to every UI. */
export interface Events {
  'job.progress': { jobId: string; kind: JobKind; progress: Progress };
  'job.done': { jobId: string; kind: JobKind; result: unknown };
  'job.error': { jobId: string; kind: JobKind; error: string };
  'train.step': {
    jobId: string;
    runId: number;
    epoch: number;
    step: number;
    steps: number;
    loss: { total: number; sup: number; cons: number };
    lambda: number;
    lr: number;
    imagesPerSec: number;
  };
  'train.epoch': { jobId: string; runId: number; epoch: number; metrics: EpochMetrics };
  'review.changed': { frameIds: number[] };
}
export type EventName = keyof Events;

export interface NetMetrics {
  accuracy: number;
  macroF1: number;
  overall: number;
  perClassF1: number[];
  confusion: number[][];
}

export interface EpochMetrics {
  epoch: number;
  loss: { total: number; sup: number; cons: number };
  lambda: number;
  lr: number;
  imagesPerSec: number;
  etaSeconds: number | null;
  val: { nets: NetMetrics[]; ensemble: NetMetrics } | null;
}

export interface JobInfo {
  jobId: string;
  kind: JobKind;
  status: 'running' | 'paused' | 'done' | 'failed' | 'cancelled';
  progress: Progress | null;
  runId?: number;
  error?: string;
}

/** Validate a request's payload; the core calls it once, at its entry. Throws a readable error. */
export function parseRequest<K extends RequestName>(name: K, payload: unknown): z.output<(typeof requests)[K]> {
  const schema = requests[name];
  if (!schema) throw new Error(`unknown request ${String(name)}`);
  const r = schema.safeParse(payload ?? {});
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ');
    throw new Error(`bad ${name} request: ${msg}`);
  }
  return r.data as z.output<(typeof requests)[K]>;
}

export function isRequestName(name: string): name is RequestName {
  return Object.prototype.hasOwnProperty.call(requests, name);
}

// ---- Results -------------------------------------------------------------------------------

export interface DatasetInfoResult {
  project: string;
  videos: number;
  frames: number;
  labelledFrames: number;
  trainableFrames: number;
  missingCrops: number;
  reviewedFrames: number;
  labelSets: string[];
  splits: Record<string, { videos: number; frames: number; labelled: number; trainable: number; missingCrops: number; perClass: number[] }>;
  perClass: number[];
  classNames: string[];
}

export interface RunSummary {
  id: number;
  kind: string;
  status: string;
  config: Record<string, unknown>;
  backend: string | null;
  device: string | null;
  startedAt: string;
  finishedAt: string | null;
  epochs: number;
  best: { epoch: number; overall: number; accuracy: number; macroF1: number } | null;
  hasPredictions: boolean;
  error: string | null;
}

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

export interface PairCount {
  given: number;
  suggested: number;
  count: number;
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
  /** the whole video's label and consensus tracks, for the timeline */
  timeline: { labels: number[]; consensus: (number | null)[]; flagged: number[] };
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
}

/** What a flags.score job ends with (its job.done result). */
export interface ScoreSummary {
  runId: number;
  flagged: number;
  scored: number;
  rule: string;
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

/** What each request returns. */
export interface Results {
  'project.info': DatasetInfoResult;
  'import.abaw': JobInfo;
  'import.video': JobInfo;
  'import.images': JobInfo;
  'jobs.list': JobInfo[];
  'jobs.cancel': { ok: boolean };
  'train.start': JobInfo;
  'train.pause': { ok: boolean };
  /** A job; its job.done result has the last phase's status and runId (core/app-training.ts PretrainFinetuneResult). */
  'train.pretrainFinetune': JobInfo;
  'train.resume': { ok: boolean };
  'runs.list': RunSummary[];
  'runs.metrics': { run: RunSummary; epochs: EpochMetrics[] };
  'infer.start': JobInfo;
  /** A job; its job.done result is a ScoreSummary. */
  'flags.score': JobInfo;
  'review.queue': QueuePage;
  'review.pairs': PairCount[];
  'review.frame': FrameDetail;
  'review.segments': SegmentItem[];
  'review.decide': DecideResult;
  'review.frameId': { frameId: number };
  /** with `detail`, the reverted group's groupId, action and changes (none when there was nothing to undo) */
  'review.undo': { undone: number } & DecisionDetail;
  'review.redo': { redone: number } & DecisionDetail;
  'review.counts': ReviewCounts;
  'export.preview': ExportPreview;
  /** A job; its job.done result is an ExportResult. */
  'export.run': JobInfo;
}

/** The core as every host sees it: requests in, events out. */
export interface ConcordCore {
  /** Parses the payload against the contract's schema (the one parse), then runs the request. */
  request<K extends RequestName>(name: K, payload: RequestPayload<K>): Promise<Results[K]>;
  on<E extends EventName>(event: E, cb: (data: Events[E]) => void): () => void;
  /** Absolute path of a frame's crop, or null; hosts serve it as an image. */
  framePath(frameId: number): string | null;
  close(): Promise<void>;
}
