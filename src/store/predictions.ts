// Per-frame predictions of a run: the only module that reads or writes the predictions table.
// probs is a float32 blob of nets*classes values, network-major. Consensus and scores: core/review/scores.ts.
import type { Db } from './db';
import { stmt } from './db';
import { framePath } from './dataset';
import type { RunRow } from './runs';

/** Write a batch of predictions in one transaction. probs is N*C float32, network-major. */
export function putPredictions(
  db: Db,
  runId: number,
  nets: number,
  classes: number,
  rows: { frameId: number; probs: Float32Array }[],
): void {
  const ins = stmt(
    db,
    'INSERT INTO predictions (run_id, frame_id, nets, classes, probs) VALUES (?,?,?,?,?) ON CONFLICT (run_id, frame_id) DO UPDATE SET probs = excluded.probs, nets = excluded.nets, classes = excluded.classes',
  );
  db.transaction(() => {
    for (const r of rows) {
      if (r.probs.length !== nets * classes)
        throw new Error(`frame ${r.frameId}: expected ${nets * classes} probabilities, got ${r.probs.length}`);
      ins.run(runId, r.frameId, nets, classes, Buffer.from(r.probs.buffer, r.probs.byteOffset, r.probs.byteLength));
    }
  })();
}

export function predictedFrameIds(db: Db, runId: number): Set<number> {
  const ids = new Set<number>();
  for (const r of stmt(db, 'SELECT frame_id FROM predictions WHERE run_id = ?').iterate(runId) as Iterable<{ frame_id: number }>)
    ids.add(r.frame_id);
  return ids;
}

export function countPredictions(db: Db, runId: number): number {
  return (stmt(db, 'SELECT COUNT(*) AS n FROM predictions WHERE run_id = ?').get(runId) as { n: number }).n;
}

export function decodeProbs(blob: Buffer): Float32Array {
  // Copy: the Buffer may not be 4-byte aligned.
  const out = new Float32Array(blob.byteLength / 4);
  new Uint8Array(out.buffer).set(blob); // a plain view: Buffer.from(arrayBuffer) costs twice as much per blob
  return out;
}

export interface PredictionRow {
  frameId: number;
  videoId: number;
  video: string;
  split: string;
  idx: number;
  label: number;
  originalLabel: number;
  nets: number;
  classes: number;
  probs: Float32Array;
}

/** All predictions of a run with their frame's labels, ordered by video and frame index. */
export function* iteratePredictions(db: Db, runId: number): Generator<PredictionRow> {
  const rows = stmt(
    db,
    `SELECT p.frame_id AS frameId, f.video_id AS videoId, v.name AS video, v.split AS split, f.idx AS idx,
            l.current_label AS label, l.original_label AS originalLabel, p.nets AS nets, p.classes AS classes, p.probs AS probs
     FROM predictions p JOIN frames f ON f.id = p.frame_id JOIN labels l ON l.frame_id = f.id JOIN videos v ON v.id = f.video_id
     WHERE p.run_id = ? ORDER BY f.video_id, f.idx`,
  );
  for (const r of rows.iterate(runId) as Iterable<Omit<PredictionRow, 'probs'> & { probs: Buffer }>) {
    yield { ...r, probs: decodeProbs(r.probs) };
  }
}

/** The newest run that has predictions. */
export function latestPredictedRun(db: Db): RunRow | undefined {
  return stmt(
    db,
    'SELECT r.* FROM runs r WHERE EXISTS (SELECT 1 FROM predictions p WHERE p.run_id = r.id) ORDER BY r.id DESC LIMIT 1',
  ).get() as RunRow | undefined;
}

// ---------------------------------------------------------------------------------------------
// Scoring and review reads

export interface VideoPredictions {
  videoId: number;
  frameIds: number[];
  idx: number[];
  labels: number[];
  nets: number;
  classes: number;
  /** frame i's N*C probabilities at [i*N*C, (i+1)*N*C) */
  probs: Float32Array;
}

