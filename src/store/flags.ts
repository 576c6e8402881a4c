// The flag rows: replacing the open flags, status, per-frame lookups, (given, suggested) pair counts
// and segments. The review queue and the flag_cells counts live in queue.ts; scoring (what becomes a
// flag) in core/review/flags.ts.
import type { Db } from './db';
import { forgetStatements, nowIso, stmt, writeTransaction } from './db';
import { BUCKET_SQL, flagWhere, whereSql, withScores } from './queue';
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
  /** the video's split (004) */
  split: string | null;
  /** the frame's standing decision, null when none (004; refreshFrameDecision keeps it) */
  decision: string | null;
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
    const insSql = `INSERT INTO flags (run_id, frame_id, video_id, idx, rule, given, suggested, score, all_agree, details, status, created_at, split)
       VALUES (?,?,?,?,?,?,?,?,?,?,'open',?,?)`;
    const ins = bulk ? db.prepare(insSql) : stmt(db, insSql);
    const splits = new Map(
      (stmt(db, 'SELECT id, split FROM videos').raw().all() as [number, string][]).map(([id, split]) => [id, split] as const),
    );
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
        splits.get(f.videoId) ?? null,
      );
      inserted++;
    }
    if (bulk) for (const o of saved.filter((x) => x.type === 'index')) db.exec(o.sql);
    // a new flag on a decided frame (a keep against stronger evidence) carries that decision
    (bulk ? db.prepare(NEW_FLAG_DECISIONS) : stmt(db, NEW_FLAG_DECISIONS)).run();
    if (bulk) {
      db.exec('DELETE FROM flag_pair_counts');
      db.exec(
        'INSERT INTO flag_pair_counts (status, given, suggested, n) SELECT status, given, suggested, COUNT(*) FROM flags GROUP BY status, given, suggested',
      );
      db.exec('DELETE FROM flag_cells');
      db.exec(`INSERT INTO flag_cells (status, bucket, split, given, suggested, rule, all_agree, decision, n)
        SELECT status, ${BUCKET_SQL}, COALESCE(split, ''), given, suggested, rule, all_agree, COALESCE(decision, ''), COUNT(*)
        FROM flags GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`);
      for (const o of saved.filter((x) => x.type === 'trigger')) db.exec(o.sql);
      // schema changed: cached statements of this connection would re-prepare anyway; start clean
      forgetStatements(db);
    }
    return { removed, inserted };
  });
}

/**
 * A frame's standing decision: its newest label decision (accept, relabel, keep, exclude) whose
 * group is not undone (the rule of store/decisions.ts, written here so flags.ts needs no import of it).
 */
const STANDING_DECISION = `SELECT d.action FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
  WHERE d.frame_id = ? AND d.action IN ('accept','relabel','keep','exclude') AND COALESCE(g.state, 'done') = 'done'
  ORDER BY d.id DESC LIMIT 1`;

const NEW_FLAG_DECISIONS = `UPDATE flags SET decision = s.action FROM (
    SELECT frame_id, action FROM (
      SELECT d.frame_id, d.action, ROW_NUMBER() OVER (PARTITION BY d.frame_id ORDER BY d.id DESC) AS rn
      FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
      WHERE d.frame_id IS NOT NULL AND d.action IN ('accept','relabel','keep','exclude') AND COALESCE(g.state, 'done') = 'done'
    ) WHERE rn = 1
  ) s WHERE s.frame_id = flags.frame_id AND flags.status = 'open' AND flags.decision IS NOT s.action`;

/**
 * Keep flags.decision (the frame's standing decision, the queue's `actions` filter) in step after a
 * decision, undo or redo on this frame: every flag of the frame gets it.
 */
export function refreshFrameDecision(db: Db, frameId: number): void {
  const action = (stmt(db, STANDING_DECISION).pluck().get(frameId) as string | undefined) ?? null;
  stmt(db, 'UPDATE flags SET decision = ? WHERE frame_id = ? AND decision IS NOT ?').run(action, frameId, action);
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
  const sw = withScores(w);
  const where = whereSql(sw.where);
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
  for (const [videoId, idx, suggested, score] of scan.raw().iterate(...sw.args) as Iterable<[number, number, number, number]>) {
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
    for (const [id, frameId, idx, given] of rowsOf.raw().iterate(...sw.args, t.videoId, t.startIdx, t.endIdx, t.suggested) as Iterable<
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
