// The training requests of the contract: start/pause/resume/cancel a trainer process, relay its
// events, and read runs and per-epoch metrics back from the store.
import type { EpochMetrics, JobInfo, JobKind, RequestPayload, Results, RunSummary } from '../../shared/api';
import type { Db } from '../../store/db';
import { epochMetrics, getRun, listRuns, latestRun, type EpochRow, type RunRow } from '../../store/runs';
import { runHasPredictions } from '../../store/predictions';
import { startTrainerJob, type TrainerJob, type TrainerLauncher } from './jobs';
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
  };
}

export function listRunSummaries(db: Db): RunSummary[] {
  return listRuns(db).map((r) => summary(db, r));
}

export function runMetrics(db: Db, runId: number): Results['runs.metrics'] {
  const r = getRun(db, runId);
  if (!r) throw new Error(`run ${runId} does not exist`);
  return { run: summary(db, r), epochs: epochMetrics(db, runId).map((e) => toEpochMetrics(e)) };
}

/** Run a trainer process as a job of the core: progress and metrics become contract events. */
function trainerJob(core: Core, kind: JobKind, message: Parameters<typeof startTrainerJob>[0]['message']): JobInfo {
  let job: TrainerJob | null = null;
  // The job body runs on a later tick, after `info` is assigned.
  const info: JobInfo = core.jobs.start(kind, (c) => {
    job = startTrainerJob({ projectDir: core.projectDir, message, launch: core.options.launchTrainer });
    const set = active.get(core) ?? new Set();
    active.set(core, set);
    set.add(job);
    const jobId = info.jobId;
    job.on('run', (m) => {
      const j = core.jobs.get(jobId);
      if (j) j.runId = m.runId;
    });
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
    c.signal.addEventListener('abort', () => job?.cancel(), { once: true });
    const j = job;
    return j.result.finally(() => set.delete(j));
  });
  core.jobs.setExtra(info.jobId, { pause: () => job?.pause(), resume: () => job?.resume(), cancel: () => job?.cancel() });
  return info;
}

export function startTraining(core: Core, p: RequestPayload<'train.start'>): JobInfo {
  const running = core.jobs.running().filter((j) => j.kind.startsWith('train') || j.kind === 'infer');
  if (running.length) throw new Error(`a ${running[0]!.kind} job is already running (${running[0]!.jobId}); cancel it or wait`);
  const kind = p.kind ?? 'train';
  return trainerJob(core, `train.${kind}`, {
    mode: kind,
    config: p.config ?? {},
    ...(p.resumeRun ? { runId: p.resumeRun, resume: true } : {}),
    ...(p.fromRun ? { fromRun: p.fromRun } : {}),
  });
}

export function startInference(core: Core, p: RequestPayload<'infer.start'>): JobInfo {
  const runId = p.runId ?? latestRun(core.db)?.id;
  if (!runId) throw new Error('no trained run yet: train a model first');
  return trainerJob(core, 'infer', { mode: 'infer', runId });
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
