// Training runs, per-epoch metrics and per-frame predictions.
import type { Db } from './db';
import { nowIso, WriterLock } from './db';

export type RunKind = 'train' | 'finetune' | 'pretrain' | 'crossfit';
export type RunStatus = 'running' | 'done' | 'cancelled' | 'failed' | 'paused';

export interface RunRow {
  id: number;
  kind: RunKind;
  status: RunStatus;
  config: string;
  backend: string | null;
  device: string | null;
  versions: string | null;
  checkpoint_dir: string | null;
  parent_run_id: number | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export function createRun(db: Db, r: { kind: RunKind; config: unknown; parentRunId?: number | null }): number {
  return Number(
    db
      .prepare('INSERT INTO runs (kind, status, config, parent_run_id, started_at) VALUES (?, ?, ?, ?, ?)')
      .run(r.kind, 'running', JSON.stringify(r.config), r.parentRunId ?? null, nowIso()).lastInsertRowid,
  );
}

export function updateRun(
  db: Db,
  id: number,
  fields: Partial<{
    status: RunStatus;
    backend: string;
    device: string;
    versions: unknown;
    checkpoint_dir: string;
    error: string | null;
    config: unknown;
    finished: boolean;
  }>,
): void {
  const sets: string[] = [];
  const args: unknown[] = [];
  const put = (col: string, v: unknown) => {
    sets.push(`${col} = ?`);
    args.push(v);
  };
  if (fields.status !== undefined) put('status', fields.status);
  if (fields.backend !== undefined) put('backend', fields.backend);
  if (fields.device !== undefined) put('device', fields.device);
  if (fields.versions !== undefined) put('versions', JSON.stringify(fields.versions));
  if (fields.checkpoint_dir !== undefined) put('checkpoint_dir', fields.checkpoint_dir);
  if (fields.error !== undefined) put('error', fields.error);
  if (fields.config !== undefined) put('config', JSON.stringify(fields.config));
  if (fields.finished) put('finished_at', nowIso());
  if (!sets.length) return;
  db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
}

export function getRun(db: Db, id: number): RunRow | undefined {
  return db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
}

export const INTERRUPTED_MESSAGE =
  'interrupted: the trainer stopped without finishing (killed, crashed or the machine went down); resume continues from the last completed epoch';

/**
 * Runs left 'running' or 'paused' by a trainer that no longer exists (SIGKILL, power loss) become
 * 'failed' with a message saying so; a resume continues them. Only when no live process holds the
 * project's training lock, or when the caller has just taken it (`holdingLock`: a trainer starting).
 * Returns the runs changed.
 */
export function markInterruptedRuns(db: Db, projectDir: string, opts: { holdingLock?: boolean } = {}): number {
  const holder = new WriterLock(projectDir, 'train').holder();
  if (holder && !(opts.holdingLock && holder.pid === process.pid)) return 0;
  return db
    .prepare("UPDATE runs SET status = 'failed', error = ?, finished_at = ? WHERE status IN ('running', 'paused')")
    .run(INTERRUPTED_MESSAGE, nowIso()).changes;
}

export function listRuns(db: Db): RunRow[] {
  return db.prepare('SELECT * FROM runs ORDER BY id DESC').all() as RunRow[];
}

/** The newest finished run that has predictions, else the newest run with a checkpoint. */
export function latestRun(db: Db, opts: { withPredictions?: boolean } = {}): RunRow | undefined {
  if (opts.withPredictions) {
    return db
      .prepare('SELECT r.* FROM runs r WHERE EXISTS (SELECT 1 FROM predictions p WHERE p.run_id = r.id) ORDER BY r.id DESC LIMIT 1')
      .get() as RunRow | undefined;
  }
  return db.prepare("SELECT * FROM runs WHERE checkpoint_dir IS NOT NULL AND kind != 'crossfit' ORDER BY id DESC LIMIT 1").get() as
    RunRow | undefined;
}

export interface EpochRow {
  run_id: number;
  epoch: number;
  loss_sup: number;
  loss_cons: number;
  loss_total: number;
  lambda: number;
  lr: number;
  images_per_sec: number;
  val: string | null;
  created_at: string;
}

export function putEpochMetrics(
  db: Db,
  runId: number,
  m: {
    epoch: number;
    lossSup: number;
    lossCons: number;
    lossTotal: number;
    lambda: number;
    lr: number;
    imagesPerSec: number;
    val: unknown;
  },
): void {
  db.prepare(
    `INSERT INTO epoch_metrics (run_id, epoch, loss_sup, loss_cons, loss_total, lambda, lr, images_per_sec, val, created_at)
     VALUES (?,?,?,?,?,?,?,?,?,?)
     ON CONFLICT (run_id, epoch) DO UPDATE SET loss_sup=excluded.loss_sup, loss_cons=excluded.loss_cons, loss_total=excluded.loss_total,
       lambda=excluded.lambda, lr=excluded.lr, images_per_sec=excluded.images_per_sec, val=excluded.val, created_at=excluded.created_at`,
  ).run(runId, m.epoch, m.lossSup, m.lossCons, m.lossTotal, m.lambda, m.lr, m.imagesPerSec, JSON.stringify(m.val), nowIso());
}

export function epochMetrics(db: Db, runId: number): EpochRow[] {
  return db.prepare('SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch').all(runId) as EpochRow[];
}

/** Write a batch of predictions in one transaction. probs is N*C float32, network-major. */
export function putPredictions(
  db: Db,
  runId: number,
  nets: number,
  classes: number,
  rows: { frameId: number; probs: Float32Array }[],
): void {
  const ins = db.prepare(
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
  for (const r of db.prepare('SELECT frame_id FROM predictions WHERE run_id = ?').iterate(runId) as Iterable<{ frame_id: number }>)
    ids.add(r.frame_id);
  return ids;
}

export function countPredictions(db: Db, runId: number): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM predictions WHERE run_id = ?').get(runId) as { n: number }).n;
}

export function decodeProbs(blob: Buffer): Float32Array {
  // Copy: the Buffer may not be 4-byte aligned.
  const out = new Float32Array(blob.byteLength / 4);
  Buffer.from(out.buffer).set(blob);
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
  const stmt = db.prepare(
    `SELECT p.frame_id AS frameId, f.video_id AS videoId, v.name AS video, v.split AS split, f.idx AS idx,
            l.current_label AS label, l.original_label AS originalLabel, p.nets AS nets, p.classes AS classes, p.probs AS probs
     FROM predictions p JOIN frames f ON f.id = p.frame_id JOIN labels l ON l.frame_id = f.id JOIN videos v ON v.id = f.video_id
     WHERE p.run_id = ? ORDER BY f.video_id, f.idx`,
  );
  for (const r of stmt.iterate(runId) as Iterable<Omit<PredictionRow, 'probs'> & { probs: Buffer }>) {
    yield { ...r, probs: decodeProbs(r.probs) };
  }
}
