// The typed messages between the host (jobs.ts) and the trainer process (entry.ts). Plain JSON
// values only, so the same messages travel over child_process IPC and Electron's parentPort.
import { z } from 'zod';
import type { EpochMetrics, Progress } from '../shared/api';

export const TRAINER_MODES = ['train', 'finetune', 'pretrain', 'infer', 'crossfit'] as const;
export type TrainerMode = (typeof TRAINER_MODES)[number];

export const StartMessage = z
  .object({
    type: z.literal('start'),
    projectDir: z.string().min(1),
    mode: z.enum(TRAINER_MODES),
    /** Partial TrainConfig (config.ts fills the rest). */
    config: z.record(z.string(), z.unknown()).default({}),
    /** train/finetune/crossfit: continue this run from its last checkpoint; infer: the run to use. */
    runId: z.number().int().positive().optional(),
    /** Continue runId (or, without it, the newest unfinished run of this mode) from its checkpoint. */
    resume: z.boolean().optional(),
    /** finetune, crossfit: start from this run's networks ... */
    fromRun: z.number().int().positive().optional(),
    /** ... or from a torchvision-keyed ResNet .safetensors file (fc skipped when class counts differ). */
    fromFile: z.string().optional(),
    /** crossfit: number of folds (by video). */
    folds: z.number().int().min(2).max(50).optional(),
  })
  .strict();
export type StartMessage = z.output<typeof StartMessage>;
export type StartInput = z.input<typeof StartMessage>;

export const HostMessage = z.discriminatedUnion('type', [
  StartMessage,
  z.object({ type: z.literal('cancel') }).strict(),
  z.object({ type: z.literal('pause') }).strict(),
  z.object({ type: z.literal('resume') }).strict(),
  // Test hook: only honoured when the trainer runs with CONCORD_TRAINER_TEST=1.
  z.object({ type: z.literal('crash'), how: z.enum(['abort', 'exit', 'throw', 'oom']) }).strict(),
]);
export type HostMessage = z.output<typeof HostMessage>;

export interface StepLoss {
  total: number;
  sup: number;
  cons: number;
}

/** One accounted training step, as the fit loop reports it. */
export interface StepReport {
  epoch: number;
  step: number;
  steps: number;
  loss: StepLoss;
  lambda: number;
  lr: number;
  imagesPerSec: number;
}

export type TrainerMessage =
  | { type: 'ready'; pid: number }
  /** A run row exists: what it is and where it runs. */
  | { type: 'run'; runId: number; kind: string; backend: string; device: string; config: unknown; resumedFromEpoch: number }
  | { type: 'progress'; runId?: number; progress: Progress }
  | ({ type: 'step'; runId: number } & StepReport)
  | { type: 'epoch'; runId: number; metrics: EpochMetrics }
  | { type: 'checkpoint'; runId: number; epoch: number; dir: string }
  | { type: 'warning'; runId?: number; file?: string; message: string }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'done'; runId: number | null; result: TrainerResult }
  | { type: 'error'; runId?: number; message: string; stack?: string; cancelled?: boolean };

/** How a job reports to the host: one message at a time. */
export type Emit = (m: TrainerMessage) => void;

export interface TrainerResult {
  mode: TrainerMode;
  runId: number | null;
  status: 'done' | 'cancelled';
  epochs?: number;
  /** Validation metrics of the last epoch's ensemble, when there was validation. */
  final?: EpochMetrics | null;
  predictions?: number;
  /** crossfit: the per-fold runs. */
  foldRuns?: number[];
  skippedImages?: number;
}

/** Validates a message from the host (the trust boundary of the trainer process). */
export function parseHostMessage(raw: unknown): HostMessage {
  const r = HostMessage.safeParse(raw);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
    throw new Error(`trainer: bad message from host: ${msg}`);
  }
  return r.data;
}

const TRAINER_TYPES = new Set(['ready', 'run', 'progress', 'step', 'epoch', 'checkpoint', 'warning', 'paused', 'resumed', 'done', 'error']);

export function isTrainerMessage(raw: unknown): raw is TrainerMessage {
  return typeof raw === 'object' && raw !== null && TRAINER_TYPES.has((raw as { type?: string }).type ?? '');
}
