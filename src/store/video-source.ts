// Where a frame came from: its video's source file and rate (the Review view's "source frame").
import type { Db } from './db';
import { stmt } from './db';

export interface FrameSource {
  frameId: number;
  videoId: number;
  video: string;
  /** 1-based, as in the annotation file: frame idx is the video's (idx-1)-th decoded frame */
  idx: number;
  videoFile: string | null;
  fps: number | null;
}

export function frameSourceOf(db: Db, frameId: number): FrameSource | null {
  const r = stmt(
    db,
    `SELECT f.id AS frameId, v.id AS videoId, v.name AS video, f.idx AS idx, v.video_file AS videoFile, v.fps AS fps
     FROM frames f JOIN videos v ON v.id = f.video_id WHERE f.id = ?`,
  ).get(frameId) as FrameSource | undefined;
  return r ?? null;
}
