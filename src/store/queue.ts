// The review queue: a filter made into SQL (WHERE and INDEXED BY), queue pages (offset, fromEnd,
// keyset), totals and positions over the per-cell score-bucket counts of flag_cells, and locate.
import type { Db } from './db';
import { stmt } from './db';
import { framePath } from './dataset';
import type { FlagRow, FlagStatus } from './flags';
import type { FlagRule, QueueFilter } from '../shared/api';

export interface QueueCursor {
  score: number;
  id: number;
}

export interface QueueRow {
  flagId: number;
  frameId: number;
  runId: number;
  videoId: number;
  video: string;
  split: string;
  idx: number;
  rule: FlagRule;
  given: number;
  suggested: number;
  current: number;
  original: number;
  score: number;
  allAgree: boolean;
  status: FlagStatus;
  /** the frame's standing decision (accept, relabel, keep, exclude), null when none */
  decision: string | null;
  imagePath: string;
  details: Record<string, unknown> | null;
}

/** A filter made into SQL over the flags table's own columns (split and decision included, 004). */
export interface FlagWhere {
  status: 'open' | 'decided' | 'all';
  /** the filter's video, or null for none */
  videoId: number | null;
  /** the filter's cell conditions (columns of both flags and flag_cells) and their arguments */
  cell: string[];
  cellArgs: unknown[];
  minScore: number | null;
  maxScore: number | null;
  /** the filter can match nothing (an unknown video) */
  empty: boolean;
  /** the index that serves the order; `where` is every condition but the score bounds (scoreRange adds them) */
  index: string;
  where: string[];
  args: unknown[];
}

/**
 * Translate a filter into WHERE clauses and pick the index that serves its order: one video, the
 * status queue, or every status. INDEXED BY keeps SQLite from choosing an index that matches a
 * filter but then needs to sort a million rows; all three cover every filter column (004).
 */
export function flagWhere(db: Db, filter: QueueFilter, purpose: 'queue' | 'segments'): FlagWhere {
  const status = filter.status ?? 'open';
  const cell: string[] = [];
  const cellArgs: unknown[] = [];
  let empty = false;
  if (status !== 'all') {
    cell.push('status = ?');
    cellArgs.push(status);
  }
  let videoId: number | null = null;
  if (filter.video !== undefined) {
    const v = stmt(db, 'SELECT id FROM videos WHERE name = ?').get(filter.video) as { id: number } | undefined;
    if (!v) empty = true;
    videoId = v?.id ?? -1;
  }
  const conditions: [unknown, string][] = [
    [filter.split, 'split = ?'],
    [filter.given, 'given = ?'],
    [filter.suggested, 'suggested = ?'],
    [filter.rule, 'rule = ?'],
    [filter.allAgree === undefined ? undefined : filter.allAgree ? 1 : 0, 'all_agree = ?'],
  ];
  for (const [value, sql] of conditions) {
    if (value === undefined) continue;
    cell.push(sql);
    cellArgs.push(value);
  }
  // an empty list is no constraint (nothing ticked = any decision)
  if (filter.actions !== undefined && filter.actions.length > 0) {
    const actions = [...new Set(filter.actions)];
    cell.push(`decision IN (${actions.map(() => '?').join(',')})`);
    cellArgs.push(...actions);
  }
  const minScore = filter.minScore ?? null;
  const maxScore = filter.maxScore ?? null;
  if (minScore !== null && maxScore !== null && minScore > maxScore) empty = true;
  const where = [...cell];
  const args = [...cellArgs];
  if (videoId !== null) {
    where.push('video_id = ?');
    args.push(videoId);
  }
  let index: string;
  if (purpose === 'segments') index = status !== 'all' ? 'flags_segments' : 'flags_video_queue';
  else if (videoId !== null) index = 'flags_video_queue';
  else if (status !== 'all') index = 'flags_queue';
  else index = 'flags_any_queue';
  return { status, videoId, cell, cellArgs, minScore, maxScore, empty, index, where, args };
}

// ---------------------------------------------------------------------------------------------
// Counting and positions. flag_cells (004) holds the flags per filter cell and score bucket; a count
// over a score range sums its whole buckets and scans only the bucket(s) a bound falls in, on an
// index that covers the filter. One video is small enough to scan outright.

