// The training requests of the contract: start/pause/resume/cancel a trainer process, relay its
// events, and read runs, per-epoch metrics and per-step metrics back from the store.
import type { EpochMetrics, JobInfo, JobKind, RequestPayload, Results, RunSummary } from '../../shared/api';
import { runVerdict, type DegenerateVerdict } from '../../shared/degenerate';
import { ABAW8 } from '../../shared/labels';
import type { Db } from '../../store/db';
import { NotFoundError } from '../../shared/errors';
import { epochMetrics, getRun, listRuns, latestRun, type EpochRow, type RunRow } from '../../store/runs';
import { runHasPredictions } from '../../store/predictions';
import { imageListCount, VIDEO_SOURCES } from '../../store/dataset';
import { downsampledSteps, stepCount, stepPage } from '../../store/steps';
import { startTrainerJob, type TrainerJob, type TrainerLauncher } from './jobs';
import type { JobControls } from './jobs-registry';
import type { TrainerResult } from '../../trainer/protocol';
import type { Core } from './app';

export type { TrainerLauncher };

const active = new WeakMap<Core, Set<TrainerJob>>();

function parseJson<T>(s: string | null): T | null {
  if (!s) return null;
  try {
    return JSON.parse(s) as T;
  } catch {
    return null;
  }
}

function toEpochMetrics(r: EpochRow, etaSeconds: number | null = null): EpochMetrics {
  return {
    epoch: r.epoch,
    loss: { total: r.loss_total, sup: r.loss_sup, cons: r.loss_cons },
    lambda: r.lambda,
    lr: r.lr,
    imagesPerSec: r.images_per_sec,
    etaSeconds,
    val: parseJson(r.val),
  };
}

function summary(db: Db, r: RunRow): RunSummary {
  const epochs = epochMetrics(db, r.id).map((e) => toEpochMetrics(e));
  let best: RunSummary['best'] = null;
  for (const e of epochs) {
    const m = e.val?.ensemble;
    if (m && (!best || m.overall > best.overall)) best = { epoch: e.epoch, overall: m.overall, accuracy: m.accuracy, macroF1: m.macroF1 };
  }
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    config: parseJson<Record<string, unknown>>(r.config) ?? {},
    backend: r.backend,
    device: r.device,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    epochs: epochs.length,
    best,
    hasPredictions: runHasPredictions(db, r.id),
    error: r.error,
    degenerate: runVerdict(epochs, ABAW8),
  };
}

export function listRunSummaries(db: Db): RunSummary[] {
  return listRuns(db).map((r) => summary(db, r));
}

/** Whether run `runId` learned nothing usable (shared/degenerate.ts), from its stored validation metrics. */
export function runDegenerate(db: Db, runId: number): DegenerateVerdict | null {
  return runVerdict(
    epochMetrics(db, runId).map((e) => toEpochMetrics(e)),
    ABAW8,
  );
}

export function runMetrics(db: Db, runId: number): Results['runs.metrics'] {
  const r = getRun(db, runId);
  if (!r) throw new NotFoundError(`run ${runId} does not exist`);
  return { run: summary(db, r), epochs: epochMetrics(db, runId).map((e) => toEpochMetrics(e)) };
}

/** runs.steps: chart points (min/max-preserving, store/steps.ts downsampledSteps) or a full page for a CSV. */
export function runSteps(
  db: Db,
  p: { runId: number; maxPoints: number; full?: boolean; after?: number; limit: number },
): Results['runs.steps'] {
  if (!getRun(db, p.runId)) throw new NotFoundError(`run ${p.runId} does not exist`);
  const stored = stepCount(db, p.runId);
  if (p.full) return { runId: p.runId, stored, sampling: 'all', ...stepPage(db, p.runId, { after: p.after, limit: p.limit }) };
  const steps = downsampledSteps(db, p.runId, p.maxPoints);
  return { runId: p.runId, stored, sampling: steps.length < stored ? 'min-max' : 'all', steps, next: null };
}

/** What people call each trainer job (error messages name it; the kind is internal). */
const TRAINER_JOB_NAMES: Partial<Record<JobKind, string>> = {
  'train.train': 'training',
  'train.finetune': 'fine-tuning',
  'train.pretrain': 'pretraining',
  'train.crossfit': 'cross-fitting',
  infer: 'inference',
};

