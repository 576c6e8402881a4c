// Videos, frames and labels: the dataset side of the store.
import type { Db } from './db';
import { nowIso, stmt } from './db';
import type { LabelSetId } from '../shared/labels';
import type { DatasetFrame, DatasetInfoResult } from '../shared/api';

export interface VideoInput {
  name: string;
  split: string;
  source: string;
  labelSet: LabelSetId;
  header: string | null;
  annotationFile: string | null;
  framesDir: string | null;
  videoFile?: string | null;
  fps?: number | null;
  contentHash?: string | null;
}

/** Frames of one video, column-wise so millions of lines stay cheap. */
export interface FramesInput {
  /** labels[i] is the label of frame i+1 (-1 = not annotated). */
  labels: ArrayLike<number>;
  /** hasFace[i] is 1 when frame i+1 has a crop. */
  hasFace: ArrayLike<number>;
  /** Optional explicit image paths (image datasets); null/undefined = framesDir/{idx:05d}.jpg. */
  imagePaths?: (string | null)[];
  /** Optional subject of each image (an image list's person or source video; migration 006); null = none. */
  subjects?: (string | null)[];
}

export interface VideoRow {
  id: number;
  name: string;
  video_file: string | null;
  fps: number | null;
  frame_count: number;
  split: string;
  source: string;
  label_set: LabelSetId;
  header: string | null;
  annotation_file: string | null;
  frames_dir: string | null;
  content_hash: string | null;
  imported_at: string;
}

export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

/** A video name that is already another split's: names are the project's key for a video. */
export class VideoNameClashError extends Error {
  constructor(
    readonly video: string,
    readonly existing: { split: string; annotationFile: string | null },
  ) {
    super(
      `video name "${video}" is already imported from ${existing.annotationFile ?? '(unknown file)'} (split ${existing.split}); ` +
        'a video name must be unique across splits, rename one of the two files',
    );
    this.name = 'VideoNameClashError';
  }
}

/**
 * The split and file of an imported video with this name in a different split, or null. Names are
 * unique across splits (the README's import rule): the same name in two splits would otherwise
 * overwrite one with the other, flipping on every re-import.
 */
export function videoNameClash(db: Db, name: string, split: string): { split: string; annotationFile: string | null } | null {
  const r = stmt(db, 'SELECT split, annotation_file FROM videos WHERE name = ?').get(name) as
    { split: string; annotation_file: string | null } | undefined;
  return r && r.split !== split ? { split: r.split, annotationFile: r.annotation_file } : null;
}

/**
 * Write one whole video in one transaction. Re-importing identical content is a no-op; changed
 * content updates labels in place and keeps reviewed labels (current != original) as reviewed.
 * Frames past a shorter file's end are deleted; their decisions stay, orphaned (migration 003).
 * The same name in another split is refused (VideoNameClashError).
 */
