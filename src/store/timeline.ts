// The review timeline's reads, bounded whatever the video's length: per-bucket counts from index
// range counts (no row reaches JS), a fixed number of sampled frames per bucket, and one range of
// frames (the window around a frame) with labels and predictions.
import type { Db } from './db';
import { stmt } from './db';
import { decodeProbs, type FramePrediction } from './predictions';

/**
 * A video's first and last frame index and its recorded frame count. Two index seeks: one query
 * with both MIN and MAX would scan the video.
 */
export function videoIdxRange(db: Db, videoId: number): { first: number; last: number; frameCount: number } | null {
  const r = stmt(
    db,
    `SELECT (SELECT MIN(idx) FROM frames WHERE video_id = @v) AS first, (SELECT MAX(idx) FROM frames WHERE video_id = @v) AS last,
            (SELECT frame_count FROM videos WHERE id = @v) AS frameCount`,
  ).get({ v: videoId }) as { first: number | null; last: number | null; frameCount: number | null };
  return r.first === null || r.last === null ? null : { first: r.first, last: r.last, frameCount: r.frameCount ?? 0 };
}

export interface BucketCounts {
  from: number;
  to: number;
  frames: number;
  /** frames with an open flag */
  flagged: number;
  /** frames with a decided flag */
  decided: number;
}

/**
 * Frame, open-flag and decided-flag counts of consecutive index buckets [first + k*size, +size-1]
 * (the last one ends at `last`). One query: each bucket is an index range count, which avoids the
 * sort a GROUP BY on an idx expression needs over millions of frames. `contiguous` (every idx of
 * first..last exists) takes a bucket's frame count from its bounds instead of counting them.
 */
export function bucketCounts(
  db: Db,
  videoId: number,
  range: { first: number; last: number; size: number; contiguous: boolean },
): BucketCounts[] {
  const frames = range.contiguous
    ? 'b.hi - b.lo + 1'
    : '(SELECT COUNT(*) FROM frames f WHERE f.video_id = @video AND f.idx BETWEEN b.lo AND b.hi)';
  return stmt(
    db,
    `WITH RECURSIVE b(lo, hi) AS (
       SELECT @first, MIN(@first + @size - 1, @last)
       UNION ALL SELECT lo + @size, MIN(hi + @size, @last) FROM b WHERE lo + @size <= @last)
     SELECT b.lo AS "from", b.hi AS "to", ${frames} AS frames,
       (SELECT COUNT(DISTINCT idx) FROM flags WHERE status = 'open' AND video_id = @video AND idx BETWEEN b.lo AND b.hi) AS flagged,
       (SELECT COUNT(DISTINCT idx) FROM flags WHERE status = 'decided' AND video_id = @video AND idx BETWEEN b.lo AND b.hi) AS decided
     FROM b`,
  ).all({ video: videoId, first: range.first, last: range.last, size: range.size }) as BucketCounts[];
}

/**
 * bucketCounts for a short video (contiguous indices): its flagged indices read once from a
 * covering index and counted per bucket, cheaper than an index range count per bucket while the
 * video's flags are few.
 */
export function bucketCountsGrouped(db: Db, videoId: number, range: { first: number; last: number; size: number }): BucketCounts[] {
  const n = Math.ceil((range.last - range.first + 1) / range.size);
  const count = (status: 'open' | 'decided'): Int32Array => {
    // covered by flags_segments (status, video_id, idx): no table row is read
    const idx = stmt(db, 'SELECT DISTINCT idx FROM flags WHERE status = ? AND video_id = ? AND idx BETWEEN ? AND ?')
      .pluck()
      .all(status, videoId, range.first, range.last) as number[];
    const out = new Int32Array(n);
    for (const i of idx) out[Math.floor((i - range.first) / range.size)]!++;
    return out;
  };
  const open = count('open');
  const decided = count('decided');
  return Array.from({ length: n }, (_, k) => {
    const from = range.first + k * range.size;
    const to = Math.min(from + range.size - 1, range.last);
    return { from, to, frames: to - from + 1, flagged: open[k]!, decided: decided[k]! };
  });
}

export interface SampledFrame {
  idx: number;
  /** the frame's current label */
  current: number;
  /** the run's prediction, null without one */
  prediction: FramePrediction | null;
}

/** idx, current label and the run's prediction blob, as the three reads below select them (raw rows). */
type SampleRow = [idx: number, current: number, nets: number | null, classes: number | null, probs: Buffer | null];
const SAMPLE_COLUMNS = 'f.idx, l.current_label, p.nets, p.classes, p.probs';

function toSampled([idx, current, nets, classes, probs]: SampleRow): SampledFrame {
  return { idx, current, prediction: probs && nets && classes ? { nets, classes, probs: decodeProbs(probs) } : null };
}

/** The frames of a video at the given indices (missing ones skipped), with labels and the run's predictions. */
export function sampleFrames(db: Db, videoId: number, runId: number | null, idx: readonly number[]): SampledFrame[] {
  const rows = stmt(
    db,
    `SELECT ${SAMPLE_COLUMNS}
     FROM json_each(?) s CROSS JOIN frames f ON f.video_id = ? AND f.idx = s.value
     JOIN labels l ON l.frame_id = f.id
     LEFT JOIN predictions p ON p.run_id = ? AND p.frame_id = f.id`,
  )
    .raw()
    .all(JSON.stringify(idx), videoId, runId ?? -1) as SampleRow[];
  return rows.map(toSampled);
}

/**
 * The frames of [first, last] at `offset` within their bucket of `size` (one sample per bucket): one
 * index range scan that fetches labels and predictions only for those rows, which beats point
 * lookups while the range is short (a long video is sampled with sampleFrames instead).
 */
export function strideFrames(
  db: Db,
  videoId: number,
  runId: number | null,
  range: { first: number; last: number; size: number; offset: number },
): SampledFrame[] {
  const rows = stmt(
    db,
    `SELECT ${SAMPLE_COLUMNS}
     FROM frames f JOIN labels l ON l.frame_id = f.id LEFT JOIN predictions p ON p.run_id = @run AND p.frame_id = f.id
     WHERE f.video_id = @video AND f.idx BETWEEN @first AND @last AND ((f.idx - @first) % @size) = @offset
     ORDER BY f.idx`,
  )
    .raw()
    .all({ run: runId ?? -1, video: videoId, first: range.first, last: range.last, size: range.size, offset: range.offset }) as SampleRow[];
  return rows.map(toSampled);
}

/** A video's frames with index in [fromIdx, toIdx]: current label and the run's prediction, in frame order. */
export function trackFrames(db: Db, videoId: number, runId: number | null, fromIdx: number, toIdx: number): SampledFrame[] {
  const rows = stmt(
    db,
    `SELECT ${SAMPLE_COLUMNS}
     FROM frames f JOIN labels l ON l.frame_id = f.id LEFT JOIN predictions p ON p.run_id = ? AND p.frame_id = f.id
     WHERE f.video_id = ? AND f.idx BETWEEN ? AND ? ORDER BY f.idx`,
  )
    .raw()
    .all(runId ?? -1, videoId, fromIdx, toIdx) as SampleRow[];
  return rows.map(toSampled);
}