const BUCKETS = 100;
/** The bucket of a score, as flag_cells' triggers compute it (monotone in the score). */
export const BUCKET_SQL = 'MIN(99, MAX(0, CAST(score * 100 AS INTEGER)))';
const bucketOf = (score: number): number => Math.min(BUCKETS - 1, Math.max(0, Math.trunc(score * BUCKETS)));
const HUGE = 1e308;
// index range of a bucket, a hair wide: the bucket expression itself decides membership
const bucketLow = (b: number): number => (b <= 0 ? -HUGE : b / BUCKETS - 1e-9);
const bucketHigh = (b: number): number => (b >= BUCKETS - 1 ? HUGE : (b + 1) / BUCKETS + 1e-9);
/** denseScanRows: a scan that would read more index entries than this to fill a page merges the filter's cells instead (tests set 0). */
export const QUEUE_TUNING = { denseScanRows: 60_000 };

interface Tie {
  /** rows at score = tie.score count only when id < tie.id (queue order: score DESC, id) */
  score: number;
  id: number;
}

export function whereSql(parts: string[]): string {
  return parts.length ? 'WHERE ' + parts.join(' AND ') : '';
}

/**
 * The filter's conditions with one score range: its own bounds narrowed to [lo, hi]. One pair of
 * bounds only, so SQLite ranges the index on the narrow one.
 */
export function withScores(w: FlagWhere, lo = -HUGE, hi = HUGE): { where: string[]; args: unknown[] } {
  const l = Math.max(lo, w.minScore ?? -HUGE);
  const h = Math.min(hi, w.maxScore ?? HUGE);
  const where = [...w.where];
  const args = [...w.args];
  if (l > -HUGE) {
    where.push('score >= ?');
    args.push(l);
  }
  if (h < HUGE) {
    where.push('score <= ?');
    args.push(h);
  }
  return { where, args };
}

/** Rows of the filter with score in [lo, hi] (and before `tie` at score = lo), by scanning its index. */
function scanCount(db: Db, w: FlagWhere, lo: number, hi: number, extra: string[] = [], extraArgs: unknown[] = []): number {
  const r = withScores(w, lo, hi);
  return stmt(db, `SELECT COUNT(*) FROM flags INDEXED BY ${w.index} ${whereSql([...r.where, ...extra])}`)
    .pluck()
    .get(...r.args, ...extraArgs) as number;
}

/** flag_cells rows of the filter's cells per bucket in [fromB, toB] (status 'all' sums both). */
function bucketCounts(db: Db, w: FlagWhere, fromB: number, toB: number, cellOnly = true): Map<number, number> {
  const where = [...(cellOnly ? w.cell : w.status === 'all' ? [] : ['status = ?']), 'bucket BETWEEN ? AND ?'];
  const args = [...(cellOnly ? w.cellArgs : w.status === 'all' ? [] : [w.status]), fromB, toB];
  const rows = stmt(db, `SELECT bucket, SUM(n) FROM flag_cells ${whereSql(where)} GROUP BY bucket`)
    .raw()
    .all(...args) as [number, number][];
  return new Map(rows);
}

/** Rows matching the filter (its score bounds included) with score >= from, and before `tie` if given. */
function countFrom(db: Db, w: FlagWhere, from: number | null, tie?: Tie): number {
  if (w.empty) return 0;
  const loBound = Math.max(w.minScore ?? -HUGE, from ?? -HUGE);
  const hiBound = w.maxScore ?? HUGE;
  if (loBound > hiBound) return 0;
  const extra = tie ? ['(score > ? OR id < ?)'] : [];
  const extraArgs = tie ? [tie.score, tie.id] : [];
  if (w.videoId !== null) return scanCount(db, w, loBound, hiBound, extra, extraArgs);
  const loOpen = loBound <= -HUGE;
  const hiOpen = hiBound >= HUGE;
  const bl = loOpen ? 0 : bucketOf(loBound);
  const bh = hiOpen ? BUCKETS - 1 : bucketOf(hiBound);
  // whole buckets from the counts table; the bucket of each bound by a scan
  const fullFrom = loOpen ? bl : bl + 1;
  const fullTo = hiOpen ? bh : bh - 1;
  let n = 0;
  if (fullFrom <= fullTo) for (const c of bucketCounts(db, w, fullFrom, fullTo).values()) n += c;
  const edge = (b: number) =>
    scanCount(db, w, Math.max(loBound, bucketLow(b)), Math.min(hiBound, bucketHigh(b)), [...extra, `${BUCKET_SQL} = ?`], [...extraArgs, b]);
  if (!loOpen) n += edge(bl);
  if (!hiOpen && bh !== bl) n += edge(bh);
  else if (!hiOpen && loOpen) n += edge(bh);
  return n;
}

