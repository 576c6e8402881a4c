// Flags, the review queue, (given, suggested) pair counts and segments: every SQL of the flags table.
// Scoring (what becomes a flag) lives in core/review/flags.ts.
import type { Db } from './db';
import { forgetStatements, nowIso, stmt, writeTransaction } from './db';
import { framePath } from './dataset';
import type { FlagRule, QueueFilter } from '../shared/api';

export type FlagStatus = 'open' | 'decided';

export interface NewFlag {
  runId: number;
  frameId: number;
  videoId: number;
  idx: number;
  rule: FlagRule;
  given: number;
  suggested: number;
  score: number;
  allAgree: boolean;
  details: unknown;
}

export interface FlagRow {
  id: number;
  run_id: number;
  frame_id: number;
  video_id: number;
  idx: number;
  rule: FlagRule;
  given: number;
  suggested: number;
  score: number;
  all_agree: number;
  details: string | null;
  status: FlagStatus;
  created_at: string;
}

/**
 * Replace every OPEN flag (of any run: the queue always shows the latest scoring pass) with the
 * given ones, in one transaction. Decided flags stay as history.
 */
export function replaceOpenFlags(
  db: Db,
  flags: Iterable<NewFlag>,
  opts: { expected?: number; bulk?: boolean } = {},
): { removed: number; inserted: number } {
  const expected = opts.expected ?? (Array.isArray(flags) ? flags.length : Number.POSITIVE_INFINITY);
  const open = (stmt(db, "SELECT COALESCE(SUM(n), 0) AS n FROM flag_pair_counts WHERE status = 'open'").get() as { n: number }).n;
  const bulk = opts.bulk ?? open + expected >= BULK_FLAGS;
  return writeTransaction(db, () => {
    // Bulk: six indexes and a trigger per row make a million inserts ~5x slower than inserting
    // bare and building the indexes afterwards. The schema objects are re-created from their own
    // stored SQL, so the migration stays the one definition.
    const saved = bulk
      ? (db
          .prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'flags' AND type IN ('index', 'trigger') AND sql IS NOT NULL",
          )
          .all() as {
          type: string;
          name: string;
          sql: string;
        }[])
      : [];
    for (const o of saved) db.exec(`DROP ${o.type === 'index' ? 'INDEX' : 'TRIGGER'} "${o.name}"`);
    const removed = (
      bulk ? db.prepare("DELETE FROM flags WHERE status = 'open'") : stmt(db, "DELETE FROM flags WHERE status = 'open'")
    ).run().changes;
    const insSql = `INSERT INTO flags (run_id, frame_id, video_id, idx, rule, given, suggested, score, all_agree, details, status, created_at)
       VALUES (?,?,?,?,?,?,?,?,?,?,'open',?)`;
    const ins = bulk ? db.prepare(insSql) : stmt(db, insSql);
    const now = nowIso();
    let inserted = 0;
    for (const f of flags) {
      ins.run(
        f.runId,
        f.frameId,
        f.videoId,
        f.idx,
        f.rule,
        f.given,
        f.suggested,
        f.score,
        f.allAgree ? 1 : 0,
        JSON.stringify(f.details),
        now,
      );
      inserted++;
    }
    if (bulk) {
      for (const o of saved.filter((x) => x.type === 'index')) db.exec(o.sql);
      db.exec('DELETE FROM flag_pair_counts');
      db.exec(
        'INSERT INTO flag_pair_counts (status, given, suggested, n) SELECT status, given, suggested, COUNT(*) FROM flags GROUP BY status, given, suggested',
      );
      for (const o of saved.filter((x) => x.type === 'trigger')) db.exec(o.sql);
      // schema changed: cached statements of this connection would re-prepare anyway; start clean
      forgetStatements(db);
    }
    return { removed, inserted };
  });
}

/** From this many flags (open before + new), replaceOpenFlags rebuilds indexes instead of updating them. */
export const BULK_FLAGS = 50_000;

/** The flag a decision on this frame refers to: its newest open flag, else its newest flag. */
export function currentFlagOf(db: Db, frameId: number): FlagRow | undefined {
  return stmt(db, "SELECT * FROM flags WHERE frame_id = ? ORDER BY status = 'open' DESC, id DESC LIMIT 1").get(frameId) as
    FlagRow | undefined;
}

export function getFlag(db: Db, id: number): FlagRow | undefined {
  return stmt(db, 'SELECT * FROM flags WHERE id = ?').get(id) as FlagRow | undefined;
}

export function setFlagStatus(db: Db, flagId: number, status: FlagStatus): void {
  stmt(db, 'UPDATE flags SET status = ? WHERE id = ?').run(status, flagId);
}

/** Every flag of a frame, newest first. */
export function flagsOfFrame(db: Db, frameId: number): FlagRow[] {
  return stmt(db, 'SELECT * FROM flags WHERE frame_id = ? ORDER BY id DESC').all(frameId) as FlagRow[];
}

