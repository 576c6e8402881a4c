// A tiny ABAW-shaped project for trainer tests: demo faces (32 px), imported with importAbaw.
import { join } from 'node:path';
import { generateDemoData } from '../../../src/main/core/demo/generate';
import { importAbaw } from '../../../src/main/core/ingest/abaw';
import { openDb } from '../../../src/store/db';
import { datasetInfo } from '../../../src/store/dataset';
import { tempDir } from '../../helpers/tmp';

export interface TinyProject {
  root: string;
  projectDir: string;
  data: string;
  /** Labelled frames with a crop in Train_Set and Validation_Set; all frames with a crop. */
  trainable: number;
  validation: number;
  withCrop: number;
}

export async function tinyProject(opts: { videos?: number; frames?: number; seed?: number; noise?: number } = {}): Promise<TinyProject> {
  const root = tempDir();
  const data = join(root, 'data');
  await generateDemoData({
    outDir: data,
    videos: opts.videos ?? 4,
    frames: opts.frames ?? 12,
    noise: opts.noise ?? 0,
    seed: opts.seed ?? 5,
    size: 32,
    encodeVideos: false,
  });
  const projectDir = join(root, 'project');
  const db = openDb(projectDir, { create: true });
  const r = importAbaw(db, { annotations: join(data, 'annotations'), frames: join(data, 'cropped_aligned') });
  const info = datasetInfo(db);
  db.close();
  if (r.errors.length) throw new Error(`fixture import failed: ${JSON.stringify(r.errors)}`);
  return {
    root,
    projectDir,
    data,
    trainable: info.splits.Train_Set.trainable,
    validation: info.splits.Validation_Set.trainable,
    withCrop: info.frames - info.missingCrops,
  };
}

/** The config every trainer test uses: small, fast, deterministic, cpu backend. */
export const TINY_CONFIG = {
  model: 'tiny',
  inputSize: 32,
  batch: 12,
  evalBatch: 32,
  nets: 3,
  epochs: 2,
  backend: 'cpu',
  seed: 3,
} as const;
