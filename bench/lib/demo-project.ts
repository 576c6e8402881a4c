// Building blocks of the quality benches: a demo dataset imported into a fresh project, and the
// paper's starting point, a backbone pretrained on clean labels of *other* people (the paper
// pretrains on AffectNet or MS-Celeb, then finetunes on Aff-Wild2), written as a torchvision-keyed
// .safetensors file so that finetune and crossfit load it through the user's import path.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDemoData, type DemoSummary, type NoiseKind } from '../../src/main/core/demo/generate';
import { importAbaw } from '../../src/main/core/ingest/abaw';
import { openDb } from '../../src/store/db';
import { loadCheckpoint } from '../../src/trainer/checkpoint';
import { disposeCctOptimizers } from '../../src/trainer/cct';
import { RunControl } from '../../src/trainer/control';
import { trainRun } from '../../src/trainer/loop';
import { checkpointDir } from '../../src/trainer/recorder';
import { disposeResNet, toTorchStateDict } from '../../src/trainer/resnet';
import { writeSafetensors } from '../../src/trainer/safetensors';
import type { EpochMetrics } from '../../src/shared/api';

export interface DemoProject {
  projectDir: string;
  groundTruth: string;
  demo: DemoSummary;
}

export async function demoProject(
  dir: string,
  opts: { videos: number; frames: number; noise: number; noiseKind: NoiseKind; seed: number; validationShare?: number },
): Promise<DemoProject> {
  const data = join(dir, 'data');
  const demo = await generateDemoData({ outDir: data, ...opts, encodeVideos: false });
  const projectDir = join(dir, 'project');
  const db = openDb(projectDir, { create: true });
  try {
    importAbaw(db, { annotations: join(data, 'annotations'), frames: join(data, 'cropped_aligned') });
  } finally {
    db.close();
  }
  return { projectDir, groundTruth: join(data, 'ground_truth.csv'), demo };
}

export interface PretrainOptions {
  videos: number;
  frames: number;
  epochs: number;
  model: string;
  inputSize: number;
  batch: number;
  backend: string;
  /** The benchmark's data seed; the pretraining people are drawn from another seed. */
  seed: number;
}

/**
 * CE (N = 1) on a clean demo dataset whose faces share nothing with the benchmark's (another seed),
 * then the network's state dict as .safetensors. Returns the file and the pretraining's last
 * validation accuracy (on its own held-out people).
 */
export async function pretrainedWeights(dir: string, o: PretrainOptions): Promise<{ file: string; valAccuracy: number; seconds: number }> {
  const t = Date.now();
  const p = await demoProject(dir, { videos: o.videos, frames: o.frames, noise: 0, noiseKind: 'symmetric', seed: o.seed + 1000 });
  const history: EpochMetrics[] = [];
  const out = await trainRun(
    {
      projectDir: p.projectDir,
      kind: 'pretrain',
      config: {
        nets: 1,
        epochs: o.epochs,
        model: o.model,
        inputSize: o.inputSize,
        batch: o.batch,
        backend: o.backend,
        seed: o.seed + 1000,
      },
    },
    new RunControl(),
    (m) => m.type === 'epoch' && history.push(m.metrics),
  );
  const ck = await loadCheckpoint(checkpointDir(p.projectDir, out.runId!));
  const file = join(dir, 'pretrained.safetensors');
  try {
    writeFileSync(file, writeSafetensors(await toTorchStateDict(ck.nets[0])));
  } finally {
    ck.nets.forEach(disposeResNet);
    disposeCctOptimizers(ck.optimizers);
  }
  return { file, valAccuracy: history.at(-1)?.val?.ensemble.accuracy ?? NaN, seconds: Math.round((Date.now() - t) / 1000) };
}
