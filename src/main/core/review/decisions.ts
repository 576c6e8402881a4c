// Review decisions with an append-only audit trail, undo and redo.
// One decide() call is one group: all its frames change in one transaction, and undo/redo act on
// whole groups (decideInBatches: a large group, checked whole, then written in batches). Undo and
// redo append 'undo'/'redo' rows; nothing is ever deleted.
//   accept   current label := the flag's suggestion (the frame must have a flag)
//   relabel  current label := label K
//   keep     current label := the original label (the reviewer says the file was right)
//   exclude  current label := -1 (left out of training and metrics)
//   skip     recorded, no label change; the flag stays open
import { writeTransaction, type Db } from '../../../store/db';
import { frameInfo } from '../../../store/dataset';
import { currentFlagOf, getFlag, refreshFrameDecision, setFlagStatus } from '../../../store/flags';
import {
  flagHasEffectiveDecision,
  frameIdByRef,
  groupDecisions,
  insertDecision,
  insertGroup,
  lastDoneGroup,
  nextRedoGroup,
  setCurrentLabel,
  setGroupState,
  type DecisionRow,
} from '../../../store/decisions';
import { ReviewAction } from '../../../shared/api';
import { classCount, type LabelSetId } from '../../../shared/labels';
import { labelAfter } from '../../../shared/decisions';
import { ProgressTracker, type ProgressFn } from '../../../shared/progress';

export class DecisionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecisionError';
  }
}

export interface DecideOptions {
  frameIds: number[];
  action: ReviewAction;
  /** The new label, for relabel only. */
  label?: number;
  actor?: string;
}

export interface FrameChange {
  frameId: number;
  before: number;
  after: number;
}

export interface DecisionGroup {
  groupId: number;
  action: ReviewAction;
  changes: FrameChange[];
}

export interface RevertResult {
  groupId: number;
  action: ReviewAction;
  changes: FrameChange[];
}

function checkOptions(opts: DecideOptions): { action: ReviewAction; frameIds: number[]; actor: string | null } {
  const parsed = ReviewAction.safeParse(opts.action);
  if (!parsed.success) throw new DecisionError(`unknown action "${String(opts.action)}" (expected accept, relabel, keep, exclude or skip)`);
  const action = parsed.data;
  if (!Array.isArray(opts.frameIds) || opts.frameIds.length === 0) throw new DecisionError('no frames to decide on');
  if (action === 'relabel') {
    if (opts.label === undefined || !Number.isInteger(opts.label) || opts.label < 0) {
      throw new DecisionError(`relabel needs a label (a class index >= 0), got ${String(opts.label)}`);
    }
  } else if (opts.label !== undefined) {
    throw new DecisionError(`a label is only given with relabel, not with ${action}`);
  }
  return { action, frameIds: [...new Set(opts.frameIds)], actor: opts.actor ?? null };
}

/** A frame's state and flag, or the DecisionError that refuses this decision on it (reads only). */
function checkFrame(db: Db, frameId: number, action: ReviewAction, label: number | undefined) {
  const st = Number.isInteger(frameId) ? frameInfo(db, frameId) : undefined;
  if (!st) throw new DecisionError(`frame ${String(frameId)} does not exist`);
  const flag = currentFlagOf(db, frameId);
  if (action === 'accept' && !flag) {
    throw new DecisionError(`frame ${frameId} (${st.video}:${st.idx}) has no flag, so there is no suggestion to accept`);
  }
  if (action === 'relabel') {
    const max = classCount(st.labelSet as LabelSetId) - 1;
    if (label! > max) throw new DecisionError(`label ${label} is out of range for ${st.video} (${st.labelSet}: 0..${max})`);
  }
  return { st, flag };
}

function decideFrame(
  db: Db,
  frameId: number,
  action: ReviewAction,
  label: number | undefined,
  actor: string | null,
  groupId: number,
): FrameChange {
  const { st, flag } = checkFrame(db, frameId, action, label);
  const after = labelAfter(action, { original: st.original, current: st.current, suggested: flag?.suggested ?? null }, label);
  insertDecision(db, {
    frame_id: frameId,
    action,
    label_before: st.current,
    label_after: after,
    rule: flag?.rule ?? null,
    score: flag?.score ?? null,
    run_id: flag?.run_id ?? null,
    flag_id: flag?.id ?? null,
    reverts_id: null,
    actor,
    group_id: groupId,
  });
  if (after !== st.current) setCurrentLabel(db, frameId, after);
  if (flag && action !== 'skip' && flag.status !== 'decided') setFlagStatus(db, flag.id, 'decided');
  if (action !== 'skip') refreshFrameDecision(db, frameId);
  return { frameId, before: st.current, after };
}

export function decide(db: Db, opts: DecideOptions): DecisionGroup {
  const { action, frameIds, actor } = checkOptions(opts);
  return writeTransaction(db, () => {
    const groupId = insertGroup(db, { action, label: opts.label ?? null, actor, frames: frameIds.length });
    const changes = frameIds.map((frameId) => decideFrame(db, frameId, action, opts.label, actor, groupId));
    return { groupId, action, changes };
  });
}

export interface BatchedDecideOptions extends DecideOptions {
  /** Frames per transaction (default 1000). */
  batch?: number;
  onProgress?: ProgressFn;
}

