// THE contract between the UI and the core: every request, its payload and result, every event.
// The Electron preload, the HTTP/WebSocket host and the CLI are thin transports over it.
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
  'train.resume': z.object({ jobId: z.string() }).strict(),
  'runs.list': z.object({}).strict(),
  'runs.metrics': z.object({ runId: z.number().int() }).strict(),
  'infer.start': z.object({ runId: z.number().int().optional() }).strict(),
  'flags.score': z.object({ runId: z.number().int().optional(), rule: FlagRule.optional(), threshold: z.number().optional() }).strict(),
  'review.queue': z
    .object({
      filter: QueueFilter.default({}),
      after: z.object({ score: z.number(), id: z.number().int() }).optional(),
      limit: z.number().int().min(1).max(1000).default(100),
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
    })
    .strict(),
  'review.undo': z.object({}).strict(),
  'review.redo': z.object({}).strict(),
  'review.counts': z.object({}).strict(),
  'export.preview': z.object({}).strict(),
  'export.run': z.object({ format: z.enum(['abaw', 'csv', 'report']), outDir: relPath }).strict(),
} as const;

export type RequestName = keyof typeof requests;
export type RequestPayload<K extends RequestName> = z.input<(typeof requests)[K]>;

/** Events pushed from the core to every UI. */
export interface Events {
  'job.progress': { jobId: string; kind: string; progress: Progress };
  'job.done': { jobId: string; kind: string; result: unknown };
  'job.error': { jobId: string; kind: string; error: string };
  'train.step': { jobId: string; runId: number; epoch: number; step: number; steps: number; loss: { total: number; sup: number; cons: number }; lambda: number; lr: number; imagesPerSec: number };
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
  kind: string;
  status: 'running' | 'paused' | 'done' | 'failed' | 'cancelled';
  progress: Progress | null;
  runId?: number;
  error?: string;
}

/** Validate a request's payload at the trust boundary; throws a readable error. */
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
