// Decisions and decision groups: the audit trail, undo and redo stacks, and the label writes they make.
// What a decision does lives in core/review/decisions.ts. Rows are never deleted: a decision whose
// frame a re-import removed keeps its video name and index with frame_id NULL ("orphaned", 003).
import type { Db } from './db';
import { nowIso, stmt } from './db';
import { flagStatusCounts } from './flags';
import { changedFrameCount } from './dataset';
import type { ReviewAction } from '../shared/api';

/** Decisions that set a label. */
export const LABEL_ACTIONS = "('accept','relabel','keep','exclude')";
/** Decisions a reviewer makes (not undo/redo rows). */
export const REVIEW_ACTIONS = "('accept','relabel','keep','exclude','skip')";

/**
 * Frames a reviewer has decided: the newest effective (not undone) label decision (accept,
 * relabel, keep or exclude). Value: that action and the flag score when it was given (null when
 * the decision had no flag). Scoring never reopens these, except a keep against stronger evidence.
 */
export function protectedFrames(db: Db): Map<number, { action: ReviewAction; score: number | null }> {
  const rows = stmt(
    db,
    `SELECT frame_id AS frameId, action, score FROM (
       SELECT d.frame_id, d.action, d.score, ROW_NUMBER() OVER (PARTITION BY d.frame_id ORDER BY d.id DESC) AS rn
       FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
       WHERE d.frame_id IS NOT NULL AND d.action IN ${LABEL_ACTIONS} AND COALESCE(g.state, 'done') = 'done'
     ) WHERE rn = 1`,
  ).all() as { frameId: number; action: ReviewAction; score: number | null }[];
  return new Map(rows.map((r) => [r.frameId, { action: r.action, score: r.score }]));
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
  /** never null in what these functions return: orphaned rows are only counted (orphanedDecisions) */
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
  /** the frame's video and 1-based index when the decision was made */
  video_name: string | null;
  frame_idx: number | null;
}

export function insertDecision(db: Db, d: Omit<DecisionRow, 'id' | 'created_at' | 'video_name' | 'frame_idx'>): number {
  return Number(
    stmt(
      db,
      `INSERT INTO decisions (frame_id, action, label_before, label_after, rule, score, run_id, flag_id, reverts_id, actor, group_id, created_at,
                              video_name, frame_idx)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,
               (SELECT v.name FROM frames f JOIN videos v ON v.id = f.video_id WHERE f.id = ?), (SELECT idx FROM frames WHERE id = ?))`,
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
      d.frame_id,
      d.frame_id,
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

/** The review decisions (not undo/redo rows) of a group, in the order they were made; orphaned ones have no frame to revert. */
export function groupDecisions(db: Db, groupId: number): DecisionRow[] {
  return stmt(db, `SELECT * FROM decisions WHERE group_id = ? AND frame_id IS NOT NULL AND action IN ${REVIEW_ACTIONS} ORDER BY id`).all(
    groupId,
  ) as DecisionRow[];
}

/** Decisions (any action) whose frame no longer exists, of one video or of the whole project. */
export function orphanedDecisions(db: Db, video?: string): number {
  return video === undefined
    ? (stmt(db, 'SELECT COUNT(*) FROM decisions WHERE frame_id IS NULL').pluck().get() as number)
    : (stmt(db, 'SELECT COUNT(*) FROM decisions WHERE frame_id IS NULL AND video_name = ?').pluck().get(video) as number);
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
    changedFrames: changedFrameCount(db),
    canUndo: lastDoneGroup(db) !== undefined,
    canRedo: nextRedoGroup(db) !== undefined,
  };
}

/** A frame's standing decision: its newest effective label decision (skips and undone groups aside). */
export interface DecidedFrameRow {
  decisionId: number;
  frameId: number;
  video: string;
  split: string;
  idx: number;
  action: ReviewAction;
  original: number;
  current: number;
  decidedAt: string;
  actor: string | null;
}

const STANDING = `SELECT d.id, d.frame_id, d.action, d.created_at, d.actor,
    ROW_NUMBER() OVER (PARTITION BY d.frame_id ORDER BY d.id DESC) AS rn
  FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
  WHERE d.frame_id IS NOT NULL AND d.action IN ${LABEL_ACTIONS} AND COALESCE(g.state, 'done') = 'done'`;

/** The review's counts under the glossary's names (shared/api.ts): review.counts and the export report. */
export interface ReviewTally {
  flagged: number;
  open: number;
  decided: number;
  byAction: Record<'relabel' | 'accept' | 'keep' | 'exclude', number>;
  changed: number;
}

export function reviewTally(db: Db): ReviewTally {
  const flags = flagStatusCounts(db);
  const byAction = decidedByAction(db);
  return {
    flagged: flags.open + flags.decided,
    open: flags.open,
    decided: byAction.relabel + byAction.accept + byAction.keep + byAction.exclude,
    byAction,
    changed: changedFrameCount(db),
  };
}

/** How many frames have a standing decision (decidedFrames' total). */
export function decidedFrameCount(db: Db): number {
  return (stmt(db, `SELECT COUNT(*) AS n FROM (${STANDING}) WHERE rn = 1`).get() as { n: number }).n;
}

/** Decided frames by their standing action: the same frames decidedFrames lists, so the counts and the list agree. */
export function decidedByAction(db: Db): Record<'relabel' | 'accept' | 'keep' | 'exclude', number> {
  const out = { relabel: 0, accept: 0, keep: 0, exclude: 0 };
  const rows = stmt(db, `SELECT action, COUNT(*) AS n FROM (${STANDING}) WHERE rn = 1 GROUP BY action`).all() as {
    action: string;
    n: number;
  }[];
  for (const r of rows) if (Object.hasOwn(out, r.action)) out[r.action as keyof typeof out] = r.n;
  return out;
}

/** Decided frames, each once with its standing action and labels, newest decision first; `before` pages by decision id. */
export function decidedFrames(db: Db, opts: { before?: number; limit: number }): { items: DecidedFrameRow[]; total: number } {
  const items = stmt(
    db,
    `SELECT x.id AS decisionId, x.frame_id AS frameId, v.name AS video, v.split, f.idx, x.action,
            l.original_label AS original, l.current_label AS current, x.created_at AS decidedAt, x.actor
     FROM (${STANDING}) x JOIN frames f ON f.id = x.frame_id JOIN videos v ON v.id = f.video_id JOIN labels l ON l.frame_id = x.frame_id
     WHERE x.rn = 1 AND x.id < ? ORDER BY x.id DESC LIMIT ?`,
  ).all(opts.before ?? Number.MAX_SAFE_INTEGER, opts.limit) as DecidedFrameRow[];
  return { items, total: decidedFrameCount(db) };
}