/**
 * One video's predictions of a run with the frames' current labels, in frame order. Per video
 * through the (video_id, idx) index: no sort of the whole run's blobs.
 */
export function videoPredictions(db: Db, runId: number, videoId: number): VideoPredictions | null {
  const rows = stmt(
    db,
    `SELECT f.id, f.idx, l.current_label, p.nets, p.classes, p.probs
     FROM frames f JOIN labels l ON l.frame_id = f.id JOIN predictions p ON p.run_id = ? AND p.frame_id = f.id
     WHERE f.video_id = ? ORDER BY f.idx`,
  )
    .raw()
    .all(runId, videoId) as [number, number, number, number, number, Buffer][];
  if (!rows.length) return null;
  const nets = rows[0]![3];
  const classes = rows[0]![4];
  const size = nets * classes;
  const bytes = new Uint8Array(rows.length * size * 4);
  const out: VideoPredictions = { videoId, frameIds: [], idx: [], labels: [], nets, classes, probs: new Float32Array(bytes.buffer) };
  rows.forEach(([id, idx, label, n, c, blob], i) => {
    if (n !== nets || c !== classes || blob.byteLength !== size * 4) {
      throw new Error(
        `run ${runId}, frame ${id}: prediction is ${n}x${c} (${blob.byteLength} bytes), expected ${nets}x${classes} as in the rest of the run`,
      );
    }
    bytes.set(blob, i * size * 4); // copy: a Buffer need not be 4-byte aligned
    out.frameIds.push(id);
    out.idx.push(idx);
    out.labels.push(label);
  });
  return out;
}

/** Whether a run has any predictions. */
export function runHasPredictions(db: Db, runId: number): boolean {
  return stmt(db, 'SELECT 1 FROM predictions WHERE run_id = ? LIMIT 1').get(runId) !== undefined;
}

/** One frame's prediction, decoded. */
export interface FramePrediction {
  nets: number;
  classes: number;
  /** network j's softmax at [j*classes, (j+1)*classes) */
  probs: Float32Array;
}

function toPrediction(r: { nets: number | null; classes: number | null; probs: Buffer | null }): FramePrediction | null {
  return r.probs && r.nets && r.classes ? { nets: r.nets, classes: r.classes, probs: decodeProbs(r.probs) } : null;
}

export interface FrameWithPrediction {
  frameId: number;
  idx: number;
  hasFace: boolean;
  imagePath: string;
  original: number;
  current: number;
  /** null when the run has no prediction for the frame */
  prediction: FramePrediction | null;
}

/** A video's frames with index in [fromIdx, toIdx], their labels and the run's predictions, in frame order. */
export function framesWithPredictions(
  db: Db,
  runId: number | null,
  videoId: number,
  fromIdx: number,
  toIdx: number,
): FrameWithPrediction[] {
  const rows = stmt(
    db,
    `SELECT f.id, f.idx, f.has_face, f.image_path, v.frames_dir, l.original_label, l.current_label, p.nets, p.classes, p.probs
     FROM frames f JOIN videos v ON v.id = f.video_id JOIN labels l ON l.frame_id = f.id
     LEFT JOIN predictions p ON p.run_id = ? AND p.frame_id = f.id
     WHERE f.video_id = ? AND f.idx BETWEEN ? AND ? ORDER BY f.idx`,
  ).all(runId, videoId, fromIdx, toIdx) as {
    id: number;
    idx: number;
    has_face: number;
    image_path: string | null;
    frames_dir: string | null;
    original_label: number;
    current_label: number;
    nets: number | null;
    classes: number | null;
    probs: Buffer | null;
  }[];
  return rows.map((r) => ({
    frameId: r.id,
    idx: r.idx,
    hasFace: r.has_face === 1,
    imagePath: framePath(r.frames_dir, r.idx, r.image_path),
    original: r.original_label,
    current: r.current_label,
    prediction: toPrediction(r),
  }));
}
