// Frame extraction from raw videos into cacheDir/frames/<stem>/00001.jpg..., one ffmpeg process
// per video in a pool. A folder only gets its final name (with a .done marker inside) once
// ffmpeg has finished, so an interrupted run never leaves a half folder that looks complete.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { extractArgs, probeVideo, resolveFfmpeg, runFfmpeg, supportsFpsMode, type VideoProbe } from './ffmpeg';
import { defaultConcurrency, runPool } from './pool';

export const VIDEO_EXTENSIONS = ['.mp4', '.avi', '.mkv', '.webm'] as const;
export const DONE_MARKER = '.done';
const PARTIAL_SUFFIX = '.partial';

export interface ExtractedVideo {
  stem: string;
  /** Absolute path of the source video. */
  file: string;
  fps: number;
  /** Number of JPEGs written (00001.jpg .. frameCount). */
  frameCount: number;
  framesDir: string;
  width: number;
  height: number;
  /** True when the frames came from an earlier run (resume). */
  cached: boolean;
  warnings: string[];
}

export interface ExtractProgress {
  videosDone: number;
  videosTotal: number;
  framesDone: number;
  /** Sum of the frame counts of all videos (known after the probe pass). */
  framesTotal: number;
  /** Frames per second extracted in this run (cached videos excluded). */
  rate: number;
  etaSeconds: number | null;
  phase: 'probe' | 'extract' | 'done';
}

export interface ExtractFramesOptions {
  videos: string[];
  cacheDir: string;
  /** ffmpeg processes at once; default os.availableParallelism(). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (p: ExtractProgress) => void;
  /** Only the first N frames of each video (tests, previews). Part of the resume marker. */
  maxFrames?: number;
  /** mjpeg qscale (2 = best, default). */
  quality?: number;
  ffmpegPath?: string;
  /**
   * When given, a video that cannot be probed or extracted is reported here and left out of the
   * result, and the others go on; without it the first such video rejects the whole call.
   */
  onVideoError?: (file: string, reason: string) => void;
}

/** A video's error message without the file name it starts with (the report names the file). */
function reasonOf(err: unknown, file: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.startsWith(`${file}: `) ? msg.slice(file.length + 2) : msg;
}

interface DoneMarker {
  frameCount: number;
  fps: number;
  width: number;
  height: number;
  source: string;
  maxFrames: number | null;
}

export function videoStem(file: string): string {
  return path.basename(file, path.extname(file));
}

/** `abc_left.txt` / `abc_right` / `dir/abc.txt` -> `abc`: the two annotated faces of a video share one file. */
export function videoStemForAnnotation(name: string): string {
  const base = path.basename(name).replace(/\.txt$/i, '');
  return base.replace(/_(left|right)$/i, '');
}

export function isVideoFile(name: string): boolean {
  return (VIDEO_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());
}

/** Every .mp4/.avi/.mkv/.webm under `dir` (recursive, hidden folders skipped), absolute and sorted. */
export async function findVideos(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch (err) {
      throw new Error(`${d}: cannot list folder (${(err as Error).message})`);
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.')) await walk(p);
      } else if ((e.isFile() || e.isSymbolicLink()) && isVideoFile(e.name)) out.push(p);
    }
  };
  await walk(root);
  return out.sort();
}

export async function countJpegs(dir: string): Promise<number> {
  const names = await fs.readdir(dir);
  return names.filter((n) => /^\d+\.jpg$/.test(n)).length;
}

async function readMarker(dir: string): Promise<DoneMarker | null> {
  try {
    const m = JSON.parse(await fs.readFile(path.join(dir, DONE_MARKER), 'utf8')) as DoneMarker;
    return Number.isInteger(m.frameCount) && m.frameCount > 0 ? m : null;
  } catch {
    return null;
  }
}

/** A finished folder is reused when its marker matches the request and the JPEGs are all there. */
async function reusable(dir: string, file: string, maxFrames: number | null): Promise<DoneMarker | null> {
  if (!existsSync(dir)) return null;
  const m = await readMarker(dir);
  if (!m || m.source !== file || (m.maxFrames ?? null) !== maxFrames) return null;
  return (await countJpegs(dir)) === m.frameCount ? m : null;
}

