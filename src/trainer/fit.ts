// The CCT fit loop, in the spirit of tfjs-examples' fitModel(model, data, ..., callbacks): per epoch
// λ and lr, training steps over prefetched batches, validation of every network and the ensemble.
// It knows nothing about storage: the caller's onEpochEnd (awaited) writes metrics and checkpoints.
import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics, NetMetrics, Progress } from '../shared/api';
import { queueTrainStep, predict, readLosses, setEpochLearningRates, type CctOptimizers } from './cct';
import { rampUpOf, resolvedAugment, type TrainConfig } from './config';
import type { RunControl } from './control';
import { BatchLoader, epochOrder, type Batch, type PreparePool, type Sample, type SkipReport } from './data';
import { DataPool } from './data-pool';
import { argmaxRows, evaluate } from './metrics';
import type { StepReport } from './protocol';
import type { ResNet } from './resnet';
import type { Rng, RngState } from './rng';
import { lambdaAt } from './schedule';

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

// ---- the fit loop -------------------------------------------------------------------------------------

export interface FitCallbacks {
  /** At most every 250 ms and on an epoch's last step. */
  onStep?: (s: StepReport) => void;
  /** Every trained step, unthrottled (the recorder stores them all). */
  onEveryStep?: (s: StepReport) => void;
  /** Training and validation progress, alongside onStep and per validation batch. */
  onProgress?: (p: Progress) => void;
  onSkip?: (s: SkipReport) => void;
  /** Awaited before the next epoch starts: where the caller stores metrics and the checkpoint. */
  onEpochEnd?: (metrics: EpochMetrics, state: { epochsDone: number; rngState: RngState }) => Promise<void> | void;
}

export interface FitData {
  train: readonly Sample[];
  /** Validated after every epoch; empty: epochs report training loss only. */
  val: readonly Sample[];
  classes: number;
}

export interface FitOptions {
  config: TrainConfig;
  /** The first epoch to run (a resumed run continues from its checkpoint's). */
  startEpoch: number;
  /** Draws each epoch's seed; its state after an epoch is what onEpochEnd gets to store. */
  rng: Rng;
  control: RunControl;
  callbacks: FitCallbacks;
}

export interface FitResult {
  /** The metrics of the last epoch this call ran; null when it ran none. */
  final: EpochMetrics | null;
  /** Images that could not be read (each skipped once and reported through onSkip). */
  skippedImages: number;
}

type PendingStep = { losses: tf.Tensor1D; count: number; index: number };

/** Trains the networks from startEpoch to config.epochs with CCT; nets and optimizers stay the caller's. */
export async function fitCct(nets: readonly ResNet[], optimizers: CctOptimizers, data: FitData, o: FitOptions): Promise<FitResult> {
  const { config: cfg, control, rng, callbacks: cb } = o;
  const { classes } = data;
  const bad = new Map<string, string>();
  const onSkip = cb.onSkip;
  const trainLabels = Int32Array.from(data.train, (s) => s.label);
  const aug = resolvedAugment(cfg);
  const rampUp = rampUpOf(cfg);
  const size = cfg.inputSize;
  const lambdaCfg = { lambdaMax: cfg.lambdaMax, beta: cfg.beta, rampUp, clampAfterRampUp: cfg.clampAfterRampUp, numNets: cfg.nets };
  const pool = cfg.dataWorkers > 0 ? new DataPool(cfg.dataWorkers) : null;
  const sessionStart = Date.now();
  let sessionEpochs = 0;
  let final: EpochMetrics | null = null;
  try {
    for (let epoch = o.startEpoch; epoch < cfg.epochs; epoch++) {
      const epochSeed = rng.nextUint32();
      const lr = setEpochLearningRates(optimizers, epoch, cfg.lrDecay);
      const order = epochOrder(trainLabels, { seed: epochSeed, balanced: cfg.balanced, epochSize: cfg.epochSize, classes });
      const loader = new BatchLoader(data.train, order, {
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
      let lambda = lambdaAt(epoch, lambdaCfg);
      const sums = { total: 0, sup: 0, cons: 0, n: 0 };
      let trainSeconds = 0;
      let lastEmit = 0;
      let step = 0;
      const epochStart = Date.now();
      // The step's losses are read while the next step runs (one step behind), so a GPU backend
      // never waits on a readback between steps.
      let pending: PendingStep | null = null;
      const account = async (p: PendingStep) => {
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
        cb.onEveryStep?.({ epoch, step, steps, loss, lambda, lr: lr.backbone, imagesPerSec: sums.n / Math.max(trainSeconds, 1e-9) });
        const now = Date.now();
        if (now - lastEmit > 250 || step === steps) {
          lastEmit = now;
          const ips = sums.n / Math.max(trainSeconds, 1e-9);
          const secPerStep = (now - epochStart) / 1000 / step;
          cb.onStep?.({ epoch, step, steps, loss, lambda, lr: lr.backbone, imagesPerSec: ips });
          cb.onProgress?.({
            phase: `epoch ${epoch + 1}/${cfg.epochs}`,
            done: step,
            total: steps,
            rate: ips,
            etaSeconds: (steps - step) * secPerStep,
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
        data.val.length > 0
          ? await validate(nets, data.val, {
              inputSize: size,
              batch: cfg.evalBatch,
              prefetch: cfg.prefetch,
              classes,
              bad,
              onSkip,
              control,
              pool,
              onBatch: (done, total, rate) =>
                cb.onProgress?.({
                  phase: `validate ${epoch + 1}/${cfg.epochs}`,
                  done,
                  total,
                  rate,
                  etaSeconds: (total - done) / Math.max(rate, 1e-9),
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
      await cb.onEpochEnd?.(metrics, { epochsDone: epoch + 1, rngState: rng.getState() });
      final = metrics;
    }
    return { final, skippedImages: bad.size };
  } finally {
    await pool?.close();
  }
}
