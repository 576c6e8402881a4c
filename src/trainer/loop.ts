// The CCT training run: N networks, per epoch λ and lr, training steps over prefetched batches,
// validation of every network and the ensemble, epoch metrics and the run's provenance in SQLite,
// an atomic checkpoint after every epoch (resume continues from the last complete one).
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EpochMetrics, NetMetrics } from '../shared/api';
import { openDb, ProjectError, WriterLock, type Db } from '../store/db';
import { listFrames, listVideos } from '../store/dataset';
import {
  createRun,
  getRun,
  listRuns,
  markInterruptedRuns,
  putEpochMetrics,
  updateRun,
  type RunKind,
  type RunRow,
} from '../store/runs';
import { CancelledError } from '../shared/progress';
import { selectBackend } from './backend';
import {
  createCctOptimizers,
  disposeCctOptimizers,
  predict,
  queueTrainStep,
  readLosses,
  setEpochLearningRates,
  type CctOptimizers,
  type StepLosses,
} from './cct';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { parseTrainConfig, rampUpOf, resolvedAugment, type TrainConfig } from './config';
import type { RunControl } from './control';
import { BatchLoader, epochOrder, type Batch, type PreparePool, type Sample, type SkipReport } from './data';
import { DataPool } from './data-pool';
import { argmaxRows, evaluate } from './metrics';
import type { TrainerMessage, TrainerResult } from './protocol';
import { createResNet, disposeResNet, loadTorchStateDict, toTorchStateDict, type ResNet } from './resnet';
import { deriveSeed, Rng } from './rng';
import { readSafetensors } from './safetensors';
import { lambdaAt } from './schedule';
import { planFold, planSplit, type LabelledFrame, type SplitPlan } from './split';

export type Emit = (m: TrainerMessage) => void;

