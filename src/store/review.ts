// Flags, decisions and exports: every SQL statement of the review side of the store.
// The logic (scoring, what a decision does, file formats) lives in core/review and core/export.
import type Database from 'better-sqlite3';
import type { Db } from './db';
import { nowIso } from './db';
import { decodeProbs, latestRun } from './runs';
import { framePath } from './dataset';
import type { FlagRule, QueueFilter, ReviewAction } from '../shared/api';
import { argmax, meanProbs } from '../main/core/review/scores';

// ---------------------------------------------------------------------------------------------
// Statement cache: one prepared statement per SQL string per connection.

const cache = new WeakMap<Db, Map<string, Database.Statement>>();

function stmt(db: Db, sql: string): Database.Statement {
  let m = cache.get(db);
  if (!m) cache.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare(sql)));
  return s;
}

/** Run fn in one IMMEDIATE transaction: concurrent writers (other hosts) queue behind it. */
export function writeTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

// ---------------------------------------------------------------------------------------------
// Flags

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
      cache.delete(db);
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

const LABEL_ACTIONS = "('accept','relabel','keep','exclude')";
const REVIEW_ACTIONS = "('accept','relabel','keep','exclude','skip')";

/**
 * Frames whose reviewer's verdict stands against the ensemble: the newest effective (not undone)
 * label decision is keep or relabel. Value: the flag score when the verdict was given (null when
 * the decision had no flag).
 */
export function protectedFrames(db: Db): Map<number, { action: ReviewAction; score: number | null }> {
  const rows = stmt(
    db,
    `SELECT frame_id AS frameId, action, score FROM (
       SELECT d.frame_id, d.action, d.score, ROW_NUMBER() OVER (PARTITION BY d.frame_id ORDER BY d.id DESC) AS rn
       FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
       WHERE d.action IN ${LABEL_ACTIONS} AND COALESCE(g.state, 'done') = 'done'
     ) WHERE rn = 1 AND action IN ('keep', 'relabel')`,
  ).all() as { frameId: number; action: ReviewAction; score: number | null }[];
  return new Map(rows.map((r) => [r.frameId, { action: r.action, score: r.score }]));
}

// ---------------------------------------------------------------------------------------------
// The queue

export interface QueueCursor {
  score: number;
  id: number;
}