type TrainerMessage = Parameters<typeof startTrainerJob>[0]['message'];

/** One trainer process working for the core job `jobId`: its progress and metrics become contract events. */
function relayTrainer(core: Core, jobId: string, c: JobControls, message: TrainerMessage): TrainerJob {
  const job = startTrainerJob({ projectDir: core.projectDir, message, launch: core.options.launchTrainer });
  const set = active.get(core) ?? new Set();
  active.set(core, set);
  set.add(job);
  job.on('progress', (m) => c.progress(m.progress));
  job.on('step', (m) =>
    core.emit('train.step', {
      jobId,
      runId: m.runId,
      epoch: m.epoch,
      step: m.step,
      steps: m.steps,
      loss: m.loss,
      lambda: m.lambda,
      lr: m.lr,
      imagesPerSec: m.imagesPerSec,
    }),
  );
  job.on('epoch', (m) => core.emit('train.epoch', { jobId, runId: m.runId, epoch: m.metrics.epoch, metrics: m.metrics }));
  job.on('run', (m) => {
    const j = core.jobs.get(jobId);
    if (j) j.runId = m.runId;
    core.emit('train.run', {
      jobId,
      runId: m.runId,
      kind: m.kind,
      backend: m.backend,
      device: m.device,
      resumedFromEpoch: m.resumedFromEpoch,
      config: (m.config ?? {}) as Record<string, unknown>,
    });
  });
  job.on('warning', (m) => core.emit('train.warning', { jobId, runId: m.runId ?? null, message: m.message }));
  job.on('paused', () => core.emit('train.paused', { jobId, paused: true }));
  job.on('resumed', () => core.emit('train.paused', { jobId, paused: false }));
  c.signal.addEventListener('abort', () => job.cancel(), { once: true });
  const forget = () => set.delete(job);
  job.result.then(forget, forget);
  return job;
}

/**
 * A core job whose body drives one or more trainer processes in turn (`run` starts each through
 * `next`); pause, resume and cancel reach whichever one is running.
 */
function trainerJobOf(
  core: Core,
  kind: JobKind,
  run: (next: (m: TrainerMessage) => Promise<TrainerResult>, signal: AbortSignal) => Promise<unknown>,
): JobInfo {
  let current: TrainerJob | null = null;
  // The job body runs on a later tick, after `info` is assigned.
  const info: JobInfo = core.jobs.start(kind, (c) =>
    run((message) => {
      current = relayTrainer(core, info.jobId, c, message);
      return current.result;
    }, c.signal),
  );
  core.jobs.setExtra(info.jobId, { pause: () => current?.pause(), resume: () => current?.resume(), cancel: () => current?.cancel() });
  return info;
}

/** Run a trainer process as a job of the core. */
function trainerJob(core: Core, kind: JobKind, message: TrainerMessage): JobInfo {
  return trainerJobOf(core, kind, (next) => next(message));
}

/** One trainer job at a time per project: runs write checkpoints and predictions. */
function assertNoTrainerJob(core: Core): void {
  const running = core.jobs.running().filter((j) => j.kind.startsWith('train') || j.kind === 'infer');
  const r = running[0];
  if (r) throw new Error(`a ${TRAINER_JOB_NAMES[r.kind] ?? 'training'} job is already running; cancel it or wait for it to finish`);
}

/**
 * train, finetune, pretrain or crossfit as one trainer process. A finetune starts from fromRun or
 * fromFile (or resumes); a crossfit needs folds unless it resumes.
 */
