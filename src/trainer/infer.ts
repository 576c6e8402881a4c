// Inference over every frame with a crop: each network's softmax per frame, stored with
// putPredictions one transaction per batch. Frames this run already predicted are skipped, so a
// cancelled or killed pass resumes where it stopped.
import * as tf from '@tensorflow/tfjs';
import { ProjectError, type Db } from '../store/db';
import { listFrames, listVideos, type FrameRecord } from '../store/dataset';
import { predictedFrameIds, putPredictions } from '../store/predictions';
import { getRun, latestRun, type RunRow } from '../store/runs';
import { CancelledError } from '../shared/progress';
import { selectBackend } from './backend';
import { disposeCctOptimizers, predict } from './cct';
import { loadCheckpoint } from './checkpoint';
import type { RunControl } from './control';
import { BatchLoader, type Batch, type Sample, type SkipReport } from './data';
import type { Emit, TrainerResult } from './protocol';
import { checkpointDir, configFromRecord } from './recorder';
import { disposeResNet, type ResNet } from './resnet';
import { withRunSession } from './session';

/**
 * N x C probabilities per frame, network-major, for one decoded batch; no tensor outlives the call.
 * With `flip` each network's probabilities are the mean over the crop and its mirror image (the
 * training augmentation's horizontal flip, used at test time).
 */
export async function predictBatch(nets: readonly ResNet[], batch: Batch, size: number, flip = false): Promise<Float32Array[]> {
  const x = tf.tensor4d(batch.x, [batch.count, size, size, 3]);
  const mirrored = flip ? tf.reverse(x, 2) : null;
  let perNet: Float32Array[];
  try {
    perNet = (await predict(nets, x)).perNet;
    if (mirrored) {
      const other = (await predict(nets, mirrored as tf.Tensor4D)).perNet;
      perNet.forEach((p, n) => {
        for (let i = 0; i < p.length; i++) p[i] = (p[i]! + other[n]![i]!) / 2;
      });
    }
  } finally {
    x.dispose();
    mirrored?.dispose();
  }
  const classes = nets[0].config.numClasses;
  const rows: Float32Array[] = [];
  for (let i = 0; i < batch.count; i++) {
    const probs = new Float32Array(nets.length * classes);
    perNet.forEach((p, n) => probs.set(p.subarray(i * classes, (i + 1) * classes), n * classes));
    rows.push(probs);
  }
  return rows;
}

export interface PredictOptions {
  db: Db;
  /** Run the predictions are stored under (a crossfit stores every fold's under its parent). */
  runId: number;
  nets: readonly ResNet[];
  frames: readonly FrameRecord[];
  inputSize: number;
  batch: number;
  prefetch: number;
  control: RunControl;
  emit: Emit;
  phase?: string;
  /** average each crop's prediction with its mirror image's (config predictFlip) */
  flip?: boolean;
}

/** Predicts the frames this run has no prediction for yet; returns how many it wrote and skipped. */
export async function predictFrames(o: PredictOptions): Promise<{ written: number; skipped: number; already: number }> {
  const have = predictedFrameIds(o.db, o.runId);
  const todo = o.frames.filter((f) => !have.has(f.frameId));
  const samples: Sample[] = todo.map((f) => ({ frameId: f.frameId, path: f.imagePath, label: -1 }));
  const bad = new Map<string, string>();
  const onSkip = (s: SkipReport) =>
    o.emit({ type: 'warning', runId: o.runId, file: s.file, message: `skipped image ${s.file}: ${s.reason}` });
  const loader = new BatchLoader(samples, Int32Array.from(samples.keys()), {
    inputSize: o.inputSize,
    batchSize: o.batch,
    augment: null,
    prefetch: o.prefetch,
    bad,
    onSkip,
  });
  const nets = o.nets.length;
  const classes = o.nets[0].config.numClasses;
  const started = Date.now();
  let done = 0;
  let written = 0;
  for await (const b of loader) {
    await o.control.point('inference');
    const rows = await predictBatch(o.nets, b, o.inputSize, o.flip ?? false);
    putPredictions(
      o.db,
      o.runId,
      nets,
      classes,
      rows.map((probs, i) => ({ frameId: b.frameIds[i], probs })),
    );
    written += b.count;
    done = Math.min(samples.length, (b.index + 1) * o.batch);
    const rate = done / Math.max((Date.now() - started) / 1000, 1e-9);
    o.emit({
      type: 'progress',
      runId: o.runId,
      progress: {
        phase: o.phase ?? 'infer',
        done,
        total: samples.length,
        rate,
        etaSeconds: (samples.length - done) / Math.max(rate, 1e-9),
      },
    });
  }
  return { written, skipped: bad.size, already: have.size };
}

/** The frames a run predicts: every frame with a crop of the run's sources. */
export function framesForRun(db: Db, sources: string[] | null): FrameRecord[] {
  const ok = new Set(
    listVideos(db)
      .filter((v) => !sources || sources.includes(v.source))
      .map((v) => v.id),
  );
  return listFrames(db, { withFaceOnly: true }).filter((f) => ok.has(f.videoId));
}

export interface InferRequest {
  projectDir: string;
  /** Default: the newest run with a checkpoint (crossfit runs predict while they train). */
  runId?: number;
  /** Backend override (default: the run's configured one). */
  backend?: string;
}

/** `concord infer`: load a run's checkpoint and predict every frame with a crop it has not predicted. */
export async function inferRun(req: InferRequest, control: RunControl, emit: Emit): Promise<TrainerResult> {
  // Inference leaves other runs' status alone (it never marked interrupted runs).
  return withRunSession(req.projectDir, { markInterrupted: false }, async (db) => {
    let nets: ResNet[] = [];
    try {
      const run: RunRow | undefined = req.runId !== undefined ? getRun(db, req.runId) : latestRun(db);
      if (!run)
        throw new ProjectError(
          req.runId !== undefined ? `run ${req.runId} does not exist` : 'no trained run with a checkpoint; run `concord train` first',
        );
      if (run.kind === 'crossfit')
        throw new ProjectError(
          `run ${run.id} is a cross-fit: its predictions are written while it trains (resume it with \`concord crossfit --resume\`)`,
        );
      const cfg = configFromRecord(JSON.parse(run.config));
      const backend = await selectBackend(req.backend ?? cfg.backend);
      const dir = run.checkpoint_dir ?? checkpointDir(req.projectDir, run.id);
      const ck = await loadCheckpoint(dir).catch((e: Error) => {
        throw new ProjectError(`run ${run.id}: no usable checkpoint (${e.message})`);
      });
      nets = ck.nets;
      disposeCctOptimizers(ck.optimizers);
      emit({
        type: 'run',
        runId: run.id,
        kind: 'infer',
        backend: backend.name,
        device: backend.device,
        config: JSON.parse(run.config),
        resumedFromEpoch: ck.epoch,
      });
      const frames = framesForRun(db, cfg.sources);
      const r = await predictFrames({
        db,
        runId: run.id,
        nets,
        frames,
        inputSize: nets[0].config.inputSize,
        batch: cfg.evalBatch,
        prefetch: cfg.prefetch,
        control,
        emit,
        flip: cfg.predictFlip,
      });
      return { mode: 'infer', runId: run.id, status: 'done', predictions: r.written + r.already, skippedImages: r.skipped };
    } catch (e) {
      if (e instanceof CancelledError) return { mode: 'infer', runId: req.runId ?? null, status: 'cancelled' };
      throw e;
    } finally {
      nets.forEach(disposeResNet);
    }
  });
}
