// The reads of an export (one snapshot: effective decisions, changed frames, label counts) and the exports table.
// File formats live in core/export.
import type { Db } from './db';
import { nowIso, stmt } from './db';
import { REVIEW_ACTIONS } from './decisions';
import type { ReviewAction } from '../shared/api';

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

/** A changed frame with the action of its standing decision (null: changed without one, e.g. by an older tool). */
export type PreviewFrame = ChangedFrame & { action: ReviewAction | null };

/** The export preview's rows: changedFrames' first `limit`, each with the action that changed it. */
export function previewFrames(db: Db, limit: number): PreviewFrame[] {
  return stmt(
    db,
    `SELECT c.*, (SELECT d.action FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
                  WHERE d.frame_id = c.frameId AND d.action IN ('accept','relabel','keep','exclude') AND COALESCE(g.state, 'done') = 'done'
                  ORDER BY d.id DESC LIMIT 1) AS action
     FROM (SELECT f.id AS frameId, f.video_id AS videoId, v.name AS video, v.split AS split, f.idx AS idx,
                  l.original_label AS original, l.current_label AS current
           FROM labels l JOIN frames f ON f.id = l.frame_id JOIN videos v ON v.id = f.video_id
           WHERE l.current_label != l.original_label ORDER BY f.video_id, f.idx LIMIT ?) c
     ORDER BY c.videoId, c.idx`,
  ).all(limit) as PreviewFrame[];
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

/** The newest export recorded into `outPath` (as recorded: the resolved folder), if any. */
export function lastExportTo(db: Db, outPath: string): { id: number; format: string; createdAt: string } | undefined {
  return stmt(db, 'SELECT id, format, created_at AS createdAt FROM exports WHERE out_path = ? ORDER BY id DESC LIMIT 1').get(outPath) as
    { id: number; format: string; createdAt: string } | undefined;
}