/** What a run stores as its config: the parsed TrainConfig plus how it was set up. */
export interface RunConfigRecord extends TrainConfig {
  classes: 7 | 8;
  mode: RunKind;
  init?: { fromRun?: number; fromFile?: string; loaded: number; headSkipped: boolean };
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

export function samplesOf(frames: readonly LabelledFrame[]): Sample[] {
  return frames.map((f) => ({ frameId: f.frameId, path: f.imagePath, label: f.target }));
}

/**
 * Queues one CCT step on a decoded batch and returns its packed losses unread (readLosses reads
 * them); every other tensor it makes is disposed.
 */
export function trainBatch(
  nets: readonly ResNet[],
  optimizers: CctOptimizers,
  batch: Batch,
  size: number,
  lambda: number,
  scaleByN: boolean,
): tf.Tensor1D {
  const x = tf.tensor4d(batch.x, [batch.count, size, size, 3]);
  const y = tf.tensor1d(batch.labels, 'int32');
  try {
    return queueTrainStep({ nets, optimizers, x, y, lambda, scaleByN, checkLabels: false });
  } finally {
    x.dispose();
    y.dispose();
  }
}

function netMetrics(yTrue: Int32Array, yPred: Int32Array, classes: number): NetMetrics {
  const e = evaluate(yTrue, yPred, classes);
  return { accuracy: e.accuracy, macroF1: e.macroF1, overall: e.overall, perClassF1: e.perClassF1, confusion: e.confusion };
}

export interface ValidateOptions {
  inputSize: number;
  batch: number;
  prefetch: number;
  classes: number;
  bad: Map<string, string>;
  onSkip?: (s: SkipReport) => void;
  control?: RunControl;
  onBatch?: (done: number, total: number, rate: number) => void;
  pool?: PreparePool | null;
}

/** Accuracy, macro-F1 and overall of every network and of the ensemble (mean softmax) over the samples. */
export async function validate(
  nets: readonly ResNet[],
  samples: readonly Sample[],
  o: ValidateOptions,
): Promise<{ nets: NetMetrics[]; ensemble: NetMetrics }> {
  const order = Int32Array.from(samples.keys());
  const loader = new BatchLoader(samples, order, {
    inputSize: o.inputSize,
    batchSize: o.batch,
    augment: null,
    prefetch: o.prefetch,
    bad: o.bad,
    onSkip: o.onSkip,
    pool: o.pool,
  });
  const yTrue: number[] = [];
  const perNet: number[][] = nets.map(() => []);
  const ens: number[] = [];
  let done = 0;
  const started = Date.now();
  for await (const b of loader) {
    await o.control?.point('validation');
    const x = tf.tensor4d(b.x, [b.count, o.inputSize, o.inputSize, 3]);
    let p;
    try {
      p = await predict(nets, x);
    } finally {
      x.dispose();
    }
    yTrue.push(...b.labels);
    p.perNet.forEach((probs, i) => perNet[i].push(...argmaxRows(probs, o.classes)));
    ens.push(...argmaxRows(p.ensemble, o.classes));
    done += b.count;
    o.onBatch?.(done, samples.length, done / Math.max((Date.now() - started) / 1000, 1e-9));
  }
  const t = Int32Array.from(yTrue);
  return {
    nets: perNet.map((pr) => netMetrics(t, Int32Array.from(pr), o.classes)),
    ensemble: netMetrics(t, Int32Array.from(ens), o.classes),
  };
}

// ---- setting up networks ----------------------------------------------------------------------------

function createNets(cfg: TrainConfig, classes: number): ResNet[] {
  return Array.from({ length: cfg.nets }, (_, i) =>
    createResNet({ depth: cfg.model, inputSize: cfg.inputSize, numClasses: classes }, deriveSeed(cfg.seed, 'net', i)),
  );
}

/**
 * Starts the networks from a Concord run's checkpoint or a torchvision .safetensors file. Heads load
 * only when the class count matches and each network has its own source head (from a run with at
 * least N networks); otherwise they keep their own seeded initialisation, so the N nets differ.
 */
async function initialiseFrom(
  nets: ResNet[],
  from: { run?: RunRow; file?: string },
  projectDir: string,
): Promise<{ loaded: number; headSkipped: boolean }> {
  if (from.file) {
    const file = resolve(from.file);
    const dict = readSafetensors(new Uint8Array(readFileSync(file)), file);
    let loaded = 0;
    for (const net of nets) loaded = loadTorchStateDict(net, dict, { source: file, head: 'skip' }).loaded.length;
    return { loaded, headSkipped: true };
  }
  const run = from.run!;
  const dir = run.checkpoint_dir ?? checkpointDir(projectDir, run.id);
  const src = await loadCheckpoint(dir);
  try {
    const ownHeads = src.nets.length >= nets.length;
    let loaded = 0;
    let headSkipped = false;
    for (const [i, net] of nets.entries()) {
      const dict = await toTorchStateDict(src.nets[i % src.nets.length]);
      const r = loadTorchStateDict(net, dict, { source: `run ${run.id} checkpoint ${dir}`, head: ownHeads ? 'auto' : 'skip' });
      loaded = r.loaded.length;
      headSkipped ||= r.skipped.length > 0;
    }
    return { loaded, headSkipped };
  } finally {
    src.nets.forEach(disposeResNet);
    disposeCctOptimizers(src.optimizers);
  }
}

// ---- the run ------------------------------------------------------------------------------------------

/** The wasm runtime reports running out of its heap as a bare "Aborted()"; say what it means. */
export function explainBackendFailure(e: unknown): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  if (/^Aborted\(/.test(err.message) || /memory access out of bounds|Cannot enlarge memory/i.test(err.message)) {
    return new Error(`the wasm backend ran out of memory (${err.message.split('.')[0]}): lower --batch (e.g. 16 or 8), --input or --nets`);
  }
  return err;
}

export interface TrainRequest {
  projectDir: string;
  kind: RunKind;
  config: Record<string, unknown>;
  /** Continue a run from its last checkpoint: runId, or the newest unfinished run of this kind. */
  resume?: boolean;
  runId?: number;
  fromRun?: number;
  fromFile?: string;
  /** crossfit fold runs: the parent run and the fold. */
  crossfit?: { parentRunId: number; folds: number; fold: number };
  /** An open database (crossfit shares one); opened and closed here otherwise. */
  db?: Db;
  /** Keep the trained networks (crossfit predicts with them); the caller disposes them. */
  keepNets?: boolean;
}

export interface TrainOutcome extends TrainerResult {
  nets?: ResNet[];
  plan?: SplitPlan & { heldOut?: import('../store/dataset').FrameRecord[] };
  config?: RunConfigRecord;
}

function resumeTarget(db: Db, req: TrainRequest): RunRow | undefined {
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

/** The newest run of a kind that did not finish, for `--resume` without a run id. */
export function latestUnfinishedRun(db: Db, kind: RunKind): RunRow | undefined {
  // A crossfit's fold runs point to their parent; the parent is what resumes.
  return listRuns(db).find((r) => r.kind === kind && r.status !== 'done' && !(kind === 'crossfit' && r.parent_run_id !== null));
}

export async function trainRun(req: TrainRequest, control: RunControl, emit: Emit): Promise<TrainOutcome> {
  const db = req.db ?? openDb(req.projectDir);
  const lock = req.db ? null : new WriterLock(resolve(req.projectDir), 'train');
  lock?.acquire();
  if (lock) markInterruptedRuns(db, resolve(req.projectDir), { holdingLock: true });
  let nets: ResNet[] = [];
  let optimizers: CctOptimizers | null = null;
  let runId: number | null = null;
  let pool: DataPool | null = null;
  try {
    const resumeRun = resumeTarget(db, req);
    let record: RunConfigRecord;
    let cfg: TrainConfig;
    if (resumeRun) {
      const stored = JSON.parse(resumeRun.config) as RunConfigRecord;
      cfg = configFromRecord(stored as unknown as Record<string, unknown>);
      // Only the epoch count may grow on resume; everything else is the run's own.
      const more = Number(req.config.epochs);
      if (Number.isInteger(more) && more > cfg.epochs) cfg.epochs = more;
      record = { ...stored, epochs: cfg.epochs };
    } else {
      let input = req.config;
      const fromRun = req.fromRun !== undefined ? getRun(db, req.fromRun) : undefined;
      if (req.fromRun !== undefined && !fromRun) throw new ProjectError(`run ${req.fromRun} does not exist`);
      if (fromRun) {
        const src = JSON.parse(fromRun.config) as Record<string, unknown>;
        input = { model: src.model, inputSize: src.inputSize, ...input };
      }
      cfg = parseTrainConfig(input, 'training config');
      record = { ...cfg, classes: 7, mode: req.kind };
    }

    const backend = await selectBackend(cfg.backend);
    const frames = listFrames(db, { withFaceOnly: true });
    const videos = listVideos(db);
    const plan = req.crossfit ? planFold(frames, videos, cfg, req.crossfit.folds, req.crossfit.fold) : planSplit(frames, videos, cfg);
    if (plan.train.length < 2) {
      throw new ProjectError(
        `no labelled frames with a crop to train on (sources ${cfg.sources?.join(', ') ?? 'all'}, ` +
          `train splits ${cfg.trainSplits?.join(', ') ?? `all but ${cfg.valSplits.join(', ')}`}); import data first`,
      );
    }
    const classes = plan.classes as 7 | 8;
    record.classes = classes;
    record.split = {
      train: plan.train.length,
      val: plan.val.length,
      validation: plan.validation,
      valVideos: plan.valVideos,
      outOfRange: plan.outOfRange,
    };
    if (req.crossfit) record.crossfit = { ...req.crossfit };

    let startEpoch = 0;
    let history: EpochMetrics[] = [];
    const rng = new Rng(deriveSeed(cfg.seed, 'run'));
    if (resumeRun) {
      runId = resumeRun.id;
      const dir = resumeRun.checkpoint_dir ?? checkpointDir(req.projectDir, runId);
      const ck = await loadCheckpoint<RunConfigRecord, EpochMetrics[]>(dir).catch((e: Error) => {
        throw new ProjectError(`run ${runId} has no usable checkpoint to resume from (${e.message})`);
      });
      nets = ck.nets;
      optimizers = ck.optimizers;
      startEpoch = ck.epoch;
      history = ck.metrics ?? [];
      rng.setState(ck.rngState);
      if (nets[0].config.numClasses !== classes)
        throw new ProjectError(`run ${runId}: checkpoint has ${nets[0].config.numClasses} classes, the data ${classes}`);
      updateRun(db, runId, { status: 'running', error: null, config: record });
    } else {
      nets = createNets(cfg, classes);
      optimizers = createCctOptimizers({ backboneLr: cfg.lrBackbone, headLr: cfg.lrHead });
      if (req.fromRun !== undefined || req.fromFile) {
        const fromRun = req.fromRun !== undefined ? getRun(db, req.fromRun) : undefined;
        const r = await initialiseFrom(nets, { run: fromRun, file: req.fromFile }, req.projectDir);
        record.init = { fromRun: req.fromRun, fromFile: req.fromFile ? resolve(req.fromFile) : undefined, ...r };
      }
      runId = createRun(db, { kind: req.kind, config: record, parentRunId: req.crossfit?.parentRunId ?? req.fromRun ?? null });
    }
    const ckDir = checkpointDir(req.projectDir, runId);
    updateRun(db, runId, {
      backend: backend.name,
      device: backend.device,
      versions: { ...backend.versions, threads: backend.threads },
      checkpoint_dir: ckDir,
    });
    emit({
      type: 'run',
      runId,
      kind: req.kind,
      backend: backend.name,
      device: backend.device,
      config: record,
      resumedFromEpoch: startEpoch,
    });
    if (plan.outOfRange > 0)
      emit({ type: 'warning', runId, message: `${plan.outOfRange} frames have a label outside the ${classes} classes and are not used` });
    if (plan.val.length === 0) emit({ type: 'warning', runId, message: 'no validation frames: epochs report training loss only' });

    const id = runId;
    if (cfg.dataWorkers > 0) pool = new DataPool(cfg.dataWorkers);
    const bad = new Map<string, string>();
    const onSkip = (s: SkipReport) => emit({ type: 'warning', runId: id, file: s.file, message: `skipped image ${s.file}: ${s.reason}` });
    const trainSamples = samplesOf(plan.train);
    const valSamples = samplesOf(plan.val);
    const trainLabels = Int32Array.from(trainSamples, (s) => s.label);
    const aug = resolvedAugment(cfg);
    const rampUp = rampUpOf(cfg);
    const size = cfg.inputSize;
    const sessionStart = Date.now();
    let sessionEpochs = 0;
    let last: EpochMetrics | null = history[history.length - 1] ?? null;

    const unsubscribe = control.onPauseChange((s) => {
      updateRun(db, id, { status: s === 'paused' ? 'paused' : 'running' });
      emit({ type: s });
    });
    try {
      for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
        const epochSeed = rng.nextUint32();
        const lr = setEpochLearningRates(optimizers, epoch, cfg.lrDecay);
        const order = epochOrder(trainLabels, { seed: epochSeed, balanced: cfg.balanced, epochSize: cfg.epochSize, classes });
        const loader = new BatchLoader(trainSamples, order, {
          inputSize: size,
          batchSize: cfg.batch,
          augment: aug,
          epochSeed,
          prefetch: cfg.prefetch,
          minBatch: 2,
          bad,
          onSkip,
          pool,
        });
        const steps = loader.batches;
        const lambdaCfg = { lambdaMax: cfg.lambdaMax, beta: cfg.beta, rampUp, clampAfterRampUp: cfg.clampAfterRampUp, numNets: cfg.nets };
        let lambda = lambdaAt(epoch, lambdaCfg);
        const sums = { total: 0, sup: 0, cons: 0, n: 0 };
        let trainSeconds = 0;
        let lastEmit = 0;
        let step = 0;
        const epochStart = Date.now();
        // The step's losses are read while the next step runs (one step behind), so a GPU backend
        // never waits on a readback between steps.
        let pending: { losses: tf.Tensor1D; count: number; index: number } | null = null;
        const account = async (p: NonNullable<typeof pending>) => {
          const loss = await readLosses(p.losses);
          if (!Number.isFinite(loss.total)) {
            throw new Error(
              `loss became ${loss.total} at epoch ${epoch + 1}, step ${p.index + 1}: lower the learning rates (lrBackbone ${cfg.lrBackbone}, lrHead ${cfg.lrHead})`,
            );
          }
          sums.total += loss.total * p.count;
          sums.sup += loss.sup * p.count;
          sums.cons += loss.cons * p.count;
          sums.n += p.count;
          step = p.index + 1;
          const now = Date.now();
          if (now - lastEmit > 250 || step === steps) {
            lastEmit = now;
            const ips = sums.n / Math.max(trainSeconds, 1e-9);
            const secPerStep = (now - epochStart) / 1000 / step;
            emit({ type: 'step', runId: id, epoch, step, steps, loss, lambda, lr: lr.backbone, imagesPerSec: ips });
            emit({
              type: 'progress',
              runId: id,
              progress: {
                phase: `epoch ${epoch + 1}/${cfg.epochs}`,
                done: step,
                total: steps,
                rate: ips,
                etaSeconds: (steps - step) * secPerStep,
              },
            });
          }
        };
        try {
          for await (const batch of loader) {
            await control.point();
            if (cfg.lambdaUpdate === 'iteration') lambda = lambdaAt(epoch + batch.index / steps, lambdaCfg);
            const t0 = performance.now();
            const next = {
              losses: trainBatch(nets, optimizers, batch, size, lambda, cfg.scaleByN),
              count: batch.count,
              index: batch.index,
            };
            const previous = pending;
            pending = next;
            if (previous) await account(previous);
            trainSeconds += (performance.now() - t0) / 1000;
          }
          if (pending) {
            const t0 = performance.now();
            const last = pending;
            pending = null;
            await account(last);
            trainSeconds += (performance.now() - t0) / 1000;
          }
        } finally {
          if (pending) pending.losses.dispose();
        }
        if (sums.n === 0) throw new Error(`epoch ${epoch + 1}: no training image could be read (${bad.size} unreadable)`);
        const val =
          valSamples.length > 0
            ? await validate(nets, valSamples, {
                inputSize: size,
                batch: cfg.evalBatch,
                prefetch: cfg.prefetch,
                classes,
                bad,
                onSkip,
                control,
                pool,
                onBatch: (done, total, rate) =>
                  emit({
                    type: 'progress',
                    runId: id,
                    progress: {
                      phase: `validate ${epoch + 1}/${cfg.epochs}`,
                      done,
                      total,
                      rate,
                      etaSeconds: (total - done) / Math.max(rate, 1e-9),
                    },
                  }),
              })
            : null;
        sessionEpochs++;
        const perEpoch = (Date.now() - sessionStart) / 1000 / sessionEpochs;
        const metrics: EpochMetrics = {
          epoch,
          loss: { total: sums.total / sums.n, sup: sums.sup / sums.n, cons: sums.cons / sums.n },
          lambda,
          lr: lr.backbone,
          imagesPerSec: sums.n / Math.max(trainSeconds, 1e-9),
          etaSeconds: perEpoch * (cfg.epochs - epoch - 1),
          val,
        };
        // Metrics first, then the checkpoint: a kill in between redoes the epoch, and the upsert
        // rewrites the same row.
        putEpochMetrics(db, id, {
          epoch,
          lossSup: metrics.loss.sup,
          lossCons: metrics.loss.cons,
          lossTotal: metrics.loss.total,
          lambda,
          lr: lr.backbone,
          imagesPerSec: metrics.imagesPerSec,
          val,
        });
        history = [...history.filter((m) => m.epoch !== epoch), metrics];
        await saveCheckpoint(ckDir, { nets, optimizers, epoch: epoch + 1, rngState: rng.getState(), config: record, metrics: history });
        last = metrics;
        emit({ type: 'epoch', runId: id, metrics });
        emit({ type: 'checkpoint', runId: id, epoch: epoch + 1, dir: ckDir });
      }
    } finally {
      unsubscribe();
    }
    updateRun(db, id, { status: 'done', error: null, finished: true });
    const out: TrainOutcome = { mode: req.kind, runId: id, status: 'done', epochs: cfg.epochs, final: last, skippedImages: bad.size };
    if (req.keepNets) {
      out.nets = nets;
      out.plan = plan;
      out.config = record;
      nets = [];
    }
    return out;
  } catch (e) {
    if (runId !== null) {
      if (e instanceof CancelledError)
        updateRun(db, runId, { status: 'cancelled', error: 'cancelled; resume continues from the last checkpoint' });
      else updateRun(db, runId, { status: 'failed', error: explainBackendFailure(e).message, finished: true });
    }
    if (e instanceof CancelledError) return { mode: req.kind, runId, status: 'cancelled' };
    throw explainBackendFailure(e);
  } finally {
    await pool?.close();
    nets.forEach(disposeResNet);
    if (optimizers) disposeCctOptimizers(optimizers);
    lock?.release();
    if (!req.db) db.close();
  }
}
