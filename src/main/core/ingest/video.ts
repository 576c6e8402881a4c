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
  const files = opts.videos.map((v) => path.resolve(v));
  const maxFrames = opts.maxFrames ?? null;
  const byStem = new Map<string, string>();
  for (const f of files) {
    if (!isVideoFile(f)) throw new Error(`${f}: not a supported video type (expected ${VIDEO_EXTENSIONS.join(', ')})`);
    const stem = videoStem(f);
    if (stem.endsWith(PARTIAL_SUFFIX))
      throw new Error(`${f}: a video name may not end in "${PARTIAL_SUFFIX}" (reserved for unfinished folders)`);
    const other = byStem.get(stem);
    if (other) throw new Error(`${f}: same name "${stem}" as ${other}; frame folders are named by video, rename one`);
    byStem.set(stem, f);
  }
  const root = path.join(path.resolve(opts.cacheDir), 'frames');
  await fs.mkdir(root, { recursive: true });
  const ff = opts.ffmpegPath ? { path: opts.ffmpegPath, version: '' } : await resolveFfmpeg();
  const syncFlag = supportsFpsMode(ff.version) ? 'fps_mode' : 'vsync';
  const concurrency = opts.concurrency ?? defaultConcurrency();

  // Pass 1: reuse finished folders, probe the rest (cheap: packets are counted, not decoded),
  // so a broken file is reported before hours of extraction and the ETA counts frames.
  const cachedMarkers = await Promise.all(files.map((f) => reusable(path.join(root, videoStem(f)), f, maxFrames)));
  const toProbe = files.filter((_, i) => !cachedMarkers[i]);
  const emit = (p: Omit<ExtractProgress, 'rate' | 'etaSeconds'>, rate: number) =>
    opts.onProgress?.({
      ...p,
      rate,
      etaSeconds: p.phase === 'probe' ? null : rate > 0 ? (p.framesTotal - p.framesDone) / rate : p.framesDone === p.framesTotal ? 0 : null,
    });
  const probes = await runPool(toProbe, concurrency, (f, _i, signal) => probeVideo(f, { signal, ffmpegPath: ff.path }), {
    signal: opts.signal,
    onProgress: (p) => emit({ videosDone: p.done, videosTotal: toProbe.length, framesDone: 0, framesTotal: 0, phase: 'probe' }, 0),
  });
  const probeOf = new Map<string, VideoProbe>(toProbe.map((f, i) => [f, probes[i]]));
  const expectedFrames = (f: string, i: number) =>
    cachedMarkers[i]?.frameCount ?? Math.min(probeOf.get(f)!.frameCount, maxFrames ?? Infinity);

  const framesTotal = files.reduce((s, f, i) => s + expectedFrames(f, i), 0);
  const perVideo = new Array<number>(files.length).fill(0);
  let framesFromCache = 0;
  let videosDone = 0;
  const started = performance.now();
  const report = (phase: ExtractProgress['phase']) => {
    const live = perVideo.reduce((a, b) => a + b, 0);
    const secs = (performance.now() - started) / 1000;
    emit({ videosDone, videosTotal: files.length, framesDone: framesFromCache + live, framesTotal, phase }, secs > 0 ? live / secs : 0);
  };

  const results = await runPool(
    files,
    concurrency,
    async (file, i, signal): Promise<ExtractedVideo> => {
      const stem = videoStem(file);
      const framesDir = path.join(root, stem);
      const cachedMarker = cachedMarkers[i];
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
            perVideo[i] = Number(frames[frames.length - 1][1]);
            buffered = buffered.slice(buffered.lastIndexOf('frame='));
            report('extract');
          }
        },
      }).catch(async (err: unknown) => {
        await cleanUp();
        throw err;
      });
      const frameCount = await countJpegs(partial);
      if (frameCount === 0) throw new Error(`${file}: ffmpeg wrote no frames`);
      const warnings = [...probe.warnings];
      const expected = expectedFrames(file, i);
      if (frameCount !== expected) warnings.push(`${file}: wrote ${frameCount} frames, the stream has ${expected} packets`);
      const marker: DoneMarker = { frameCount, fps: probe.fps, width: probe.width, height: probe.height, source: file, maxFrames };
      await fs.writeFile(path.join(partial, DONE_MARKER), JSON.stringify(marker));
      await fs.rm(framesDir, { recursive: true, force: true });
      await fs.rename(partial, framesDir);
      perVideo[i] = frameCount;
      videosDone++;
      report('extract');
      return { stem, file, fps: probe.fps, frameCount, framesDir, width: probe.width, height: probe.height, cached: false, warnings };
    },
    { signal: opts.signal },
  );
  report('done');
  return results;
}