export function upsertVideo(db: Db, v: VideoInput, f: FramesInput): UpsertOutcome {
  const n = f.labels.length;
  const clash = videoNameClash(db, v.name, v.split);
  if (clash) throw new VideoNameClashError(v.name, clash);
  const existing = stmt(db, 'SELECT id, content_hash, frame_count, frames_dir FROM videos WHERE name = ?').get(v.name) as
    { id: number; content_hash: string | null; frame_count: number; frames_dir: string | null } | undefined;
  if (
    existing &&
    v.contentHash &&
    existing.content_hash === v.contentHash &&
    existing.frame_count === n &&
    existing.frames_dir === v.framesDir
  ) {
    return 'unchanged';
  }
  const run = db.transaction((): UpsertOutcome => {
    let videoId: number;
    const fields = [
      v.videoFile ?? null,
      v.fps ?? null,
      n,
      v.split,
      v.source,
      v.labelSet,
      v.header,
      v.annotationFile,
      v.framesDir,
      v.contentHash ?? null,
      nowIso(),
    ];
    if (existing) {
      videoId = existing.id;
      stmt(
        db,
        `UPDATE videos SET video_file=?, fps=?, frame_count=?, split=?, source=?, label_set=?, header=?, annotation_file=?, frames_dir=?, content_hash=?, imported_at=? WHERE id=?`,
      ).run(...fields, videoId);
    } else {
      videoId = Number(
        stmt(
          db,
          `INSERT INTO videos (video_file, fps, frame_count, split, source, label_set, header, annotation_file, frames_dir, content_hash, imported_at, name)
             VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
        ).run(...fields, v.name).lastInsertRowid,
      );
    }
    const paths = f.imagePaths;
    if (!existing) {
      const insFrame = stmt(db, 'INSERT INTO frames (video_id, idx, has_face, image_path, subject) VALUES (?,?,?,?,?)');
      const insLabel = stmt(db, 'INSERT INTO labels (frame_id, original_label, current_label) VALUES (?,?,?)');
      for (let i = 0; i < n; i++) {
        const id = insFrame.run(videoId, i + 1, f.hasFace[i] ? 1 : 0, paths?.[i] ?? null, f.subjects?.[i] ?? null).lastInsertRowid;
        insLabel.run(id, f.labels[i], f.labels[i]);
      }
      return 'inserted';
    }
    const upFrame = stmt(
      db,
      `INSERT INTO frames (video_id, idx, has_face, image_path, subject) VALUES (?,?,?,?,?)
       ON CONFLICT (video_id, idx) DO UPDATE SET has_face = excluded.has_face, image_path = excluded.image_path, subject = excluded.subject
       RETURNING id`,
    );
    const upLabel = stmt(
      db,
      `INSERT INTO labels (frame_id, original_label, current_label) VALUES (?,?,?)
       ON CONFLICT (frame_id) DO UPDATE SET
         current_label = CASE WHEN labels.current_label = labels.original_label THEN excluded.original_label ELSE labels.current_label END,
         original_label = excluded.original_label`,
    );
    for (let i = 0; i < n; i++) {
      const { id } = upFrame.get(videoId, i + 1, f.hasFace[i] ? 1 : 0, paths?.[i] ?? null, f.subjects?.[i] ?? null) as { id: number };
      upLabel.run(id, f.labels[i], f.labels[i]);
    }
    stmt(db, 'DELETE FROM frames WHERE video_id = ? AND idx > ?').run(videoId, n);
    return 'updated';
  });
  return run.immediate();
}

export function getVideo(db: Db, name: string): VideoRow | undefined {
  return stmt(db, 'SELECT * FROM videos WHERE name = ?').get(name) as VideoRow | undefined;
}

export function listVideos(db: Db): VideoRow[] {
  return stmt(db, 'SELECT * FROM videos ORDER BY split, name').all() as VideoRow[];
}

/** The dataset counts of the contract's project.info, without what the host adds. */
export type DatasetInfo = Omit<DatasetInfoResult, 'project' | 'classNames' | 'decidedFrames' | 'imageLists'>;

/** Counts for `concord info` and the dataset overview. perClass counts current labels of frames with a label. */
/** Frames whose label now differs from the original (the glossary's "changed"). */
export function changedFrameCount(db: Db): number {
  return (stmt(db, 'SELECT COUNT(*) AS n FROM labels WHERE current_label != original_label').get() as { n: number }).n;
}

export function datasetInfo(db: Db): DatasetInfo {
  const rows = stmt(
    db,
    `SELECT v.split AS split, l.current_label AS label, f.has_face AS has_face, COUNT(*) AS n
       FROM frames f JOIN labels l ON l.frame_id = f.id JOIN videos v ON v.id = f.video_id
       GROUP BY v.split, l.current_label, f.has_face`,
  ).all() as { split: string; label: number; has_face: number; n: number }[];
  const vids = stmt(db, 'SELECT split, COUNT(*) AS n FROM videos GROUP BY split').all() as { split: string; n: number }[];
  const labelSets = (stmt(db, 'SELECT DISTINCT label_set FROM videos').all() as { label_set: string }[]).map((r) => r.label_set);
  const classes = labelSets.includes('abaw8') ? 8 : 7;
  const changed = changedFrameCount(db);
  const info: DatasetInfo = {
    videos: 0,
    frames: 0,
    labelledFrames: 0,
    trainableFrames: 0,
    missingCrops: 0,
    changedFrames: changed,
    orphanedDecisions: stmt(db, 'SELECT COUNT(*) FROM decisions WHERE frame_id IS NULL').pluck().get() as number,
    labelSets,
    splits: {},
    perClass: new Array(classes).fill(0),
  };
  // Split names are folder names from disk: keyed in a Map, so "__proto__" or "constructor" is just a name.
  const splits = new Map<string, DatasetInfo['splits'][string]>();
  const split = (name: string) => {
    let s = splits.get(name);
    if (!s)
      splits.set(name, (s = { videos: 0, frames: 0, labelled: 0, trainable: 0, missingCrops: 0, perClass: new Array(classes).fill(0) }));
    return s;
  };
  for (const v of vids) {
    split(v.split).videos = v.n;
    info.videos += v.n;
  }
  for (const r of rows) {
    const s = split(r.split);
    s.frames += r.n;
    info.frames += r.n;
    if (!r.has_face) {
      s.missingCrops += r.n;
      info.missingCrops += r.n;
    }
    if (r.label >= 0) {
      s.labelled += r.n;
      info.labelledFrames += r.n;
      s.perClass[r.label] = (s.perClass[r.label] ?? 0) + r.n;
      info.perClass[r.label] = (info.perClass[r.label] ?? 0) + r.n;
      if (r.has_face) {
        s.trainable += r.n;
        info.trainableFrames += r.n;
      }
    }
  }
  info.splits = Object.fromEntries(splits);
  return info;
}

export interface FrameRecord {
  frameId: number;
  videoId: number;
  video: string;
  split: string;
  idx: number;
  label: number;
  originalLabel: number;
  imagePath: string;
  /** An image list's subject for this image (person or source video); null for video frames and lists without one. */
  subject?: string | null;
}

/** Absolute path of a frame's crop. */
export function framePath(framesDir: string | null, idx: number, imagePath: string | null): string {
  if (imagePath) return imagePath;
  return `${framesDir ?? ''}/${String(idx).padStart(5, '0')}.jpg`;
}

/** Frames with a crop, optionally only labelled ones, optionally filtered by split, ordered by video and index. */
export function listFrames(db: Db, opts: { splits?: string[]; labelledOnly?: boolean; withFaceOnly?: boolean } = {}): FrameRecord[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.withFaceOnly ?? true) where.push('f.has_face = 1');
  if (opts.labelledOnly) where.push('l.current_label >= 0');
  if (opts.splits?.length) {
    where.push(`v.split IN (${opts.splits.map(() => '?').join(',')})`);
    args.push(...opts.splits);
  }
  const rows = stmt(
    db,
    `SELECT f.id AS frameId, v.id AS videoId, v.name AS video, v.split AS split, f.idx AS idx,
              l.current_label AS label, l.original_label AS originalLabel, v.frames_dir AS framesDir, f.image_path AS imagePath,
              f.subject AS subject
       FROM frames f JOIN labels l ON l.frame_id = f.id JOIN videos v ON v.id = f.video_id
       ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       ORDER BY v.id, f.idx`,
  ).all(...args) as (Omit<FrameRecord, 'imagePath'> & { framesDir: string | null; imagePath: string | null })[];
  return rows.map((r) => ({
    frameId: r.frameId,
    videoId: r.videoId,
    video: r.video,
    split: r.split,
    idx: r.idx,
    label: r.label,
    originalLabel: r.originalLabel,
    imagePath: framePath(r.framesDir, r.idx, r.imagePath),
    subject: r.subject,
  }));
}

export function getProjectValue(db: Db, key: string): string | undefined {
  return (stmt(db, 'SELECT value FROM project WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

export function setProjectValue(db: Db, key: string, value: string): void {
  stmt(db, 'INSERT INTO project (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** Ids of all videos, in id order (the scoring pass walks them one at a time). */
export function videoIds(db: Db): number[] {
  return stmt(db, 'SELECT id FROM videos ORDER BY id').pluck().all() as number[];
}

/** How many image-list groups (the "videos" an image import makes) of these sources the project holds. */
export function imageListCount(db: Db, sources: readonly string[] = ['rafdb', 'affectnet', 'csv']): number {
  if (!sources.length) return 0;
  return stmt(db, `SELECT COUNT(*) FROM videos WHERE source IN (${sources.map(() => '?').join(',')})`)
    .pluck()
    .get(...sources) as number;
}

/** The sources whose rows are real videos; every other source (rafdb, affectnet, csv) is an image set. */
export const VIDEO_SOURCES: readonly string[] = ['abaw', 'video'];

/** Whether a "video" of this source is an image dataset: its neighbouring frames are unrelated images. */
export const isImageSet = (source: string): boolean => !VIDEO_SOURCES.includes(source);

/** Ids of the "videos" that are image datasets (rafdb, affectnet, csv). */
export function imageSetIds(db: Db): Set<number> {
  const rows = stmt(db, 'SELECT id, source FROM videos').all() as { id: number; source: string }[];
  return new Set(rows.filter((r) => isImageSet(r.source)).map((r) => r.id));
}

/** Distinct subjects named by an image list's images (a cross-fit folds by them); 0 when none are. */
export function imageSubjectCount(db: Db): number {
  return stmt(db, 'SELECT COUNT(DISTINCT subject) FROM frames WHERE subject IS NOT NULL').pluck().get() as number;
}

/** The subjects an image set's images name, by frame id (empty for a video, or a list that names none). */
export function frameSubjects(db: Db, videoId: number): Map<number, string> {
  const rows = stmt(db, 'SELECT id, subject FROM frames WHERE video_id = ? AND subject IS NOT NULL').all(videoId) as {
    id: number;
    subject: string;
  }[];
  return new Map(rows.map((r) => [r.id, r.subject]));
}

/** One frame with its video and labels. */
export interface FrameInfo {
  frameId: number;
  videoId: number;
  video: string;
  split: string;
  idx: number;
  hasFace: boolean;
  imagePath: string;
  labelSet: string;
  original: number;
  current: number;
}

interface FrameInfoRaw {
  id: number;
  video_id: number;
  name: string;
  split: string;
  idx: number;
  has_face: number;
  image_path: string | null;
  frames_dir: string | null;
  label_set: string;
  original_label: number;
  current_label: number;
}

function toFrameInfo(r: FrameInfoRaw): FrameInfo {
  return {
    frameId: r.id,
    videoId: r.video_id,
    video: r.name,
    split: r.split,
    idx: r.idx,
    hasFace: r.has_face === 1,
    imagePath: framePath(r.frames_dir, r.idx, r.image_path),
    labelSet: r.label_set,
    original: r.original_label,
    current: r.current_label,
  };
}

export function frameInfo(db: Db, frameId: number): FrameInfo | undefined {
  const r = stmt(
    db,
    `SELECT f.id, f.video_id, f.idx, f.has_face, f.image_path, v.name, v.split, v.frames_dir, v.label_set, l.original_label, l.current_label
     FROM frames f JOIN videos v ON v.id = f.video_id JOIN labels l ON l.frame_id = f.id WHERE f.id = ?`,
  ).get(frameId) as FrameInfoRaw | undefined;
  return r && toFrameInfo(r);
}

/** A frame's crop path by id, or null when the frame does not exist or has no crop. */
export function framePathOf(db: Db, frameId: number): string | null {
  const f = frameInfo(db, frameId);
  return f?.hasFace ? f.imagePath : null;
}

/** A frame's crop path and the frames folder its import recorded (the crop must stay inside it), or null without a crop. */
export function frameFileOf(db: Db, frameId: number): { path: string; framesDir: string | null } | null {
  const r = stmt(
    db,
    'SELECT f.idx, f.image_path, f.has_face, v.frames_dir FROM frames f JOIN videos v ON v.id = f.video_id WHERE f.id = ?',
  ).get(frameId) as { idx: number; image_path: string | null; has_face: number; frames_dir: string | null } | undefined;
  return r?.has_face ? { path: framePath(r.frames_dir, r.idx, r.image_path), framesDir: r.frames_dir } : null;
}

export interface DatasetFramesFilter {
  split?: string;
  video?: string;
  /** the current label (-1: unlabelled) */
  label?: number;
  hasFace?: boolean;
  /** has a standing label decision (accept, relabel, keep or exclude, not undone), as decidedFrames counts */
  decided?: boolean;
}

/** One frame of the dataset browser (the contract's DatasetFrame). */
export type DatasetFrameRow = DatasetFrame;

// decisions.ts's LABEL_ACTIONS, spelled out here: that module imports this one (through flags.ts)
const DECIDED = `EXISTS (SELECT 1 FROM decisions d LEFT JOIN decision_groups g ON g.id = d.group_id
  WHERE d.frame_id = f.id AND d.action IN ('accept','relabel','keep','exclude') AND COALESCE(g.state, 'done') = 'done')`;

/** Every frame matching the filter, by video and index, one page (offset paging) and the total. */
export function datasetFrames(
  db: Db,
  opts: { filter?: DatasetFramesFilter; offset?: number; limit?: number },
): { items: DatasetFrameRow[]; total: number; offset: number } {
  const f = opts.filter ?? {};
  const where: string[] = [];
  const args: unknown[] = [];
  const when = (clause: string, ...values: unknown[]) => {
    where.push(clause);
    args.push(...values);
  };
  if (f.split !== undefined) when('v.split = ?', f.split);
  if (f.video !== undefined) when('v.name = ?', f.video);
  if (f.label !== undefined) when('COALESCE(l.current_label, -1) = ?', f.label);
  if (f.hasFace !== undefined) when('f.has_face = ?', f.hasFace ? 1 : 0);
  if (f.decided !== undefined) when(f.decided ? DECIDED : `NOT ${DECIDED}`);
  const from = `FROM frames f JOIN videos v ON v.id = f.video_id LEFT JOIN labels l ON l.frame_id = f.id
     ${where.length ? 'WHERE ' + where.join(' AND ') : ''}`;
  const offset = opts.offset ?? 0;
  const limit = Math.min(Math.max(1, opts.limit ?? 200), 500);
  const rows = stmt(
    db,
    `SELECT f.id AS frameId, v.name AS video, v.split AS split, f.idx AS idx, COALESCE(l.original_label, -1) AS original,
            COALESCE(l.current_label, -1) AS current, f.has_face AS hasFace
     ${from} ORDER BY f.video_id, f.idx LIMIT ? OFFSET ?`,
  ).all(...args, limit, offset) as (Omit<DatasetFrameRow, 'hasFace'> & { hasFace: number })[];
  const total = (stmt(db, `SELECT COUNT(*) AS n ${from}`).get(...args) as { n: number }).n;
  return { items: rows.map((r) => ({ ...r, hasFace: r.hasFace === 1 })), total, offset };
}