/** Flags in the filtered queue. */
function filteredTotal(db: Db, w: FlagWhere): number {
  return countFrom(db, w, null);
}

/** The 0-based queue position of (score, id) under the filter: rows before it in queue order. */
function positionOf(db: Db, w: FlagWhere, at: Tie): number {
  return countFrom(db, w, at.score, at);
}

/** Ids of the filtered queue's rows at positions [offset, offset + limit), in queue order. */
function idsAt(db: Db, w: FlagWhere, offset: number, limit: number): number[] {
  if (w.empty || limit <= 0) return [];
  const page = (where: string[], args: unknown[], skip: number) =>
    stmt(db, `SELECT id FROM flags INDEXED BY ${w.index} ${whereSql(where)} ORDER BY score DESC, id LIMIT ? OFFSET ?`)
      .pluck()
      .all(...args, limit, skip) as number[];
  if (w.videoId !== null) {
    const r = withScores(w);
    return page(r.where, r.args, offset);
  }
  // exact matches per bucket: whole buckets from the counts table, the bound buckets by a scan
  const bMin = w.minScore === null ? 0 : bucketOf(w.minScore);
  const bMax = w.maxScore === null ? BUCKETS - 1 : bucketOf(w.maxScore);
  if (bMin > bMax) return [];
  const matches = bucketCounts(db, w, bMin, bMax);
  const exact = (b: number) => scanCount(db, w, bucketLow(b), bucketHigh(b), [`${BUCKET_SQL} = ?`], [b]);
  if (w.minScore !== null) matches.set(bMin, exact(bMin));
  if (w.maxScore !== null) matches.set(bMax, exact(bMax));
  // the bucket holding position `offset`, and the first bucket past the page's end
  let before = 0;
  let start = -1;
  for (let b = bMax; b >= bMin; b--) {
    const m = matches.get(b) ?? 0;
    if (before + m > offset) {
      start = b;
      break;
    }
    before += m;
  }
  if (start < 0) return [];
  const skip = offset - before;
  let end = start;
  for (let got = 0, b = start; b >= bMin; b--) {
    end = b;
    got += matches.get(b) ?? 0;
    if (got >= skip + limit) break;
  }
  const rows = bucketCounts(db, w, end, start, false);
  let scanned = 0;
  for (const c of rows.values()) scanned += c;
  const r = withScores(w, -HUGE, bucketHigh(start));
  if (scanned <= QUEUE_TUNING.denseScanRows) return page([...r.where, `${BUCKET_SQL} <= ?`], [...r.args, start], skip);
  // sparse: matches are few among many rows; read each matching cell in order and merge
  const cells = stmt(
    db,
    `SELECT status, split, given, suggested, rule, all_agree, decision FROM flag_cells
     ${whereSql([...w.cell, 'bucket BETWEEN ? AND ?', 'n > 0'])} GROUP BY status, split, given, suggested, rule, all_agree, decision`,
  )
    .raw()
    .all(...w.cellArgs, end, start) as [string, string, number, number, string, number, string][];
  const inCell = stmt(
    db,
    `SELECT score, id FROM flags INDEXED BY flags_cell_queue
     WHERE status = ? AND split IS ? AND given = ? AND suggested = ? AND rule = ? AND all_agree = ? AND decision IS ?
       AND score >= ? AND score <= ? AND ${BUCKET_SQL} <= ? ORDER BY score DESC, id LIMIT ?`,
  ).raw();
  const lo = Math.max(w.minScore ?? -HUGE, bucketLow(end));
  const hi = Math.min(w.maxScore ?? HUGE, bucketHigh(start));
  const all: [number, number][] = [];
  for (const [status, split, given, suggested, rule, allAgree, decision] of cells) {
    const got = inCell.all(status, split || null, given, suggested, rule, allAgree, decision || null, lo, hi, start, skip + limit) as [
      number,
      number,
    ][];
    all.push(...got);
  }
  all.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return all.slice(skip, skip + limit).map((r) => r[1]);
}

/** A flag row joined with its frame, video and labels. */
interface QueueRaw extends Omit<FlagRow, 'created_at'> {
  video: string;
  split: string;
  frames_dir: string | null;
  image_path: string | null;
  current: number;
  original: number;
}

