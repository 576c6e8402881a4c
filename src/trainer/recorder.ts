// The run recorder: a training run's row, its steps and epoch metrics and checkpoints in the project,
// and the run's status when it finishes, is cancelled or fails. What a run stores as its config lives here too.
import { join, resolve } from 'node:path';
import type { EpochMetrics, StepRecord } from '../shared/api';
import { ProjectError, type Db } from '../store/db';
import { createRun, getRun, listRuns, putEpochMetrics, updateRun, type RunKind, type RunRow } from '../store/runs';
import { deleteStepsFrom, putSteps } from '../store/steps';
import type { BackendInfo } from './backend';
import type { CctOptimizers } from './cct';
import { saveCheckpoint } from './checkpoint';
import { parseTrainConfig, type TrainConfig } from './config';
import type { StepReport } from './protocol';
import type { ResNet } from './resnet';
import type { RngState } from './rng';

/** What a run stores as its config: the parsed TrainConfig plus how it was set up. */
export interface RunConfigRecord extends TrainConfig {
  classes: 7 | 8;
  mode: RunKind;
  init?: { fromRun?: number; fromFile?: string; shipped?: boolean; loaded: number; headSkipped: boolean };
  /** crossfit: the parent run has only folds; each fold run has all three. */
  crossfit?: { folds: number; fold?: number; parentRunId?: number };
  split?: { train: number; val: number; validation: string; valVideos: string[]; outOfRange: number };
}

const RECORD_EXTRAS = ['mode', 'init', 'crossfit', 'split'] as const;

/** The TrainConfig part of a stored run config. */
export function configFromRecord(record: Record<string, unknown>): TrainConfig {
  const rest = { ...record };
  for (const k of RECORD_EXTRAS) delete rest[k];
  return parseTrainConfig(rest, 'stored run config');
}

export function checkpointDir(projectDir: string, runId: number): string {
  return join(resolve(projectDir), 'runs', String(runId), 'checkpoint');
}

/** The newest run of a kind that did not finish, for `--resume` without a run id. */
export function latestUnfinishedRun(db: Db, kind: RunKind): RunRow | undefined {
  // A crossfit's fold runs point to their parent; the parent is what resumes.
  return listRuns(db).find((r) => r.kind === kind && r.status !== 'done' && !(kind === 'crossfit' && r.parent_run_id !== null));
}

/** The run `--resume` continues: the given run (of this kind), or the newest unfinished one. */
export function resumeTarget(db: Db, req: { kind: RunKind; resume?: boolean; runId?: number }): RunRow | undefined {
  if (!req.resume) return undefined;
  if (req.runId === undefined) {
    const run = latestUnfinishedRun(db, req.kind);
    if (!run) throw new ProjectError(`no unfinished ${req.kind} run to resume`);
    return run;
  }
  const run = getRun(db, req.runId);
  if (!run) throw new ProjectError(`run ${req.runId} does not exist`);
  if (run.kind !== req.kind) throw new ProjectError(`run ${run.id} is a ${run.kind} run, not ${req.kind}`);
  return run;
}

/** What a checkpoint holds besides the epoch count and the metrics history (which the recorder keeps). */
export interface CheckpointContent {
  nets: readonly ResNet[];
  optimizers: CctOptimizers;
  rngState: RngState;
}

/** Steps are written this many at a time (one transaction), or after STEP_FLUSH_MS, whichever comes first. */
export const STEP_BATCH = 500;
export const STEP_FLUSH_MS = 5000;

/** Writes one training run: its row, every step (in batches), its epoch metrics and its checkpoint after every epoch. */
export class RunRecorder {
  private history: EpochMetrics[];
  private pendingSteps: StepRecord[] = [];
  private lastFlush = Date.now();
  /** transactions of steps written (for tests and benchmarks) */
  stepBatches = 0;

  private constructor(
    private readonly db: Db,
    readonly runId: number,
    readonly checkpointDir: string,
    private readonly record: RunConfigRecord,
    history: EpochMetrics[],
  ) {
    this.history = history;
  }

  /** A new run row. */
  static create(db: Db, projectDir: string, o: { kind: RunKind; record: RunConfigRecord; parentRunId: number | null }): RunRecorder {
    const runId = createRun(db, { kind: o.kind, config: o.record, parentRunId: o.parentRunId });
    return new RunRecorder(db, runId, checkpointDir(projectDir, runId), o.record, []);
  }