export interface FlagStatusCounts {
  open: number;
  decided: number;
}

export function flagStatusCounts(db: Db): FlagStatusCounts {
  const rows = stmt(db, 'SELECT status, SUM(n) AS n FROM flag_pair_counts GROUP BY status').all() as { status: string; n: number }[];
  const n = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
  return { open: n('open'), decided: n('decided') };
}

/** The run whose predictions the newest flags came from (null before any scoring). */
export function flaggedRunId(db: Db): number | null {
  return (stmt(db, 'SELECT run_id FROM flags ORDER BY id DESC LIMIT 1').pluck().get() as number | undefined) ?? null;
}

/** Frame indices in [fromIdx, toIdx] of a video's open flags, ascending (the timeline window's marks). */
export function openFlaggedIdx(db: Db, videoId: number, fromIdx: number, toIdx: number): number[] {
  return stmt(db, "SELECT DISTINCT idx FROM flags WHERE status = 'open' AND video_id = ? AND idx BETWEEN ? AND ? ORDER BY idx")
    .pluck()
    .all(videoId, fromIdx, toIdx) as number[];
}

// ---------------------------------------------------------------------------------------------
// The queue

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
  imagePath: string;
  details: Record<string, unknown> | null;
}

interface FlagWhere {
  index: string;
  where: string[];
  args: unknown[];
  empty: boolean;
}

/**
 * Translate a filter into WHERE clauses and pick the index that serves its order: one video,
 * one (given, suggested) cell, or the status queue. INDEXED BY keeps SQLite from choosing an
 * index that matches a filter but then needs to sort a million rows.
 */
function flagWhere(db: Db, filter: QueueFilter, purpose: 'queue' | 'segments'): FlagWhere {
  const status = filter.status ?? 'open';
  const where: string[] = [];
  const args: unknown[] = [];
  let empty = false;
  if (status !== 'all') {
    where.push('status = ?');
    args.push(status);
  }
  if (filter.video !== undefined) {
    const v = stmt(db, 'SELECT id FROM videos WHERE name = ?').get(filter.video) as { id: number } | undefined;
    if (!v) empty = true;
    where.push('video_id = ?');
    args.push(v?.id ?? -1);
  }
  if (filter.split !== undefined) {
    where.push('video_id IN (SELECT id FROM videos WHERE split = ?)');
    args.push(filter.split);
  }
  const conditions: [unknown, string][] = [
    [filter.given, 'given = ?'],
    [filter.suggested, 'suggested = ?'],
    [filter.minScore, 'score >= ?'],
    [filter.maxScore, 'score <= ?'],
    [filter.rule, 'rule = ?'],
  ];
  for (const [value, sql] of conditions) {
    if (value === undefined) continue;
    where.push(sql);
    args.push(value);
  }
  let index: string;
  if (purpose === 'segments') index = status !== 'all' ? 'flags_segments' : 'flags_video_queue';
  else if (filter.video !== undefined) index = 'flags_video_queue';
  else if (status !== 'all' && filter.given !== undefined && filter.suggested !== undefined) index = 'flags_pair_queue';
  else if (status !== 'all') index = 'flags_queue';
  else index = 'flags_any_queue';
  return { index, where, args, empty };
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
    imagePath: framePath(r.frames_dir, r.idx, r.image_path),
    details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
  };
}

const PAGE_COLUMNS = `q.id, q.frame_id, q.run_id, q.video_id, q.idx, q.rule, q.given, q.suggested, q.score, q.all_agree, q.status, q.details,
  v.name AS video, v.split AS split, v.frames_dir AS frames_dir, f.image_path AS image_path,
  l.current_label AS current, l.original_label AS original`;

/**
 * One page of the review queue, by score descending then flag id ascending. Keyset paging:
 * pass the last item's {score, id} as `after`; pages neither overlap nor skip, even when many
 * flags share a score.
 */
export function queuePage(
  db: Db,
  opts: { filter?: QueueFilter; after?: QueueCursor; limit?: number } = {},
): { items: QueueRow[]; next: QueueCursor | null } {
  const limit = opts.limit ?? 100;
  const w = flagWhere(db, opts.filter ?? {}, 'queue');
  if (w.empty) return { items: [], next: null };
  const where = [...w.where];
  const args = [...w.args];
  if (opts.after) {
    // score <= s is the index range; the OR only sorts out the rows tied at s
    where.push('score <= ? AND (score < ? OR id > ?)');
    args.push(opts.after.score, opts.after.score, opts.after.id);
  }
  const sql = `SELECT ${PAGE_COLUMNS}
    FROM (SELECT * FROM flags INDEXED BY ${w.index} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY score DESC, id LIMIT ?) q
    JOIN frames f ON f.id = q.frame_id JOIN videos v ON v.id = q.video_id JOIN labels l ON l.frame_id = q.frame_id
    ORDER BY q.score DESC, q.id`;
  const rows = stmt(db, sql).all(...args, limit) as QueueRaw[];
  const items = rows.map(toQueueItem);
  const last = items[items.length - 1];
  return { items, next: items.length === limit && last ? { score: last.score, id: last.flagId } : null };
}