export async function extractFrames(opts: ExtractFramesOptions): Promise<ExtractedVideo[]> {
  const maxFrames = opts.maxFrames ?? null;
  const onVideoError = opts.onVideoError;
  /** Runs one video's step; with onVideoError a failure (not a cancel) drops that video only. */
  const perVideo = async <R>(file: string, signal: AbortSignal | undefined, step: () => Promise<R>): Promise<R | null> => {
    try {
      return await step();
    } catch (err) {
      if (!onVideoError || signal?.aborted || opts.signal?.aborted) throw err;
      onVideoError(file, reasonOf(err, file));
      return null;
    }
  };
  const byStem = new Map<string, string>();
  const files: string[] = [];
  for (const f of opts.videos.map((v) => path.resolve(v))) {
    const stem = videoStem(f);
    const other = byStem.get(stem);
    const bad = !isVideoFile(f)
      ? `not a supported video type (expected ${VIDEO_EXTENSIONS.join(', ')})`
      : stem.endsWith(PARTIAL_SUFFIX)
        ? `a video name may not end in "${PARTIAL_SUFFIX}" (reserved for unfinished folders)`
        : other
          ? `same name "${stem}" as ${other}; frame folders are named by video, rename one`
          : null;
    if (!bad) {
      byStem.set(stem, f);
      files.push(f);
    } else if (onVideoError) onVideoError(f, bad);
    else throw new Error(`${f}: ${bad}`);
  }
  const root = path.join(path.resolve(opts.cacheDir), 'frames');
  await fs.mkdir(root, { recursive: true });
  const ff = opts.ffmpegPath ? { path: opts.ffmpegPath, version: '' } : await resolveFfmpeg();
  const syncFlag = supportsFpsMode(ff.version) ? 'fps_mode' : 'vsync';
  const concurrency = opts.concurrency ?? defaultConcurrency();

  // Pass 1: reuse finished folders, probe the rest (cheap: packets are counted, not decoded),
  // so a broken file is reported before hours of extraction and the ETA counts frames.
  const markers = await Promise.all(files.map((f) => reusable(path.join(root, videoStem(f)), f, maxFrames)));
  const unprobed = files.filter((_, i) => !markers[i]);
  const emit = (p: Omit<ExtractProgress, 'rate' | 'etaSeconds'>, rate: number) =>
    opts.onProgress?.({
      ...p,
      rate,
      etaSeconds: p.phase === 'probe' ? null : rate > 0 ? (p.framesTotal - p.framesDone) / rate : p.framesDone === p.framesTotal ? 0 : null,
    });
  const probes = await runPool(
    unprobed,
    concurrency,
    (f, _i, signal) => perVideo(f, signal, () => probeVideo(f, { signal, ffmpegPath: ff.path })),
    {
      signal: opts.signal,
      onProgress: (p) => emit({ videosDone: p.done, videosTotal: unprobed.length, framesDone: 0, framesTotal: 0, phase: 'probe' }, 0),
    },
  );
  const probeOf = new Map<string, VideoProbe>();
  unprobed.forEach((f, i) => probes[i] && probeOf.set(f, probes[i]));
  // Videos that failed the probe (reported to onVideoError) go no further.
  const todo = files.flatMap((file, i) => (markers[i] || probeOf.has(file) ? [{ file, cachedMarker: markers[i] }] : []));
  const expectedFrames = (i: number) =>
    todo[i]!.cachedMarker?.frameCount ?? Math.min(probeOf.get(todo[i]!.file)!.frameCount, maxFrames ?? Infinity);

  const framesTotal = todo.reduce((s, _, i) => s + expectedFrames(i), 0);
  const framesOf = new Array<number>(todo.length).fill(0);
  let framesFromCache = 0;
  let videosDone = 0;
  const started = performance.now();
  const report = (phase: ExtractProgress['phase']) => {
    const live = framesOf.reduce((a, b) => a + b, 0);
    const secs = (performance.now() - started) / 1000;
    emit({ videosDone, videosTotal: todo.length, framesDone: framesFromCache + live, framesTotal, phase }, secs > 0 ? live / secs : 0);
  };

  const extracted = await runPool(
    todo,
    concurrency,
    ({ file, cachedMarker }, i, signal) => perVideo(file, signal, () => extractOne(file, cachedMarker, i, signal)),
    { signal: opts.signal },
  );
  report('done');
  return extracted.filter((v): v is ExtractedVideo => v !== null);

  async function extractOne(file: string, cachedMarker: DoneMarker | null, i: number, signal: AbortSignal): Promise<ExtractedVideo> {
    const stem = videoStem(file);
    const framesDir = path.join(root, stem);
    if (cachedMarker) {
      framesFromCache += cachedMarker.frameCount;
      videosDone++;
      report('extract');
      const { frameCount, fps, width, height } = cachedMarker;
      return { stem, file, fps, frameCount, framesDir, width, height, cached: true, warnings: [] };
    }
    const probe = probeOf.get(file)!;
    const partial = framesDir + PARTIAL_SUFFIX;
    await fs.rm(partial, { recursive: true, force: true });
    await fs.mkdir(partial, { recursive: true });
    const args = extractArgs({
      input: file,
      outDir: partial,
      quality: opts.quality,
      maxFrames: opts.maxFrames,
      syncFlag,
      progress: true,
    });
    let buffered = '';
    const cleanUp = () => fs.rm(partial, { recursive: true, force: true }).catch(() => undefined);
    await runFfmpeg(args, {
      ffmpegPath: ff.path,
      signal,
      what: file,
      onStdout: (chunk) => {
        buffered += chunk;
        const frames = [...buffered.matchAll(/frame=(\d+)/g)];
        if (frames.length) {
          framesOf[i] = Number(frames[frames.length - 1][1]);
          buffered = buffered.slice(buffered.lastIndexOf('frame='));
          report('extract');
        }
      },
    }).catch(async (err: unknown) => {
      await cleanUp();
      throw err;
    });
    const frameCount = await countJpegs(partial);
    if (frameCount === 0) {
      await cleanUp();
      throw new Error(`${file}: ffmpeg wrote no frames`);
    }
    const warnings = [...probe.warnings];
    const expected = expectedFrames(i);
    if (frameCount !== expected) warnings.push(`${file}: wrote ${frameCount} frames, the stream has ${expected} packets`);
    const marker: DoneMarker = { frameCount, fps: probe.fps, width: probe.width, height: probe.height, source: file, maxFrames };
    await fs.writeFile(path.join(partial, DONE_MARKER), JSON.stringify(marker));
    await fs.rm(framesDir, { recursive: true, force: true });
    await fs.rename(partial, framesDir);
    framesOf[i] = frameCount;
    videosDone++;
    report('extract');
    return { stem, file, fps: probe.fps, frameCount, framesDir, width: probe.width, height: probe.height, cached: false, warnings };
  }
}