export function startTraining(core: Core, p: RequestPayload<'train.start'>): JobInfo {
  const kind = p.kind ?? 'train';
  const resuming = Boolean(p.resume || p.resumeRun);
  if (kind === 'finetune' && !resuming && p.fromRun === undefined && p.fromFile === undefined)
    throw new Error('a finetune starts from a run (fromRun) or a .safetensors file (fromFile)');
  if (kind === 'crossfit' && !resuming && p.folds === undefined) throw new Error('a crossfit needs folds (2 or more)');
  if ((kind === 'train' || kind === 'pretrain') && (p.fromRun !== undefined || p.fromFile !== undefined))
    throw new Error(`a ${kind} run starts from random weights; use kind finetune to start from a run or file`);
  // Checked here, before a job exists, so a refused path is refused by the request itself.
  const fromFile = p.fromFile !== undefined ? core.path(p.fromFile) : undefined;
  assertNoTrainerJob(core);
  return trainerJob(core, `train.${kind}`, {
    mode: kind,
    config: p.config ?? {},
    ...(resuming ? { resume: true } : {}),
    ...(p.resumeRun ? { runId: p.resumeRun } : {}),
    ...(p.fromRun !== undefined && !resuming ? { fromRun: p.fromRun } : {}),
    ...(fromFile !== undefined && !resuming ? { fromFile } : {}),
    ...(p.folds !== undefined ? { folds: p.folds } : {}),
  });
}

/** The image-list sources a pretrain learns from, and the video sources the finetune after it uses. */
export const IMAGE_SOURCES = ['rafdb', 'affectnet', 'csv'];
export { VIDEO_SOURCES };

/** The two configs of pretrain-then-finetune; the finetune inherits model and input size from the pretrain run. */
export function pretrainFinetuneConfigs(p: RequestPayload<'train.pretrainFinetune'>): {
  pretrain: Record<string, unknown>;
  finetune: Record<string, unknown>;
} {
  const config = p.config ?? {};
  const pretrain = { ...config, ...(p.pretrainEpochs ? { epochs: p.pretrainEpochs } : {}), sources: p.sources ?? IMAGE_SOURCES };
  const finetune: Record<string, unknown> = { ...config, sources: [...VIDEO_SOURCES] };
  delete finetune.model;
  delete finetune.inputSize;
  return { pretrain, finetune };
}

/** What a pretrain-then-finetune job ends with: the last phase's status and run, and both phases' results. */
export interface PretrainFinetuneResult {
  status: TrainerResult['status'];
  runId: number | null;
  pretrain: TrainerResult;
  /** null when the pretrain did not finish, or skipFinetune */
  finetune: TrainerResult | null;
}

/** Pretrain on the project's image lists, then finetune from that run on its video frames: one job. */
export function startPretrainFinetune(core: Core, p: RequestPayload<'train.pretrainFinetune'>): JobInfo {
  assertNoTrainerJob(core);
  const configs = pretrainFinetuneConfigs(p);
  if (!p.resume && !p.resumeRun && imageListCount(core.db, configs.pretrain.sources as string[]) === 0)
    throw new Error(
      'pretraining needs an image list (RAF-DB, AffectNet, or a path,label CSV): import one in the Project view or with `concord import images`; this project has none',
    );
  return trainerJobOf(core, 'train.pretrain', async (next, signal): Promise<PretrainFinetuneResult> => {
    const pretrain = await next({
      mode: 'pretrain',
      config: configs.pretrain,
      ...(p.resume || p.resumeRun ? { resume: true } : {}),
      ...(p.resumeRun ? { runId: p.resumeRun } : {}),
    });
    if (pretrain.status !== 'done' || p.skipFinetune || pretrain.runId === null || signal.aborted)
      return { status: signal.aborted ? 'cancelled' : pretrain.status, runId: pretrain.runId, pretrain, finetune: null };
    const finetune = await next({ mode: 'finetune', fromRun: pretrain.runId, config: configs.finetune });
    return { status: finetune.status, runId: finetune.runId, pretrain, finetune };
  });
}

export function startInference(core: Core, p: RequestPayload<'infer.start'>): JobInfo {
  if (p.runId !== undefined && !getRun(core.db, p.runId)) throw new NotFoundError(`run ${p.runId} does not exist`);
  const runId = p.runId ?? latestRun(core.db)?.id;
  if (!runId) throw new Error('no trained run yet: train a model first');
  return trainerJob(core, 'infer', { mode: 'infer', runId, config: p.backend ? { backend: p.backend } : {} });
}

export async function stopAll(core: Core): Promise<void> {
  const set = active.get(core);
  if (!set) return;
  await Promise.allSettled(
    [...set].map((j) => {
      j.cancel();
      return j.result;
    }),
  );
}
