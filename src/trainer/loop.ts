// A CCT training run, composed: the run session (db and writer lock), the run's config and split,
// its networks (new, initialised from a run or file, or resumed from a checkpoint), the fit loop
// (fit.ts) and the recorder (recorder.ts) that stores metrics and a checkpoint after every epoch.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EpochMetrics } from '../shared/api';
import { ProjectError, type Db } from '../store/db';
import { listFrames, listVideos, type FrameRecord } from '../store/dataset';
import { getRun, type RunKind, type RunRow } from '../store/runs';
import { CancelledError } from '../shared/progress';
import { degenerateVerdict, scratchHint } from '../shared/degenerate';
import { ABAW8 } from '../shared/labels';
import { selectBackend } from './backend';
import { shippedWeights } from './shipped';
import { createCctOptimizers, disposeCctOptimizers, type CctOptimizers } from './cct';
import { loadCheckpoint } from './checkpoint';
import { defaultRecipe, parseTrainConfig, type TrainConfig } from './config';
import type { RunControl } from './control';
import type { Sample } from './data';
import { fitCct } from './fit';
import type { Emit, TrainerResult } from './protocol';
import { checkpointDir, configFromRecord, resumeTarget, RunRecorder, type RunConfigRecord } from './recorder';
import { createResNet, disposeResNet, loadTorchStateDict, toTorchStateDict, type ResNet } from './resnet';
import { deriveSeed, Rng } from './rng';
import { readSafetensors } from './safetensors';
import { withRunSession } from './session';
import { planFold, planSplit, type LabelledFrame, type SplitPlan } from './split';

// Names other modules have always imported from here.
export type { Emit } from './protocol';

export function samplesOf(frames: readonly LabelledFrame[]): Sample[] {
  return frames.map((f) => ({ frameId: f.frameId, path: f.imagePath, label: f.target }));
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
  from: { run?: RunRow; file?: string; head?: 'auto' | 'skip' },
  projectDir: string,
): Promise<{ loaded: number; headSkipped: boolean }> {
  if (from.file) {
    const file = resolve(from.file);
    const dict = readSafetensors(new Uint8Array(readFileSync(file)), file);
    let loaded = 0;
    let headSkipped = false;
    // a file's head is skipped unless asked for: a user's file (AffectNet, MS-Celeb) has its own
    // classes in its own order, and the three networks must not start as clones of one head
    for (const net of nets) {
      const r = loadTorchStateDict(net, dict, { source: file, head: from.head ?? 'skip' });
      loaded = r.loaded.length;
      headSkipped ||= r.skipped.length > 0 || (from.head ?? 'skip') === 'skip';
    }
    return { loaded, headSkipped };
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
  plan?: SplitPlan & { heldOut?: FrameRecord[] };
  config?: RunConfigRecord;
}

/** The run's TrainConfig and the record stored with it: a resumed run's own, or parsed from the request. */
function runConfig(
  db: Db,
  req: TrainRequest,
  resumeRun: RunRow | undefined,
  recipe: Record<string, unknown>,
): { cfg: TrainConfig; record: RunConfigRecord } {
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
    // what the config leaves out: a source run's architecture, else the backend's recipe (config.ts defaultRecipe)
    let input = { ...recipe, ...req.config };
    const fromRun = req.fromRun !== undefined ? getRun(db, req.fromRun) : undefined;
    if (req.fromRun !== undefined && !fromRun) throw new ProjectError(`run ${req.fromRun} does not exist`);
    if (fromRun) {
      const src = JSON.parse(fromRun.config) as Record<string, unknown>;
      input = { ...recipe, model: src.model, inputSize: src.inputSize, ...req.config };
    }
    cfg = parseTrainConfig(input, 'training config');
    record = { ...cfg, classes: 7, mode: req.kind };
  }
  return { cfg, record };
}