export interface PairCountRow {
  given: number;
  suggested: number;
  n: number;
}

/** Flags per (given, suggested), from the trigger-maintained counts table. */
export function pairCounts(db: Db, status: 'open' | 'decided' | 'all' = 'open'): PairCountRow[] {
  if (status === 'all') {
    return stmt(
      db,
      'SELECT given, suggested, SUM(n) AS n FROM flag_pair_counts GROUP BY given, suggested HAVING SUM(n) > 0 ORDER BY n DESC, given, suggested',
    ).all() as PairCountRow[];
  }
  return stmt(db, 'SELECT given, suggested, n FROM flag_pair_counts WHERE status = ? AND n > 0 ORDER BY n DESC, given, suggested').all(
    status,
  ) as PairCountRow[];
}

export interface Segment {
  videoId: number;
  video: string;
  split: string;
  startIdx: number;
  endIdx: number;
  suggested: number;
  /** Given labels inside the segment (usually one). */
  given: number[];
  frameIds: number[];
  flagIds: number[];
  maxScore: number;
  meanScore: number;
}

/**
 * Runs of flagged frames with consecutive indices in one video that share a suggestion, longest
 * first (then by highest score). Reads every flag that matches the filter.
 */
export function flagSegments(db: Db, opts: { filter?: QueueFilter; limit?: number; minLength?: number } = {}): Segment[] {
  const limit = opts.limit ?? 100;
  const minLength = opts.minLength ?? 1;
  const w = flagWhere(db, opts.filter ?? {}, 'segments');
  if (w.empty || limit <= 0) return [];
  const where = w.where.length ? 'WHERE ' + w.where.join(' AND ') : '';
  // Pass 1 keeps a few numbers per segment (a million flags make ~600k mostly one-frame segments),
  // and only the best `limit` of them; pass 2 reads the frames of those.
  const better = (a: SegStat, b: SegStat) =>
    b.count - a.count || b.maxScore - a.maxScore || a.videoId - b.videoId || a.startIdx - b.startIdx;
  const top: SegStat[] = [];
  let cur: SegStat | null = null;
  const close = () => {
    if (!cur || cur.count < minLength) return;
    if (top.length === limit && better(cur, top[limit - 1]!) >= 0) return;
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (better(top[mid]!, cur) <= 0) lo = mid + 1;
      else hi = mid;
    }
    top.splice(lo, 0, cur);
    if (top.length > limit) top.pop();
  };
  const scan = stmt(db, `SELECT video_id, idx, suggested, score FROM flags INDEXED BY ${w.index} ${where} ORDER BY video_id, idx, id`);
  for (const [videoId, idx, suggested, score] of scan.raw().iterate(...w.args) as Iterable<[number, number, number, number]>) {
    const c = cur as SegStat | null;
    if (c && c.videoId === videoId && c.suggested === suggested && c.endIdx === idx) continue; // a second flag on one frame (status all)
    if (c && c.videoId === videoId && c.suggested === suggested && c.endIdx + 1 === idx) {
      c.endIdx = idx;
      c.count++;
      c.sum += score;
      if (score > c.maxScore) c.maxScore = score;
      continue;
    }
    close();
    cur = { videoId, startIdx: idx, endIdx: idx, suggested, count: 1, maxScore: score, sum: score };
  }
  close();
  const rowsOf = stmt(
    db,
    `SELECT id, frame_id, idx, given FROM flags INDEXED BY ${w.index}
     ${where ? where + ' AND' : 'WHERE'} video_id = ? AND idx BETWEEN ? AND ? AND suggested = ? ORDER BY idx, id`,
  );
  const names = stmt(db, 'SELECT name, split FROM videos WHERE id = ?');
  return top.map((t) => {
    const v = names.get(t.videoId) as { name: string; split: string } | undefined;
    const seg: Segment = {
      videoId: t.videoId,
      video: v?.name ?? '',
      split: v?.split ?? '',
      startIdx: t.startIdx,
      endIdx: t.endIdx,
      suggested: t.suggested,
      given: [],
      frameIds: [],
      flagIds: [],
      maxScore: t.maxScore,
      meanScore: t.sum / t.count,
    };
    let lastIdx = -1;
    for (const [id, frameId, idx, given] of rowsOf.raw().iterate(...w.args, t.videoId, t.startIdx, t.endIdx, t.suggested) as Iterable<
      [number, number, number, number]
    >) {
      if (idx === lastIdx) continue;
      lastIdx = idx;
      seg.frameIds.push(frameId);
      seg.flagIds.push(id);
      if (!seg.given.includes(given)) seg.given.push(given);
    }
    return seg;
  });
}

interface SegStat {
  videoId: number;
  startIdx: number;
  endIdx: number;
  suggested: number;
  count: number;
  maxScore: number;
  sum: number;
}