export interface QueueItem {
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

function toQueueItem(r: QueueRaw): QueueItem {
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
): { items: QueueItem[]; next: QueueCursor | null } {
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

export interface PairCount {
  given: number;
  suggested: number;
  n: number;
}

/** Flags per (given, suggested), from the trigger-maintained counts table. */
export function pairCounts(db: Db, status: 'open' | 'decided' | 'all' = 'open'): PairCount[] {
  if (status === 'all') {
    return stmt(
      db,
      'SELECT given, suggested, SUM(n) AS n FROM flag_pair_counts GROUP BY given, suggested HAVING SUM(n) > 0 ORDER BY n DESC, given, suggested',
    ).all() as PairCount[];
  }
  return stmt(db, 'SELECT given, suggested, n FROM flag_pair_counts WHERE status = ? AND n > 0 ORDER BY n DESC, given, suggested').all(
    status,
  ) as PairCount[];
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

// ---------------------------------------------------------------------------------------------
// Frame detail

export interface NeighbourFrame {
  frameId: number;
  idx: number;
  hasFace: boolean;
  original: number;
  current: number;
  /** Ensemble argmax, null without a prediction. */
  consensus: number | null;
  flag: { id: number; status: FlagStatus; suggested: number; score: number } | null;
  imagePath: string;
}

export interface FrameDetail {
  frameId: number;
  videoId: number;
  video: string;
  split: string;
  idx: number;
  hasFace: boolean;
  imagePath: string;
  original: number;
  current: number;
  labelSet: string;
  runId: number | null;
  /** probs[j] = network j's softmax; empty without a prediction. */
  probs: number[][];
  mean: number[] | null;
  consensus: number | null;
  flags: FlagRow[];
  decisions: DecisionRow[];
  neighbours: NeighbourFrame[];
}

export function frameDetail(db: Db, frameId: number, opts: { context?: number; runId?: number } = {}): FrameDetail {
  const k = opts.context ?? 4;
  const f = stmt(
    db,
    `SELECT f.id, f.video_id, f.idx, f.has_face, f.image_path, v.name, v.split, v.frames_dir, v.label_set, l.original_label, l.current_label
     FROM frames f JOIN videos v ON v.id = f.video_id JOIN labels l ON l.frame_id = f.id WHERE f.id = ?`,
  ).get(frameId) as
    | {
        id: number;
        video_id: number;
        idx: number;
        has_face: number;
        image_path: string | null;
        name: string;
        split: string;
        frames_dir: string | null;
        label_set: string;
        original_label: number;
        current_label: number;
      }
    | undefined;
  if (!f) throw new Error(`frame ${frameId} does not exist`);
  const flags = stmt(db, 'SELECT * FROM flags WHERE frame_id = ? ORDER BY id DESC').all(frameId) as FlagRow[];
  const runId =
    opts.runId ??
    flags.find((x) => x.status === 'open')?.run_id ??
    flags[0]?.run_id ??
    latestRun(db, { withPredictions: true })?.id ??
    null;
  const near = stmt(
    db,
    `SELECT f.id, f.idx, f.has_face, f.image_path, l.original_label, l.current_label,
            (SELECT p.probs FROM predictions p WHERE p.run_id = ? AND p.frame_id = f.id) AS probs,
            (SELECT p.nets FROM predictions p WHERE p.run_id = ? AND p.frame_id = f.id) AS nets,
            (SELECT p.classes FROM predictions p WHERE p.run_id = ? AND p.frame_id = f.id) AS classes
     FROM frames f JOIN labels l ON l.frame_id = f.id WHERE f.video_id = ? AND f.idx BETWEEN ? AND ? ORDER BY f.idx`,
  ).all(runId, runId, runId, f.video_id, f.idx - k, f.idx + k) as {
    id: number;
    idx: number;
    has_face: number;
    image_path: string | null;
    original_label: number;
    current_label: number;
    probs: Buffer | null;
    nets: number | null;
    classes: number | null;
  }[];
  const flagOf = stmt(
    db,
    "SELECT id, status, suggested, score FROM flags WHERE frame_id = ? ORDER BY status = 'open' DESC, id DESC LIMIT 1",
  );
  let probs: number[][] = [];
  let mean: number[] | null = null;
  let consensus: number | null = null;
  const neighbours: NeighbourFrame[] = [];
  for (const n of near) {
    let nCons: number | null = null;
    if (n.probs && n.nets && n.classes) {
      const p = decodeProbs(n.probs);
      const m = meanProbs(p, n.nets, n.classes);
      nCons = argmax(m);
      if (n.id === frameId) {
        probs = Array.from({ length: n.nets }, (_, j) => Array.from(p.subarray(j * n.classes!, (j + 1) * n.classes!)));
        mean = Array.from(m);
        consensus = nCons;
      }
    }
    if (n.id === frameId) continue;
    const fl = flagOf.get(n.id) as { id: number; status: FlagStatus; suggested: number; score: number } | undefined;
    neighbours.push({
      frameId: n.id,
      idx: n.idx,
      hasFace: n.has_face === 1,
      original: n.original_label,
      current: n.current_label,
      consensus: nCons,
      flag: fl ?? null,
      imagePath: framePath(f.frames_dir, n.idx, n.image_path),
    });
  }
  return {
    frameId,
    videoId: f.video_id,
    video: f.name,
    split: f.split,
    idx: f.idx,
    hasFace: f.has_face === 1,
    imagePath: framePath(f.frames_dir, f.idx, f.image_path),
    original: f.original_label,
    current: f.current_label,
    labelSet: f.label_set,
    runId,
    probs,
    mean,
    consensus,
    flags,
    decisions: decisionsOfFrame(db, frameId),
    neighbours,
  };
}

// ---------------------------------------------------------------------------------------------
// Decisions

export interface FrameLabelState {
  frameId: number;
  videoId: number;
  video: string;
  idx: number;
  labelSet: string;
  original: number;
  current: number;
}

export function frameLabelState(db: Db, frameId: number): FrameLabelState | undefined {
  return stmt(
    db,
    `SELECT f.id AS frameId, f.video_id AS videoId, v.name AS video, f.idx AS idx, v.label_set AS labelSet,
            l.original_label AS original, l.current_label AS current
     FROM frames f JOIN videos v ON v.id = f.video_id JOIN labels l ON l.frame_id = f.id WHERE f.id = ?`,
  ).get(frameId) as FrameLabelState | undefined;
}

/** Frame id of VIDEO's frame IDX (1-based), with the video's frame count for error messages. */
export function frameIdByRef(db: Db, video: string, idx: number): { videoFound: boolean; frameCount: number; frameId: number | null } {
  const v = stmt(db, 'SELECT id, frame_count FROM videos WHERE name = ?').get(video) as { id: number; frame_count: number } | undefined;
  if (!v) return { videoFound: false, frameCount: 0, frameId: null };
  const f = stmt(db, 'SELECT id FROM frames WHERE video_id = ? AND idx = ?').get(v.id, idx) as { id: number } | undefined;
  return { videoFound: true, frameCount: v.frame_count, frameId: f?.id ?? null };
}

export function setCurrentLabel(db: Db, frameId: number, label: number): void {
  stmt(db, 'UPDATE labels SET current_label = ? WHERE frame_id = ?').run(label, frameId);
}

export interface DecisionRow {
  id: number;
  frame_id: number;
  action: ReviewAction | 'undo' | 'redo';
  label_before: number;
  label_after: number;
  rule: string | null;
  score: number | null;
  run_id: number | null;
  flag_id: number | null;
  reverts_id: number | null;
  actor: string | null;
  group_id: number | null;
  created_at: string;
}

export function insertDecision(db: Db, d: Omit<DecisionRow, 'id' | 'created_at'>): number {
  return Number(
    stmt(
      db,
      `INSERT INTO decisions (frame_id, action, label_before, label_after, rule, score, run_id, flag_id, reverts_id, actor, group_id, created_at)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
    ).run(
      d.frame_id,
      d.action,
      d.label_before,
      d.label_after,
      d.rule,
      d.score,
      d.run_id,
      d.flag_id,
      d.reverts_id,
      d.actor,
      d.group_id,
      nowIso(),
    ).lastInsertRowid,
  );
}

export function decisionsOfFrame(db: Db, frameId: number): DecisionRow[] {
  return stmt(db, 'SELECT * FROM decisions WHERE frame_id = ? ORDER BY id').all(frameId) as DecisionRow[];
}

export interface GroupRow {
  id: number;
  action: ReviewAction;
  label: number | null;
  actor: string | null;
  frames: number;
  state: 'done' | 'undone';
  redoable: number;
  created_at: string;
}

/** Start a decision group; a new decision empties the redo stack. */
export function insertGroup(db: Db, g: { action: ReviewAction; label: number | null; actor: string | null; frames: number }): number {
  stmt(db, "UPDATE decision_groups SET redoable = 0 WHERE state = 'undone' AND redoable = 1").run();
  return Number(
    stmt(db, 'INSERT INTO decision_groups (action, label, actor, frames, state, redoable, created_at) VALUES (?,?,?,?,?,0,?)').run(
      g.action,
      g.label,
      g.actor,
      g.frames,
      'done',
      nowIso(),
    ).lastInsertRowid,
  );
}

/** Top of the undo stack: the newest group still applied. */
export function lastDoneGroup(db: Db): GroupRow | undefined {
  return stmt(db, "SELECT * FROM decision_groups WHERE state = 'done' ORDER BY id DESC LIMIT 1").get() as GroupRow | undefined;
}

/** Top of the redo stack: the undone group undone last, i.e. the oldest still redoable. */
export function nextRedoGroup(db: Db): GroupRow | undefined {
  return stmt(db, "SELECT * FROM decision_groups WHERE state = 'undone' AND redoable = 1 ORDER BY id ASC LIMIT 1").get() as
    GroupRow | undefined;
}

export function setGroupState(db: Db, groupId: number, state: 'done' | 'undone'): void {
  stmt(db, 'UPDATE decision_groups SET state = ?, redoable = ? WHERE id = ?').run(state, state === 'undone' ? 1 : 0, groupId);
}

/** The review decisions (not undo/redo rows) of a group, in the order they were made. */
export function groupDecisions(db: Db, groupId: number): DecisionRow[] {
  return stmt(db, `SELECT * FROM decisions WHERE group_id = ? AND action IN ${REVIEW_ACTIONS} ORDER BY id`).all(groupId) as DecisionRow[];
}

/** Whether some applied (not undone) decision other than skip refers to this flag. */
export function flagHasEffectiveDecision(db: Db, flagId: number): boolean {
  return (
    stmt(
      db,
      `SELECT 1 FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
       WHERE d.flag_id = ? AND d.action IN ${LABEL_ACTIONS} AND COALESCE(g.state, 'done') = 'done' LIMIT 1`,
    ).get(flagId) !== undefined
  );
}

export interface ReviewCounts {
  open: number;
  decided: number;
  decisions: number;
  reviewedFrames: number;
  changedFrames: number;
  canUndo: boolean;
  canRedo: boolean;
}

export function reviewCounts(db: Db): ReviewCounts {
  const flags = flagStatusCounts(db);
  return {
    ...flags,
    decisions: (stmt(db, `SELECT COUNT(*) AS n FROM decisions WHERE action IN ${REVIEW_ACTIONS}`).get() as { n: number }).n,
    reviewedFrames: (
      stmt(
        db,
        `SELECT COUNT(DISTINCT d.frame_id) AS n FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
         WHERE d.action IN ${REVIEW_ACTIONS} AND COALESCE(g.state, 'done') = 'done'`,
      ).get() as { n: number }
    ).n,
    changedFrames: (stmt(db, 'SELECT COUNT(*) AS n FROM labels WHERE current_label != original_label').get() as { n: number }).n,
    canUndo: lastDoneGroup(db) !== undefined,
    canRedo: nextRedoGroup(db) !== undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Export reads

export interface EffectiveDecision {
  frameId: number;
  videoId: number;
  video: string;
  split: string;
  idx: number;
  original: number;
  current: number;
  action: ReviewAction;
  labelAfter: number;
  score: number | null;
  flagId: number | null;
  suggested: number | null;
  createdAt: string;
}

/** Per reviewed frame, its newest decision that is not undone, ordered by video and frame. */
export function effectiveDecisions(db: Db): EffectiveDecision[] {
  return stmt(
    db,
    `SELECT x.frame_id AS frameId, f.video_id AS videoId, v.name AS video, v.split AS split, f.idx AS idx,
            l.original_label AS original, l.current_label AS current, x.action AS action, x.label_after AS labelAfter,
            x.score AS score, x.flag_id AS flagId, fl.suggested AS suggested, x.created_at AS createdAt
     FROM (
       SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.frame_id ORDER BY d.id DESC) AS rn
       FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
       WHERE d.action IN ${REVIEW_ACTIONS} AND COALESCE(g.state, 'done') = 'done'
     ) x
     JOIN frames f ON f.id = x.frame_id JOIN videos v ON v.id = f.video_id JOIN labels l ON l.frame_id = x.frame_id
     LEFT JOIN flags fl ON fl.id = x.flag_id
     WHERE x.rn = 1 ORDER BY f.video_id, f.idx`,
  ).all() as EffectiveDecision[];
}

export interface ChangedFrame {
  frameId: number;
  videoId: number;
  video: string;
  split: string;
  idx: number;
  original: number;
  current: number;
}

/** Frames whose current label differs from the imported one, by video and index. */
export function changedFrames(db: Db, limit = -1): ChangedFrame[] {
  return stmt(
    db,
    `SELECT f.id AS frameId, f.video_id AS videoId, v.name AS video, v.split AS split, f.idx AS idx,
            l.original_label AS original, l.current_label AS current
     FROM labels l JOIN frames f ON f.id = l.frame_id JOIN videos v ON v.id = f.video_id
     WHERE l.current_label != l.original_label ORDER BY f.video_id, f.idx LIMIT ?`,
  ).all(limit) as ChangedFrame[];
}

export interface LabelPairCount {
  from: number;
  to: number;
  n: number;
}

export function labelChangeCounts(db: Db): LabelPairCount[] {
  return stmt(
    db,
    `SELECT original_label AS "from", current_label AS "to", COUNT(*) AS n FROM labels
     WHERE current_label != original_label GROUP BY original_label, current_label ORDER BY n DESC, "from", "to"`,
  ).all() as LabelPairCount[];
}

/** Frames per label (-1 included), before review (original) and after (current). */
export function labelDistribution(db: Db): { before: Map<number, number>; after: Map<number, number> } {
  const rows = stmt(
    db,
    'SELECT original_label AS o, current_label AS c, COUNT(*) AS n FROM labels GROUP BY original_label, current_label',
  ).all() as {
    o: number;
    c: number;
    n: number;
  }[];
  const before = new Map<number, number>();
  const after = new Map<number, number>();
  for (const r of rows) {
    before.set(r.o, (before.get(r.o) ?? 0) + r.n);
    after.set(r.c, (after.get(r.c) ?? 0) + r.n);
  }
  return { before, after };
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

export interface ExportVideo {
  id: number;
  name: string;
  split: string;
  header: string | null;
  labelSet: string;
  source: string;
  frameCount: number;
}

export function exportVideos(db: Db): ExportVideo[] {
  return stmt(
    db,
    'SELECT id, name, split, header, label_set AS labelSet, source, frame_count AS frameCount FROM videos ORDER BY split, name',
  ).all() as ExportVideo[];
}

/** A video's current labels by frame index: [idx, label] pairs in index order. */
export function videoCurrentLabels(db: Db, videoId: number): [number, number][] {
  return stmt(db, 'SELECT f.idx, l.current_label FROM frames f JOIN labels l ON l.frame_id = f.id WHERE f.video_id = ? ORDER BY f.idx')
    .raw()
    .all(videoId) as [number, number][];
}

export function recordExport(db: Db, format: string, outPath: string, summary: unknown): number {
  return Number(
    stmt(db, 'INSERT INTO exports (format, out_path, summary, created_at) VALUES (?,?,?,?)').run(
      format,
      outPath,
      JSON.stringify(summary),
      nowIso(),
    ).lastInsertRowid,
  );
}

export interface ExportRow {
  id: number;
  format: string;
  out_path: string;
  summary: string | null;
  created_at: string;
}

export function listExports(db: Db): ExportRow[] {
  return stmt(db, 'SELECT * FROM exports ORDER BY id DESC').all() as ExportRow[];
}

// ---------------------------------------------------------------------------------------------
// Scoring reads

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

/** Ids of all videos, in id order (the scoring pass walks them one at a time). */
export function videoIds(db: Db): number[] {
  return stmt(db, 'SELECT id FROM videos ORDER BY id').pluck().all() as number[];
}

/** Ids of the "videos" that are image datasets (rafdb, affectnet, csv): their neighbouring frames are unrelated images. */
export function imageSetIds(db: Db): Set<number> {
  return new Set(stmt(db, "SELECT id FROM videos WHERE source NOT IN ('abaw', 'video')").pluck().all() as number[]);
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

/**
 * A whole video's label track against the consensus track, for the review timeline. Arrays are
 * indexed by frame idx-1; consensus is null where the run has no prediction.
 */
export function videoTimeline(
  db: Db,
  videoId: number,
  runId: number | null,
): { labels: number[]; consensus: (number | null)[]; flagged: number[] } {
  const rows = stmt(
    db,
    `SELECT f.idx, l.current_label AS label, p.nets, p.classes, p.probs
     FROM frames f JOIN labels l ON l.frame_id = f.id
     LEFT JOIN predictions p ON p.frame_id = f.id AND p.run_id = ?
     WHERE f.video_id = ? ORDER BY f.idx`,
  ).all(runId ?? -1, videoId) as { idx: number; label: number; nets: number | null; classes: number | null; probs: Buffer | null }[];
  const labels: number[] = [];
  const consensus: (number | null)[] = [];
  for (const r of rows) {
    labels[r.idx - 1] = r.label;
    consensus[r.idx - 1] = r.probs && r.nets && r.classes ? argmax(meanProbs(decodeProbs(r.probs), r.nets, r.classes)) : null;
  }
  const flagged = (
    stmt(db, "SELECT DISTINCT idx FROM flags WHERE video_id = ? AND status = 'open' ORDER BY idx").all(videoId) as { idx: number }[]
  ).map((r) => r.idx);
  return { labels, consensus, flagged };
}

/** A frame's crop path by id, or null when the frame does not exist or has no crop. */
export function framePathOf(db: Db, frameId: number): string | null {
  const r = stmt(
    db,
    'SELECT f.idx, f.has_face, f.image_path, v.frames_dir FROM frames f JOIN videos v ON v.id = f.video_id WHERE f.id = ?',
  ).get(frameId) as { idx: number; has_face: number; image_path: string | null; frames_dir: string | null } | undefined;
  if (!r || !r.has_face) return null;
  return framePath(r.frames_dir, r.idx, r.image_path);
}
