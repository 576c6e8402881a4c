// Decisions and decision groups: the audit trail, undo and redo stacks, and the label writes they make.
// What a decision does lives in core/review/decisions.ts.
import type { Db } from './db';
import { nowIso, stmt } from './db';
import { flagStatusCounts } from './flags';
import type { ReviewAction } from '../shared/api';

/** Decisions that set a label. */
export const LABEL_ACTIONS = "('accept','relabel','keep','exclude')";
/** Decisions a reviewer makes (not undo/redo rows). */
export const REVIEW_ACTIONS = "('accept','relabel','keep','exclude','skip')";

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
