// Cross-fitting: K CCT models on folds split by video (or, with foldBy 'stretch', by runs of one given
// label within each video; an image list image by image, or by the subject each image names: split.ts planFold); each frame is predicted
// by the model that did not train on it, so the stored probabilities are out-of-sample (what
// confident learning needs).
// One parent run of kind 'crossfit' holds every prediction; each fold is a child run with its own
// epoch metrics and checkpoint. Resuming skips finished folds and already predicted frames.
import { resolve } from 'node:path';
import { ProjectError } from '../store/db';
import { listFrames, listVideos } from '../store/dataset';
import { countPredictions } from '../store/predictions';
import { createRun, getRun, listRuns, updateRun, type RunRow } from '../store/runs';
import { CancelledError } from '../shared/progress';
import { selectBackend } from './backend';
import { disposeCctOptimizers } from './cct';
import { loadCheckpoint } from './checkpoint';
import { shippedWeights } from './shipped';
import { defaultRecipe, parseTrainConfig } from './config';
import type { RunControl } from './control';
import { predictFrames } from './infer';
import { trainRun } from './loop';
import type { Emit, TrainerResult } from './protocol';
import { checkpointDir, configFromRecord, latestUnfinishedRun, type RunConfigRecord } from './recorder';
import { disposeResNet, type ResNet } from './resnet';
import { withRunSession } from './session';
import { planFold } from './split';

export interface CrossfitRequest {
  projectDir: string;
  config: Record<string, unknown>;
  folds?: number;
  resume?: boolean;
  runId?: number;
  /** Start every fold from this run's networks or from a torchvision-keyed .safetensors file (as finetune does). */
  fromRun?: number;
  fromFile?: string;
}

export async function crossfitRun(req: CrossfitRequest, control: RunControl, emit: Emit): Promise<TrainerResult> {
  return withRunSession(req.projectDir, {}, async (db) => {
    let parentId: number | null = null;
    try {
      let parent: RunRow | undefined;
      if (req.resume) {
        parent = req.runId !== undefined ? getRun(db, req.runId) : latestUnfinishedRun(db, 'crossfit');
        if (!parent)
          throw new ProjectError(req.runId !== undefined ? `run ${req.runId} does not exist` : 'no unfinished crossfit run to resume');
        if (parent.kind !== 'crossfit' || parent.parent_run_id !== null) throw new ProjectError(`run ${parent.id} is not a crossfit run`);
      }
      let record: RunConfigRecord;
      if (parent) {
        record = JSON.parse(parent.config) as RunConfigRecord;
      } else {
        const folds = req.folds ?? 3;
        // what the config leaves out comes from the backend's recipe, as for train (config.ts defaultRecipe)
        const recipe = defaultRecipe(await selectBackend(typeof req.config.backend === 'string' ? req.config.backend : 'auto'));
        let input: Record<string, unknown> = { ...recipe, ...req.config };
        if (req.fromRun !== undefined) {
          const src = getRun(db, req.fromRun);
          if (!src) throw new ProjectError(`run ${req.fromRun} does not exist`);
          // Like finetune: the folds inherit model and input size from the run they start from.
          const srcCfg = JSON.parse(src.config) as Record<string, unknown>;
          input = { ...recipe, model: srcCfg.model, inputSize: srcCfg.inputSize, ...req.config };
        }
        const cfg = parseTrainConfig(input, 'crossfit config');
        record = { ...cfg, classes: 7, mode: 'crossfit', crossfit: { folds } };
        if (req.fromRun !== undefined || req.fromFile)
          record.init = { fromRun: req.fromRun, fromFile: req.fromFile ? resolve(req.fromFile) : undefined, loaded: 0, headSkipped: false };
        else if (cfg.pretrained === 'auto') {
          // like train: every fold starts from the shipped weights for the small CPU presets (from
          // random weights CCT collapses on small data), and fine-tunes from there
          const shipped = shippedWeights(cfg.model, cfg.inputSize);
          if (shipped) record.init = { fromFile: shipped.file, shipped: true, loaded: 0, headSkipped: false };
        }
      }
      const cfg = configFromRecord(record as unknown as Record<string, unknown>);
      const folds = record.crossfit?.folds;
      if (!folds || folds < 2) throw new ProjectError('crossfit needs --folds K with K >= 2');
      const backend = await selectBackend(cfg.backend);
      // Fail before training when the fold split is impossible (fewer videos than folds).
      const frames = listFrames(db, { withFaceOnly: true });
      const videos = listVideos(db);
      record.classes = planFold(frames, videos, cfg, folds, 0).classes as 7 | 8;
      if (parent) {
        parentId = parent.id;
        updateRun(db, parentId, { status: 'running', error: null });
      } else {
        parentId = createRun(db, { kind: 'crossfit', config: record });
      }
      updateRun(db, parentId, {
        backend: backend.name,
        device: backend.device,
        versions: { ...backend.versions, threads: backend.threads },
      });
      const pid = parentId;

      const foldRuns: number[] = [];
      let skipped = 0;
      for (let fold = 0; fold < folds; fold++) {
        const child = listRuns(db).find(
          (r) => r.parent_run_id === pid && (JSON.parse(r.config) as RunConfigRecord).crossfit?.fold === fold,
        );
        let nets: ResNet[] = [];
        try {
          if (child?.status === 'done') {
            const ck = await loadCheckpoint(child.checkpoint_dir ?? checkpointDir(req.projectDir, child.id));
            nets = ck.nets;
            disposeCctOptimizers(ck.optimizers);
            foldRuns.push(child.id);
          } else {
            emit({
              type: 'progress',
              runId: pid,
              progress: { phase: `fold ${fold + 1}/${folds}`, done: fold, total: folds, rate: 0, etaSeconds: null },
            });
            const out = await trainRun(
              {
                projectDir: req.projectDir,
                db,
                kind: 'crossfit',
                config: { ...cfg, classes: record.classes },
                resume: child !== undefined,
                runId: child?.id,
                crossfit: { parentRunId: pid, folds, fold },
                // Each new fold starts from the same weights; a resumed fold from its own checkpoint.
                fromRun: child ? undefined : record.init?.fromRun,
                fromFile: child ? undefined : record.init?.fromFile,
                keepNets: true,
              },
              control,
              emit,
            );
            if (out.status === 'cancelled') throw new CancelledError('crossfit');
            nets = out.nets!;
            foldRuns.push(out.runId!);
          }
          const held = planFold(frames, videos, cfg, folds, fold).heldOut;
          const r = await predictFrames({
            db,
            runId: pid,
            nets,
            frames: held,
            inputSize: cfg.inputSize,
            batch: cfg.evalBatch,
            prefetch: cfg.prefetch,
            control,
            emit,
            phase: `predict fold ${fold + 1}/${folds}`,
            flip: cfg.predictFlip,
          });
          skipped += r.skipped;
        } finally {
          nets.forEach(disposeResNet);
        }
      }
      updateRun(db, pid, { status: 'done', error: null, finished: true });
      return { mode: 'crossfit', runId: pid, status: 'done', foldRuns, predictions: countPredictions(db, pid), skippedImages: skipped };
    } catch (e) {
      if (e instanceof CancelledError) {
        if (parentId !== null)
          updateRun(db, parentId, { status: 'cancelled', error: 'cancelled; resume continues with the unfinished folds' });
        return { mode: 'crossfit', runId: parentId, status: 'cancelled' };
      }
      if (parentId !== null) updateRun(db, parentId, { status: 'failed', error: (e as Error).message, finished: true });
      throw e;
    }
  });
}
