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
import type { DegenerateVerdict } from './degenerate';

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
    /**
     * Only flags whose frame's standing decision (the newest one not undone) is one of these. It is
     * the frame's, whatever the flag's status: with status 'open' it matches the few flags raised
     * again on a decided frame (a keep against stronger evidence). An empty list is no constraint.
     */
    actions: z.array(z.enum(['relabel', 'accept', 'keep', 'exclude'])).optional(),
    /** only flags where every network agreed (true) or did not (false) */
    allAgree: z.boolean().optional(),
  })
  .strict();
export type QueueFilter = z.infer<typeof QueueFilter>;

const relPath = z.string().min(1).max(4096);
const faceDetection = { detector: z.enum(['ssd', 'tiny']).optional(), detectEvery: z.number().int().positive().optional() }; // import.video

/** Every request: name → [payload schema, result type]. */
export const requests = {
  'project.info': z.object({}).strict(),
  'import.abaw': z.object({ annotations: relPath, frames: relPath, videos: relPath.optional(), verify: z.boolean().optional() }).strict(),
  'import.video': z.object({ videos: relPath, annotations: relPath, ...faceDetection }).strict(),
  'import.images': z.object({ list: relPath, root: relPath, format: z.enum(['rafdb', 'affectnet', 'csv']) }).strict(),
  'jobs.list': z.object({}).strict(),
  'jobs.cancel': z.object({ jobId: z.string() }).strict(),
  'train.start': z
    .object({
      kind: z.enum(['train', 'finetune', 'pretrain', 'crossfit']).default('train'),
      config: z.record(z.string(), z.unknown()).default({}),
      /** finetune, crossfit: start from this run's networks ... */
      fromRun: z.number().int().positive().optional(),
      /** ... or from a torchvision-keyed ResNet .safetensors file (a path the host may read) */
      fromFile: relPath.optional(),
      /** crossfit: the number of folds (by video) */
      folds: z.number().int().min(2).max(50).optional(),
      /** continue this run from its last checkpoint ... */
      resumeRun: z.number().int().positive().optional(),
      /** ... or, without resumeRun, the newest unfinished run of this kind */
      resume: z.boolean().optional(),
    })
    .strict()
    .refine((p) => !(p.fromRun !== undefined && p.fromFile !== undefined), { message: 'give fromRun or fromFile, not both' }),
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
  /**
   * A run's stored training steps: by default downsampled for a chart (at most maxPoints, each a
   * stored step: per bucket of x the steps with the lowest and highest total loss, plus the first
   * and last step); with `full`, every step with x > after in order, a page of `limit` at a time.
   */
  'runs.steps': z
    .object({
      runId: z.number().int(),
      maxPoints: z.number().int().min(4).max(100_000).default(2000),
      full: z.boolean().optional(),
      after: z.number().int().optional(),
      limit: z.number().int().min(1).max(100_000).default(50_000),
    })
    .strict(),
  'infer.start': z
    .object({
      /** default: the newest run */
      runId: z.number().int().optional(),
      /** the tfjs backend to predict on (default: the run's own choice, auto) */
      backend: z.enum(['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']).optional(),
    })
    .strict(),
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
  /** Out-of-sample scoring's plan: folds by video, the estimate on this machine, whether it is the default. */
  'flags.plan': z.object({}).strict(),
  'review.queue': z
    .object({
      filter: QueueFilter.default({}),
      after: z.object({ score: z.number(), id: z.number().int() }).optional(),
      /** 0-based position in the filtered queue to start at (not with `after`) */
      offset: z.number().int().min(0).optional(),
      /** the last page of the filtered queue, items still in queue order (not with `after` or `offset`) */
      fromEnd: z.boolean().optional(),
      limit: z.number().int().min(1).max(1000).default(100),
      /** also reply with each item's runId, videoId and imagePath */
      detail: z.boolean().optional(),
    })
    .strict()
    .refine((p) => [p.after !== undefined, p.offset !== undefined, p.fromEnd === true].filter(Boolean).length <= 1, {
      message: 'give at most one of after, offset and fromEnd',
    }),
  'review.pairs': z.object({ status: z.enum(['open', 'decided', 'all']).optional() }).strict(),
  'review.frame': z
    .object({
      frameId: z.number().int(),
      context: z.number().int().min(0).max(50).default(4),
      /** the timeline's per-frame window: this many frames either side (bounded: a video can have millions) */
      window: z.number().int().min(0).max(2000).default(250),
      /** false: no timeline (timeline: null), for callers that only want the frame */
      timeline: z.boolean().default(true),
    })
    .strict(),
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
  /** Where a frame (`VIDEO:FRAME`, or a frame id) stands in the filtered queue (LocateResult). */
  'review.locate': z.object({ ref: z.string().min(1).max(4096), filter: QueueFilter.default({}) }).strict(),
  /** `detail`: also reply with the reverted group (groupId, action, changes). */
  'review.undo': z.object({ detail: z.boolean().optional() }).strict(),
  'review.redo': z.object({ detail: z.boolean().optional() }).strict(),
  'review.counts': z.object({}).strict(),
  /** Decided frames, each once with its standing action and final label, newest first. */
  'review.decisions': z
    .object({ limit: z.number().int().min(1).max(10_000).default(100), before: z.number().int().positive().optional() })
    .strict(),
  'export.preview': z.object({}).strict(),
  'export.run': z
    .object({
      format: z.enum(['abaw', 'csv', 'report']),
      outDir: relPath,
      /** when outDir already holds files: 'ask' (default) fails with a ConflictError (409) before starting,
       * 'overwrite' replaces them, 'new' writes to a fresh sibling `<outDir>-YYYYMMDD-HHMMSS` */
      ifExists: z.enum(['ask', 'overwrite', 'new']).optional(),
    })
    .strict(),
  /** A folder of the allowed roots (no path: the roots themselves); a path outside them is refused (403). */
  'fs.list': z.object({ path: relPath.optional(), hidden: z.boolean().optional() }).strict(),
  /** Every frame of the dataset, filtered and paged (the Project view's frame grid). */
  'dataset.frames': z
    .object({
      filter: z
        .object({
          split: z.string().optional(),
          video: z.string().optional(),
          /** the current label (-1: unlabelled) */
          label: z.number().int().min(-1).max(7).optional(),
          hasFace: z.boolean().optional(),
          decided: z.boolean().optional(),
        })
        .strict()
        .default({}),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(500).default(200),
    })
    .strict(),
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
  /** A trainer job's run row exists: what it is and where it runs (a chained job sends one per run). */
  'train.run': {
    jobId: string;
    runId: number;
    kind: string;
    backend: string;
    device: string;
    /** epochs already recorded when the run resumed from a checkpoint (0 for a fresh run) */
    resumedFromEpoch: number;
    config: Record<string, unknown>;
  };
  /** Something the user should know that did not stop the job (an unreadable image skipped, a fallback backend). */
  'train.warning': { jobId: string; runId: number | null; message: string };
  /** The trainer acknowledged a pause (paused: true) or a resume (paused: false). */
  'train.paused': { jobId: string; paused: boolean };
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
  /** frames with a standing decision (review.counts' decided) */
  decidedFrames: number;
  /** frames whose label now differs from the original (review.counts' changed) */
  changedFrames: number;
  orphanedDecisions: number; // audit rows kept for frames that a re-import of a shorter file removed
  labelSets: string[];
  /** image-list groups (RAF-DB, AffectNet, CSV imports): what pretraining trains on */
  imageLists: number;
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
  /** set when the run learned nothing usable (shared/degenerate.ts): its flags are no better than chance */
  degenerate: DegenerateVerdict | null;
}

