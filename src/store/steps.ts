// Per-step training metrics (migration 005): written in batches by the trainer's recorder, read
// back downsampled for charts and page by page in full for CSV downloads.
import type { StepRecord } from '../shared/api';
import type { Db } from './db';
import { stmt, writeTransaction } from './db';

/** A row as an array (better-sqlite3 raw mode: about twice as fast as objects on long pages). */
type StepRow = [x: number, epoch: number, step: number, total: number, sup: number, cons: number, lambda: number, lr: number, ips: number];

const COLUMNS = 'x, epoch, step, loss_total, loss_sup, loss_cons, lambda, lr, images_per_sec';

function toRecord(r: StepRow): StepRecord {
  return { x: r[0], epoch: r[1], step: r[2], loss: { total: r[3], sup: r[4], cons: r[5] }, lambda: r[6], lr: r[7], imagesPerSec: r[8] };
}

/** Stores steps in one transaction; a step stored before (an epoch redone after a resume) is replaced. */
export function putSteps(db: Db, runId: number, steps: readonly StepRecord[]): void {
  if (!steps.length) return;
  const insert = stmt(
    db,
    `INSERT INTO step_metrics (run_id, ${COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)
     ON CONFLICT (run_id, x) DO UPDATE SET epoch=excluded.epoch, step=excluded.step, loss_total=excluded.loss_total,
       loss_sup=excluded.loss_sup, loss_cons=excluded.loss_cons, lambda=excluded.lambda, lr=excluded.lr, images_per_sec=excluded.images_per_sec`,
  );
  writeTransaction(db, () => {
    for (const s of steps) insert.run(runId, s.x, s.epoch, s.step, s.loss.total, s.loss.sup, s.loss.cons, s.lambda, s.lr, s.imagesPerSec);
  });
}

/** Forgets the steps of epochs from `epoch` on: a resumed run redoes them from its checkpoint. */
export function deleteStepsFrom(db: Db, runId: number, epoch: number): number {
  return stmt(db, 'DELETE FROM step_metrics WHERE run_id = ? AND epoch >= ?').run(runId, epoch).changes;
}

export function stepCount(db: Db, runId: number): number {
  return (stmt(db, 'SELECT COUNT(*) AS n FROM step_metrics WHERE run_id = ?').get(runId) as { n: number }).n;
}

/** Every step with x > after, in x order, at most limit; next is the page after (null at the end). */
export function stepPage(db: Db, runId: number, opts: { after?: number; limit: number }): { steps: StepRecord[]; next: number | null } {
  const rows = stmt(db, `SELECT ${COLUMNS} FROM step_metrics WHERE run_id = ? AND x > ? ORDER BY x LIMIT ?`)
    .raw()
    .all(runId, opts.after ?? Number.MIN_SAFE_INTEGER, opts.limit + 1) as StepRow[];
  const more = rows.length > opts.limit;
  const steps = (more ? rows.slice(0, opts.limit) : rows).map(toRecord);
  return { steps, next: more ? steps[steps.length - 1]!.x : null };
}

/**
 * At most maxPoints stored steps for a chart, min/max-preserving: x is cut into (maxPoints - 2) / 2
 * equal buckets and each bucket gives its steps with the lowest and the highest total loss (SQLite
 * returns a MIN()/MAX() row's other columns from that row); the first and last step are always in.
 * Every point is a real step, so spikes survive and nothing is averaged away. One primary-key range
 * query per bucket: no sort, about 0.3 s for 600k steps. Runs with at most maxPoints steps come back whole.
 */
export function downsampledSteps(db: Db, runId: number, maxPoints: number): StepRecord[] {
  const range = stmt(db, 'SELECT COUNT(*) AS n, MIN(x) AS lo, MAX(x) AS hi FROM step_metrics WHERE run_id = ?').get(runId) as {
    n: number;
    lo: number | null;
    hi: number | null;
  };
  if (range.n === 0 || range.lo === null || range.hi === null) return [];
  if (range.n <= maxPoints) return stepPage(db, runId, { limit: range.n }).steps;
  const buckets = Math.max(1, Math.floor((maxPoints - 2) / 2));
  const width = Math.max(1, Math.ceil((range.hi - range.lo + 1) / buckets));
  const inRange = (agg: 'MIN' | 'MAX') =>
    stmt(db, `SELECT ${COLUMNS}, ${agg}(loss_total) FROM step_metrics WHERE run_id = ? AND x >= ? AND x < ?`).raw();
  const lowest = inRange('MIN');
  const highest = inRange('MAX');
  const byX = new Map<number, StepRow>();
  const keep = (r: unknown) => {
    const row = r as StepRow | undefined;
    if (row && row[0] !== null) byX.set(row[0], row);
  };
  for (let from = range.lo; from <= range.hi; from += width) {
    keep(lowest.get(runId, from, from + width));
    keep(highest.get(runId, from, from + width));
  }
  const ends = stmt(db, `SELECT ${COLUMNS} FROM step_metrics WHERE run_id = ? AND x IN (?, ?)`).raw();
  for (const r of ends.all(runId, range.lo, range.hi)) keep(r);
  return [...byX.values()].sort((a, b) => a[0] - b[0]).map(toRecord);
}
