// Cross-fits that fold other than by whole video: by stretch of one given label within each video,
// and an image list, which has no videos and is dealt to the folds image by image. Real training
// (cpu backend, 1 epoch): every frame gets exactly one out-of-sample prediction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { openDb } from '../../../src/store/db';
import { listFrames } from '../../../src/store/dataset';
import { countPredictions } from '../../../src/store/predictions';
import { getRun, listRuns } from '../../../src/store/runs';
import { importImages } from '../../../src/main/core/ingest/images';
import { RunControl } from '../../../src/trainer/control';
import { crossfitRun } from '../../../src/trainer/crossfit';
import { tempDir } from '../../helpers/tmp';
import { TINY_CONFIG, tinyProject, type TinyProject } from './project-fixture';

let p: TinyProject;
beforeAll(async () => {
  await tf.setBackend('cpu');
  p = await tinyProject({ videos: 4, frames: 16, noise: 0.3, seed: 11 });
});
afterAll(() => p && rmSync(p.root, { recursive: true, force: true }));

const foldValidation = (dir: string, parent: number) => {
  const db = openDb(dir, { readonly: true });
  try {
    return listRuns(db)
      .filter((r) => r.parent_run_id === parent)
      .map((r) => JSON.parse(r.config) as { validation?: string; split?: { validation?: string } });
  } finally {
    db.close();
  }
};

describe('crossfit folds', () => {
  it('by stretch: every frame predicted once, each fold recorded as folded by stretch', async () => {
    const r = await crossfitRun(
      { projectDir: p.projectDir, folds: 2, config: { ...TINY_CONFIG, epochs: 1, foldBy: 'stretch' } },
      new RunControl(),
      () => {},
    );
    expect(r.status).toBe('done');
    expect(r.predictions).toBe(p.withCrop);
    const db = openDb(p.projectDir, { readonly: true });
    try {
      expect(JSON.parse(getRun(db, r.runId!)!.config).foldBy).toBe('stretch');
    } finally {
      db.close();
    }
    const folds = foldValidation(p.projectDir, r.runId!);
    expect(folds).toHaveLength(2);
    for (const f of folds) expect(JSON.stringify(f)).toContain('by stretch of one label within each video');
  });

  it('an image list (no videos to fold by) is dealt image by image and fully predicted', async () => {
    // the tiny project's labelled crops as a `path,label,split` list
    const root = join(p.data, 'cropped_aligned');
    const rows = ['path,label,split'];
    for (const track of readdirSync(root).sort())
      for (const img of readdirSync(join(root, track)).sort()) rows.push(`${track}/${img},${rows.length % 7},Train_Set`);
    const dir = join(tempDir(), 'images-project');
    const list = join(p.root, 'images.csv');
    writeFileSync(list, rows.join('\n') + '\n');
    const db = openDb(dir, { create: true });
    try {
      importImages(db, { list, root, format: 'csv' });
    } finally {
      db.close();
    }
    const r = await crossfitRun({ projectDir: dir, folds: 3, config: { ...TINY_CONFIG, epochs: 1 } }, new RunControl(), () => {});
    expect(r.status).toBe('done');
    expect(r.foldRuns).toHaveLength(3);
    const check = openDb(dir, { readonly: true });
    try {
      const frames = listFrames(check, { withFaceOnly: true }).length;
      expect(frames).toBe(rows.length - 1);
      expect(countPredictions(check, r.runId!)).toBe(frames);
    } finally {
      check.close();
    }
    for (const f of foldValidation(dir, r.runId!)) expect(JSON.stringify(f)).toContain('images one by one');
  });
});