/** One stored training step (runs.steps). x: the global step, epoch × steps per epoch + step (1-based in its epoch). */
export interface StepRecord {
  x: number;
  epoch: number;
  step: number;
  loss: { total: number; sup: number; cons: number };
  lambda: number;
  lr: number;
  imagesPerSec: number;
}

/** runs.steps: some of a run's stored steps, in x order. */
export interface StepPage {
  runId: number;
  /** how many steps the run has stored */
  stored: number;
  /** 'min-max': chart points (per x bucket the lowest and highest total loss, first and last kept); 'all': every step of the page */
  sampling: 'min-max' | 'all';
  steps: StepRecord[];
  /** full pages: the `after` of the next page, null at the end */
  next: number | null;
}

export type {
  QueueItem,
  QueuePage,
  LocateResult,
  DecidedFrame,
  DecisionsPage,
  PairCount,
  TimelineBucket,
  FrameTimeline,
  FrameDetail,
  SegmentItem,
  FrameChange,
  DecisionDetail,
  DecideResult,
  ReviewCounts,
  ScoreSummary,
  ExportResult,
  ExportPreview,
  OutOfSamplePlan,
  PredictionSource,
} from './review-types';
import type {
  QueuePage,
  LocateResult,
  DecisionsPage,
  PairCount,
  FrameDetail,
  SegmentItem,
  DecisionDetail,
  DecideResult,
  ReviewCounts,
  ExportPreview,
  OutOfSamplePlan,
} from './review-types';

export { DEFAULT_FLAG_RULE, DEFAULT_SCORE_THRESHOLD } from './review-types';

/** What each request returns (the review and export results are in ./review-types.ts). */
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
  'runs.steps': StepPage;
  'infer.start': JobInfo;
  /** A job; its job.done result is a ScoreSummary. */
  'flags.score': JobInfo;
  'flags.plan': OutOfSamplePlan;
  'review.queue': QueuePage;
  'review.pairs': PairCount[];
  'review.frame': FrameDetail;
  'review.segments': SegmentItem[];
  'review.decide': DecideResult;
  'review.frameId': { frameId: number };
  'review.locate': LocateResult;
  /** with `detail`, the reverted group's groupId, action and changes (none when there was nothing to undo) */
  'review.undo': { undone: number } & DecisionDetail;
  'review.redo': { redone: number } & DecisionDetail;
  'review.counts': ReviewCounts;
  'review.decisions': DecisionsPage;
  'export.preview': ExportPreview;
  /** A job; its job.done result is an ExportResult. */
  'export.run': JobInfo;
  'fs.list': FsListing;
  'dataset.frames': DatasetFramesPage;
}

/** One entry of an fs.list folder. */
export interface FsEntry {
  name: string;
  kind: 'dir' | 'file';
  size?: number;
}

export interface FsListing {
  /** the folder listed (canonical, absolute), or null for the roots list */
  path: string | null;
  /** the folder above, while it is inside a root; null at a root's top (go back to the roots) */
  parent: string | null;
  roots: string[];
  /** folders first, then files, by name; hidden (dot) entries only with `hidden`, and last */
  entries: FsEntry[];
  /** more entries than a listing holds: the rest were left out */
  truncated: boolean;
}

export interface DatasetFrame {
  frameId: number;
  video: string;
  split: string;
  idx: number;
  original: number;
  current: number;
  hasFace: boolean;
}

export interface DatasetFramesPage {
  items: DatasetFrame[];
  /** frames matching the filter */
  total: number;
  offset: number;
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
