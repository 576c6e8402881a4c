// A flagged frame at its source video's resolution: one ffmpeg seek to the frame's timestamp, the
// JPEG cached under the project's cache folder (cache/source-frames/<video id>/<idx>.jpg). The
// argument building and the paths are pure and unit tested; the spawn stays thin. Trust boundary:
// the video path comes from the database (an import's folder), so it must still lie inside the
// project's allowed roots, and the cached file inside the cache folder, before either is used.
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Db } from '../../store/db';
import { CACHE_DIR } from '../../store/db';
import { frameSourceOf } from '../../store/video-source';
import type { ConcordCore } from '../../shared/api';
import { insideDir, inspectImage, type FrameImage } from './frame-file';
import { FFMPEG_QUIET, parseFfmpegHeader, resolveFfmpeg, runProcess } from './ingest/ffmpeg';

/**
 * The seek time of frame `idx` (1-based) at `fps`: a quarter frame before its timestamp, so that
 * rounding in ffmpeg's accurate seek never lands on the next frame (ffmpeg keeps the first frame
 * at or after the time).
 */
export function frameSeconds(idx: number, fps: number): number {
  if (!Number.isInteger(idx) || idx < 1) throw new Error(`frameSeconds: idx must be a positive integer, got ${idx}`);
  if (!(fps > 0) || !Number.isFinite(fps)) throw new Error(`frameSeconds: fps must be > 0, got ${fps}`);
  return Math.max(0, (idx - 1 - 0.25) / fps);
}

export interface SourceFrameArgs {
  input: string;
  seconds: number;
  output: string;
  /** mjpeg qscale, 2 (best) .. 31 */
  quality?: number;
}

/** ffmpeg's arguments for one frame: input seeking (-ss before -i) is fast and, decoding, exact. */
export function sourceFrameArgs(o: SourceFrameArgs): string[] {
  const q = o.quality ?? 2;
  if (!Number.isInteger(q) || q < 2 || q > 31) throw new Error(`sourceFrameArgs: quality must be an integer 2..31, got ${q}`);
  if (!(o.seconds >= 0) || !Number.isFinite(o.seconds)) throw new Error(`sourceFrameArgs: seconds must be >= 0, got ${o.seconds}`);
  return [
    ...FFMPEG_QUIET,
    '-ss',
    o.seconds.toFixed(6),
    '-i',
    o.input,
    '-map',
    '0:v:0',
    '-frames:v',
    '1',
    '-q:v',
    String(q),
    // the image2 muxer reads % as a pattern: -update writes exactly this one file
    '-update',
    '1',
    o.output,
  ];
}

/** The cached JPEG of a frame: inside `<project>/cache/source-frames`, or null when the ids are not plain numbers. */
export function sourceFrameCachePath(projectDir: string, videoId: number, idx: number): string | null {
  if (!Number.isSafeInteger(videoId) || !Number.isSafeInteger(idx) || videoId < 0 || idx < 0) return null;
  const root = resolve(projectDir, CACHE_DIR, 'source-frames');
  const file = resolve(root, String(videoId), `${idx}.jpg`);
  return insideDir(root, file) ? file : null;
}

/** Whether the (resolved, symlink-free) video file lies inside one of the roots; no roots: unrestricted. */
export function videoAllowed(file: string, roots: readonly string[] | null): string | null {
  let real: string;
  try {
    real = realpathSync(file);
    if (!statSync(real).isFile()) return null;
  } catch {
    return null;
  }
  if (!roots) return real;
  const allowed = roots.flatMap((r) => {
    try {
      return [realpathSync(r)];
    } catch {
      return [];
    }
  });
  return allowed.some((r) => insideDir(r, real)) ? real : null;
}

export type SourceFrameResult = { ok: true; image: FrameImage } | { ok: false; status: 404 | 500; reason: string };

export interface SourceFrameDeps {
  db: Db;
  projectDir: string;
  /** the project and its allowed data folders; null: unrestricted (the desktop) */
  roots: readonly string[] | null;
  ffmpegPath?: string;
}

const fpsCache = new Map<string, number>();
const running = new Map<string, Promise<SourceFrameResult>>();

async function videoFps(ff: string, file: string): Promise<number | null> {
  const known = fpsCache.get(file);
  if (known) return known;
  const { stderr } = await runProcess(ff, ['-hide_banner', '-nostdin', '-i', file]);
  const fps = parseFfmpegHeader(stderr)?.fps ?? null;
  if (fps && fps > 0) fpsCache.set(file, fps);
  return fps;
}

/** The frame at source resolution: from the cache, else extracted once (concurrent asks share one ffmpeg). */
export async function sourceFrame(deps: SourceFrameDeps, frameId: number): Promise<SourceFrameResult> {
  const src = frameSourceOf(deps.db, frameId);
  if (!src) return { ok: false, status: 404, reason: `frame ${frameId} does not exist` };
  if (!src.videoFile) return { ok: false, status: 404, reason: 'source video not available: the import recorded no video for this frame' };
  const video = videoAllowed(src.videoFile, deps.roots);
  if (!video)
    return { ok: false, status: 404, reason: 'source video not available: the video file is missing or outside the allowed folders' };
  const out = sourceFrameCachePath(deps.projectDir, src.videoId, src.idx);
  if (!out) return { ok: false, status: 404, reason: 'no cache path for this frame' };
  const cached = existsSync(out) ? inspectImage(out) : null;
  if (cached && !('reason' in cached)) return { ok: true, image: { file: out, ...cached } };
  const busy = running.get(out);
  if (busy) return busy;
  const work = (async (): Promise<SourceFrameResult> => {
    const ff = deps.ffmpegPath ?? (await resolveFfmpeg()).path;
    const fps = src.fps && src.fps > 0 ? src.fps : await videoFps(ff, video);
    if (!fps) return { ok: false, status: 500, reason: 'could not read the video frame rate' };
    mkdirSync(join(out, '..'), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp.jpg`;
    const { code, stderr } = await runProcess(ff, sourceFrameArgs({ input: video, seconds: frameSeconds(src.idx, fps), output: tmp }));
    const img = existsSync(tmp) ? inspectImage(tmp) : null;
    if (code !== 0 || !img || 'reason' in img) {
      rmSync(tmp, { force: true });
      const why = stderr.trim().split(/\r?\n/).pop() ?? '';
      return {
        ok: false,
        status: 404,
        reason: `source frame not available: ffmpeg found no frame ${src.idx} in the video${why ? ` (${why})` : ''}`,
      };
    }
    renameSync(tmp, out);
    return { ok: true, image: { file: out, ...img } };
  })().finally(() => running.delete(out));
  running.set(out, work);
  return work;
}

/**
 * The deps of a core the hosts hold: the application core (app.ts) exposes its read connection,
 * project folder and allowed roots; any other ConcordCore (a test double) has no source frames.
 */
export function sourceFrameDepsOf(core: ConcordCore): SourceFrameDeps | null {
  const c = core as unknown as { readDb?: Db; projectDir?: string; options?: { allowedRoots?: string[] } };
  if (!c.readDb || typeof c.projectDir !== 'string') return null;
  const roots = c.options?.allowedRoots ? [c.projectDir, ...c.options.allowedRoots] : null;
  return { db: c.readDb, projectDir: c.projectDir, roots };
}