/**
 * decide() for large groups, without holding the thread: every frame is checked first (a refused
 * frame refuses the whole group, before anything is written), then the frames are decided `batch`
 * per transaction, with the event loop free in between. It is one group all the same, so undo and
 * redo act on it whole. Callers keep other decisions from interleaving (app-review's queue).
 */
export async function decideInBatches(db: Db, opts: BatchedDecideOptions): Promise<DecisionGroup> {
  const { action, frameIds, actor } = checkOptions(opts);
  const batch = Math.max(1, Math.floor(opts.batch ?? 1000));
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const checking = new ProgressTracker('check frames', frameIds.length, opts.onProgress);
  for (let i = 0; i < frameIds.length; i += batch) {
    const part = frameIds.slice(i, i + batch);
    for (const frameId of part) checkFrame(db, frameId, action, opts.label);
    checking.add(part.length);
    await turn();
  }
  const deciding = new ProgressTracker('decide', frameIds.length, opts.onProgress);
  let groupId = 0;
  const changes: FrameChange[] = [];
  for (let i = 0; i < frameIds.length; i += batch) {
    const part = frameIds.slice(i, i + batch);
    const made = writeTransaction(db, () => {
      groupId ||= insertGroup(db, { action, label: opts.label ?? null, actor, frames: frameIds.length });
      return part.map((frameId) => decideFrame(db, frameId, action, opts.label, actor, groupId));
    });
    changes.push(...made);
    deciding.add(part.length);
    await turn();
  }
  return { groupId, action, changes };
}

function revert(db: Db, direction: 'undo' | 'redo', actor: string | null): RevertResult | null {
  return writeTransaction(db, () => {
    const g = direction === 'undo' ? lastDoneGroup(db) : nextRedoGroup(db);
    if (!g) return null;
    const rows = groupDecisions(db, g.id);
    // undo walks the group backwards so a frame listed twice ends at its first label_before
    const ordered: DecisionRow[] = direction === 'undo' ? [...rows].reverse() : rows;
    const changes: FrameChange[] = [];
    for (const d of ordered) {
      const st = frameInfo(db, d.frame_id);
      if (!st) continue; // the frame's video was deleted since
      const after = direction === 'undo' ? d.label_before : d.label_after;
      insertDecision(db, {
        frame_id: d.frame_id,
        action: direction,
        label_before: st.current,
        label_after: after,
        rule: d.rule,
        score: d.score,
        run_id: d.run_id,
        flag_id: d.flag_id,
        reverts_id: d.id,
        actor,
        group_id: g.id,
      });
      if (after !== st.current) setCurrentLabel(db, d.frame_id, after);
      changes.push({ frameId: d.frame_id, before: st.current, after });
    }
    setGroupState(db, g.id, direction === 'undo' ? 'undone' : 'done');
    for (const frameId of new Set(rows.map((d) => d.frame_id))) refreshFrameDecision(db, frameId);
    // a flag is decided while some applied decision (other than skip) refers to it
    for (const flagId of new Set(rows.filter((d) => d.action !== 'skip' && d.flag_id !== null).map((d) => d.flag_id!))) {
      if (!getFlag(db, flagId)) continue;
      setFlagStatus(db, flagId, flagHasEffectiveDecision(db, flagId) ? 'decided' : 'open');
    }
    return { groupId: g.id, action: g.action, changes };
  });
}

/** Revert the newest applied decision group. Null when there is nothing to undo. */
export function undo(db: Db, opts: { actor?: string } = {}): RevertResult | null {
  return revert(db, 'undo', opts.actor ?? null);
}

/** Re-apply the group undone last. Null when there is nothing to redo (a new decision empties the redo stack). */
export function redo(db: Db, opts: { actor?: string } = {}): RevertResult | null {
  return revert(db, 'redo', opts.actor ?? null);
}

/** Resolve `VIDEO:FRAME` (FRAME 1-based, as in the annotation file after the header) to a frame id. */
export function frameRef(db: Db, ref: string): number {
  const at = ref.lastIndexOf(':');
  const video = at > 0 ? ref.slice(0, at) : '';
  const frameText = at > 0 ? ref.slice(at + 1) : '';
  if (!video || !/^\d+$/.test(frameText) || Number(frameText) < 1) {
    throw new DecisionError(`bad frame reference "${ref}" (expected VIDEO:FRAME with FRAME >= 1, e.g. 12-24-1920x1080_left:120)`);
  }
  const idx = Number(frameText);
  const r = frameIdByRef(db, video, idx);
  if (!r.videoFound) throw new DecisionError(`bad frame reference "${ref}": no video named "${video}" in this project`);
  if (r.frameId === null)
    throw new DecisionError(`bad frame reference "${ref}": ${video} has ${r.frameCount} frames, there is no frame ${idx}`);
  return r.frameId;
}

/** Parse the CLI's --action value: accept | keep | exclude | skip | relabel:K. */
export function parseActionArg(text: string): { action: ReviewAction; label?: number } {
  const m = /^relabel:(\d+)$/.exec(text.trim());
  if (m) return { action: 'relabel', label: Number(m[1]) };
  const t = text.trim();
  if (t === 'relabel') throw new DecisionError('relabel needs a class: --action relabel:K (K = 0..7)');
  const p = ReviewAction.safeParse(t);
  if (!p.success) throw new DecisionError(`unknown action "${text}" (expected accept, relabel:K, keep, exclude or skip)`);
  return { action: p.data };
}
