// Small hand-made stores for the review and export tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../../src/store/db';
import { upsertVideo } from '../../../src/store/dataset';
import { putPredictions } from '../../../src/store/predictions';
import { createRun, updateRun } from '../../../src/store/runs';
import { ABAW7_HEADER } from '../../../src/shared/labels';

export const C = 7;

/** A softmax-like vector with `conf` on class c and the rest spread evenly. */
export function peaked(c: number, conf = 0.9, classes = C): number[] {
  const rest = (1 - conf) / (classes - 1);
  return Array.from({ length: classes }, (_, k) => (k === c ? conf : rest));
}

/** N networks' vectors, network-major. */
export function nets(...vectors: number[][]): Float32Array {
  return Float32Array.from(vectors.flat());
}

export interface TestVideo {
  name: string;
  split?: string;
  labels: number[];
  hasFace?: number[];
  /** Default 'abaw'; 'rafdb' etc. make an image dataset. */
  source?: string;
}

export interface TestProject {
  dir: string;
  db: Db;
  /** frame id of video name, 1-based idx */
  frame(video: string, idx: number): number;
  cleanup(): void;
}

export function makeProject(videos: TestVideo[]): TestProject {
  const dir = mkdtempSync(join(tmpdir(), 'concord-review-'));
  const db = openDb(dir, { create: true });
  for (const v of videos) {
    upsertVideo(
      db,
      {
        name: v.name,
        split: v.split ?? 'Train_Set',
        source: v.source ?? 'abaw',
        labelSet: 'abaw7',
        header: ABAW7_HEADER,
        annotationFile: null,
        framesDir: join(dir, 'crops', v.name),
      },
      { labels: v.labels, hasFace: v.hasFace ?? v.labels.map(() => 1) },
    );
  }
  const ids = new Map<string, number>();
  for (const r of db.prepare('SELECT v.name AS name, f.idx AS idx, f.id AS id FROM frames f JOIN videos v ON v.id = f.video_id').all() as {
    name: string;
    idx: number;
    id: number;
  }[])
    ids.set(`${r.name}:${r.idx}`, r.id);
  return {
    dir,
    db,
    frame(video, idx) {
      const id = ids.get(`${video}:${idx}`);
      if (id === undefined) throw new Error(`no frame ${video}:${idx}`);
      return id;
    },
    cleanup() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Add a run whose predictions are given per frame id. */
export function addRun(db: Db, n: number, preds: [number, Float32Array][]): number {
  const runId = createRun(db, { kind: 'train', config: { nets: n } });
  putPredictions(
    db,
    runId,
    n,
    C,
    preds.map(([frameId, probs]) => ({ frameId, probs })),
  );
  return runId;
}

/** A finished run of `kind` that took `seconds` and left a checkpoint (a run trained here). */
export function finishedRun(
  proj: { db: Db },
  kind: 'train' | 'crossfit',
  seconds: number,
  config: unknown = {},
  parentRunId: number | null = null,
): number {
  const id = createRun(proj.db, { kind, config, parentRunId });
  updateRun(proj.db, id, { status: 'done', finished: true, checkpoint_dir: `runs/${id}` });
  const start = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
  proj.db
    .prepare('UPDATE runs SET started_at = ?, finished_at = ? WHERE id = ?')
    .run(start.toISOString(), new Date(start.getTime() + seconds * 1000).toISOString(), id);
  return id;
}