function toQueueItem(r: QueueRaw): QueueRow {
  return {
    flagId: r.id,
    frameId: r.frame_id,
    runId: r.run_id,
    videoId: r.video_id,
    video: r.video,
    split: r.split,
    idx: r.idx,
    rule: r.rule,
    given: r.given,
    suggested: r.suggested,
    current: r.current,
    original: r.original,
    score: r.score,
    allAgree: r.all_agree === 1,
    status: r.status,
    decision: r.decision,
    imagePath: framePath(r.frames_dir, r.idx, r.image_path),
    details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
  };
}

const PAGE_COLUMNS = `q.id, q.frame_id, q.run_id, q.video_id, q.idx, q.rule, q.given, q.suggested, q.score, q.all_agree, q.status, q.decision, q.details,
  v.name AS video, v.split AS split, v.frames_dir AS frames_dir, f.image_path AS image_path,
  l.current_label AS current, l.original_label AS original`;

function rowsOf(db: Db, ids: number[]): QueueRow[] {
  if (!ids.length) return [];
  const rows = stmt(
    db,
    `SELECT ${PAGE_COLUMNS}
     FROM flags q JOIN frames f ON f.id = q.frame_id JOIN videos v ON v.id = q.video_id JOIN labels l ON l.frame_id = q.frame_id
     WHERE q.id IN (SELECT value FROM json_each(?)) ORDER BY q.score DESC, q.id`,
  ).all(JSON.stringify(ids)) as QueueRaw[];
  return rows.map(toQueueItem);
}

/** One read snapshot for a request's several statements (a savepoint when already inside a transaction). */
function snapshot<T>(db: Db, fn: () => T): T {
  return db.transaction(fn)();
}

export interface QueuePageRows {
  items: QueueRow[];
  next: QueueCursor | null;
  /** flags in the filtered queue */
  total: number;
  /** 0-based position of items[0] in the filtered queue */
  offset: number;
}

/**
 * One page of the review queue, by score descending then flag id ascending. Three ways in: keyset
 * (`after`, the last item's {score, id}: pages neither overlap nor skip, even when many flags share
 * a score), a 0-based `offset`, or `fromEnd` (the last page). Every page says its offset and the total.
 */
export function queuePage(
  db: Db,
  opts: { filter?: QueueFilter; after?: QueueCursor; offset?: number; fromEnd?: boolean; limit?: number } = {},
): QueuePageRows {
  const limit = opts.limit ?? 100;
  const w = flagWhere(db, opts.filter ?? {}, 'queue');
  return snapshot(db, () => {
    const total = filteredTotal(db, w);
    let offset: number;
    if (opts.after) offset = positionOf(db, w, { score: opts.after.score, id: opts.after.id + 1 });
    else if (opts.fromEnd) offset = Math.max(0, total - limit);
    else offset = Math.max(0, Math.floor(opts.offset ?? 0));
    const items = offset < total ? rowsOf(db, idsAt(db, w, offset, limit)) : [];
    const last = items[items.length - 1];
    const next = items.length === limit && last && offset + limit < total ? { score: last.score, id: last.flagId } : null;
    return { items, next, total, offset };
  });
}

/** Flags in the filtered queue (its total, without reading a page). */
export function queueTotal(db: Db, filter: QueueFilter = {}): number {
  const w = flagWhere(db, filter, 'queue');
  return snapshot(db, () => filteredTotal(db, w));
}

/**
 * Where a frame stands in the filtered queue: its first flag there (in queue order) and that
 * flag's 0-based position; both null when none of the frame's flags is in it.
 */
export function locateInQueue(
  db: Db,
  frameId: number,
  filter: QueueFilter = {},
): { flagId: number | null; position: number | null; total: number } {
  const w = flagWhere(db, filter, 'queue');
  if (w.empty) return { flagId: null, position: null, total: 0 };
  return snapshot(db, () => {
    const total = filteredTotal(db, w);
    const r = withScores(w);
    const own = stmt(
      db,
      `SELECT id, score FROM flags INDEXED BY flags_frame ${whereSql(['frame_id = ?', ...r.where])} ORDER BY score DESC, id LIMIT 1`,
    ).get(frameId, ...r.args) as { id: number; score: number } | undefined;
    if (!own) return { flagId: null, position: null, total };
    return { flagId: own.id, position: positionOf(db, w, { score: own.score, id: own.id }), total };
  });
}