  /** An existing run that is to continue from its checkpoint; nothing is written until resumed(). */
  static existing(db: Db, projectDir: string, run: RunRow, record: RunConfigRecord): RunRecorder {
    return new RunRecorder(db, run.id, checkpointDir(projectDir, run.id), record, []);
  }

  /** The run trains again, from a checkpoint whose metrics history is `history`. */
  resumed(history: EpochMetrics[]): void {
    this.history = history;
    // steps past the checkpoint (an epoch that was cut short) are trained again
    deleteStepsFrom(
      this.db,
      this.runId,
      history.reduce((n, m) => Math.max(n, m.epoch + 1), 0),
    );
    updateRun(this.db, this.runId, { status: 'running', error: null, config: this.record });
  }

  /** Where the run trains and where its checkpoint goes. */
  started(backend: BackendInfo): void {
    updateRun(this.db, this.runId, {
      backend: backend.name,
      device: backend.device,
      versions: { ...backend.versions, threads: backend.threads },
      checkpoint_dir: this.checkpointDir,
    });
  }

  /** One trained step; buffered, written STEP_BATCH at a time so storing never holds up training. */
  step(s: StepReport, now = Date.now()): void {
    this.pendingSteps.push({
      x: s.epoch * s.steps + s.step,
      epoch: s.epoch,
      step: s.step,
      loss: { total: s.loss.total, sup: s.loss.sup, cons: s.loss.cons },
      lambda: s.lambda,
      lr: s.lr,
      imagesPerSec: s.imagesPerSec,
    });
    if (this.pendingSteps.length >= STEP_BATCH || now - this.lastFlush >= STEP_FLUSH_MS) this.flushSteps(now);
  }

  /** Writes the buffered steps in one transaction. */
  flushSteps(now = Date.now()): void {
    this.lastFlush = now;
    if (!this.pendingSteps.length) return;
    const batch = this.pendingSteps;
    this.pendingSteps = [];
    putSteps(this.db, this.runId, batch);
    this.stepBatches++;
  }

  /** Flushing while the run ends badly must not hide why it ended. */
  private flushQuietly(): void {
    try {
      this.flushSteps();
    } catch {
      this.pendingSteps = [];
    }
  }

  pauseChanged(state: 'paused' | 'resumed'): void {
    if (state === 'paused') this.flushQuietly();
    updateRun(this.db, this.runId, { status: state === 'paused' ? 'paused' : 'running' });
  }

  /** An epoch's metrics, then its checkpoint: a kill in between redoes the epoch, and the upsert rewrites the same row. */
  async epochEnd(metrics: EpochMetrics, epochsDone: number, content: CheckpointContent): Promise<void> {
    this.flushSteps();
    putEpochMetrics(this.db, this.runId, {
      epoch: metrics.epoch,
      lossSup: metrics.loss.sup,
      lossCons: metrics.loss.cons,
      lossTotal: metrics.loss.total,
      lambda: metrics.lambda,
      lr: metrics.lr,
      imagesPerSec: metrics.imagesPerSec,
      val: metrics.val,
    });
    this.history = [...this.history.filter((m) => m.epoch !== metrics.epoch), metrics];
    await saveCheckpoint(this.checkpointDir, {
      nets: content.nets,
      optimizers: content.optimizers,
      epoch: epochsDone,
      rngState: content.rngState,
      config: this.record,
      metrics: this.history,
    });
  }

  /** The last recorded epoch's metrics (a resumed run that trains no more epochs reports these). */
  get lastMetrics(): EpochMetrics | null {
    return this.history[this.history.length - 1] ?? null;
  }

  done(): void {
    this.flushSteps();
    updateRun(this.db, this.runId, { status: 'done', error: null, finished: true });
  }

  cancelled(): void {
    this.flushQuietly();
    updateRun(this.db, this.runId, { status: 'cancelled', error: 'cancelled; resume continues from the last checkpoint' });
  }

  failed(message: string): void {
    this.flushQuietly();
    updateRun(this.db, this.runId, { status: 'failed', error: message, finished: true });
  }
}
