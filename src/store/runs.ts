// Training runs and per-epoch metrics (their predictions: predictions.ts).
import type { Db } from './db';
import { nowIso, stmt, WriterLock } from './db';

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
    stmt(db, 'INSERT INTO runs (kind, status, config, parent_run_id, started_at) VALUES (?, ?, ?, ?, ?)').run(
      r.kind,
      'running',
      JSON.stringify(r.config),
      r.parentRunId ?? null,
      nowIso(),
    ).lastInsertRowid,
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
  stmt(db, `UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
}

export function getRun(db: Db, id: number): RunRow | undefined {
  return stmt(db, 'SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
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
  return stmt(db, "UPDATE runs SET status = 'failed', error = ?, finished_at = ? WHERE status IN ('running', 'paused')").run(
    INTERRUPTED_MESSAGE,
    nowIso(),
  ).changes;
}

export function listRuns(db: Db): RunRow[] {
  return stmt(db, 'SELECT * FROM runs ORDER BY id DESC').all() as RunRow[];
}

/** The newest run with a checkpoint (not a cross-fit); the newest with predictions is predictions.ts latestPredictedRun. */
export function latestRun(db: Db): RunRow | undefined {
  return stmt(db, "SELECT * FROM runs WHERE checkpoint_dir IS NOT NULL AND kind != 'crossfit' ORDER BY id DESC LIMIT 1").get() as
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
  stmt(
    db,
    `INSERT INTO epoch_metrics (run_id, epoch, loss_sup, loss_cons, loss_total, lambda, lr, images_per_sec, val, created_at)
     VALUES (?,?,?,?,?,?,?,?,?,?)
     ON CONFLICT (run_id, epoch) DO UPDATE SET loss_sup=excluded.loss_sup, loss_cons=excluded.loss_cons, loss_total=excluded.loss_total,
       lambda=excluded.lambda, lr=excluded.lr, images_per_sec=excluded.images_per_sec, val=excluded.val, created_at=excluded.created_at`,
  ).run(runId, m.epoch, m.lossSup, m.lossCons, m.lossTotal, m.lambda, m.lr, m.imagesPerSec, JSON.stringify(m.val), nowIso());
}

export function epochMetrics(db: Db, runId: number): EpochRow[] {
  return stmt(db, 'SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch').all(runId) as EpochRow[];
}