export async function trainRun(req: TrainRequest, control: RunControl, emit: Emit): Promise<TrainOutcome> {
  return withRunSession(req.projectDir, { db: req.db }, async (db) => {
    let nets: ResNet[] = [];
    let optimizers: CctOptimizers | null = null;
    let recorder: RunRecorder | null = null;
    try {
      const resumeRun = resumeTarget(db, req);
      // the backend first: it chooses the recipe of a fresh run's unset fields
      const asked = resumeRun ? configFromRecord(JSON.parse(resumeRun.config) as Record<string, unknown>).backend : req.config.backend;
      const backend = await selectBackend(typeof asked === 'string' ? asked : 'auto');
      const { cfg, record } = runConfig(db, req, resumeRun, defaultRecipe(backend));
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
      const rng = new Rng(deriveSeed(cfg.seed, 'run'));
      if (resumeRun) {
        // The run row exists: a failure from here on is recorded on it.
        recorder = RunRecorder.existing(db, req.projectDir, resumeRun, record);
        const runId = resumeRun.id;
        const dir = resumeRun.checkpoint_dir ?? checkpointDir(req.projectDir, runId);
        const ck = await loadCheckpoint<RunConfigRecord, EpochMetrics[]>(dir).catch((e: Error) => {
          throw new ProjectError(`run ${runId} has no usable checkpoint to resume from (${e.message})`);
        });
        nets = ck.nets;
        optimizers = ck.optimizers;
        startEpoch = ck.epoch;
        rng.setState(ck.rngState);
        if (nets[0].config.numClasses !== classes)
          throw new ProjectError(`run ${runId}: checkpoint has ${nets[0].config.numClasses} classes, the data ${classes}`);
        recorder.resumed(ck.metrics ?? []);
      } else {
        nets = createNets(cfg, classes);
        optimizers = createCctOptimizers({ backboneLr: cfg.lrBackbone, headLr: cfg.lrHead });
        const shipped =
          req.kind === 'train' && !req.crossfit && cfg.pretrained === 'auto' ? shippedWeights(cfg.model, cfg.inputSize) : null;
        if (req.fromRun !== undefined || req.fromFile) {
          const fromRun = req.fromRun !== undefined ? getRun(db, req.fromRun) : undefined;
          const r = await initialiseFrom(nets, { run: fromRun, file: req.fromFile }, req.projectDir);
          record.init = { fromRun: req.fromRun, fromFile: req.fromFile ? resolve(req.fromFile) : undefined, ...r };
        } else if (shipped) {
          // The backbone only: each network keeps its own random head, the paper's three networks of one
          // architecture with different initialisations. With one shared head they start as clones, see
          // the same batches and stay clones: the consistency term is 0 and CCT is one network three times.
          const r = await initialiseFrom(nets, { file: shipped.file, head: 'skip' }, req.projectDir);
          record.init = { fromFile: shipped.file, shipped: true, ...r };
        }
        recorder = RunRecorder.create(db, req.projectDir, {
          kind: req.kind,
          record,
          parentRunId: req.crossfit?.parentRunId ?? req.fromRun ?? null,
        });
      }
      const rec: RunRecorder = recorder;
      const id = rec.runId;
      rec.started(backend);
      emit({
        type: 'run',
        runId: id,
        kind: req.kind,
        backend: backend.name,
        device: backend.device,
        config: record,
        resumedFromEpoch: startEpoch,
      });
      if (plan.outOfRange > 0)
        emit({
          type: 'warning',
          runId: id,
          message: `${plan.outOfRange} frames have a label outside the ${classes} classes and are not used`,
        });
      if (plan.val.length === 0) emit({ type: 'warning', runId: id, message: 'no validation frames: epochs report training loss only' });
      const hint = !resumeRun && req.kind === 'train' && !record.init ? scratchHint(cfg, false) : null;
      if (hint) emit({ type: 'warning', runId: id, message: hint });

      const trained = { nets, optimizers };
      const unsubscribe = control.onPauseChange((s) => {
        rec.pauseChanged(s);
        emit({ type: s });
      });
      let fit;
      try {
        fit = await fitCct(
          trained.nets,
          trained.optimizers,
          { train: samplesOf(plan.train), val: samplesOf(plan.val), classes },
          {
            config: cfg,
            startEpoch,
            rng,
            control,
            callbacks: {
              onStep: (s) => emit({ type: 'step', runId: id, ...s }),
              onEveryStep: (s) => rec.step(s),
              onProgress: (progress) => emit({ type: 'progress', runId: id, progress }),
              onSkip: (s) => emit({ type: 'warning', runId: id, file: s.file, message: `skipped image ${s.file}: ${s.reason}` }),
              onEpochEnd: async (metrics, state) => {
                await rec.epochEnd(metrics, state.epochsDone, {
                  nets: trained.nets,
                  optimizers: trained.optimizers,
                  rngState: state.rngState,
                });
                emit({ type: 'epoch', runId: id, metrics });
                emit({ type: 'checkpoint', runId: id, epoch: state.epochsDone, dir: rec.checkpointDir });
                const verdict = metrics.val ? degenerateVerdict(metrics.val.ensemble.confusion, metrics.epoch, ABAW8) : null;
                if (verdict)
                  emit({ type: 'warning', runId: id, message: `epoch ${metrics.epoch + 1}: ${verdict.reason}; ${verdict.advice}` });
              },
            },
          },
        );
      } finally {
        unsubscribe();
      }
      rec.done();
      const out: TrainOutcome = {
        mode: req.kind,
        runId: id,
        status: 'done',
        epochs: cfg.epochs,
        final: fit.final ?? rec.lastMetrics,
        skippedImages: fit.skippedImages,
      };
      if (req.keepNets) {
        out.nets = nets;
        out.plan = plan;
        out.config = record;
        nets = [];
      }
      return out;
    } catch (e) {
      const rec = recorder as RunRecorder | null;
      if (e instanceof CancelledError) {
        rec?.cancelled();
        return { mode: req.kind, runId: rec?.runId ?? null, status: 'cancelled' };
      }
      rec?.failed(explainBackendFailure(e).message);
      throw explainBackendFailure(e);
    } finally {
      nets.forEach(disposeResNet);
      if (optimizers) disposeCctOptimizers(optimizers);
    }
  });
}
