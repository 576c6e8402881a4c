// Locating ffmpeg, building its argument lists (pure, unit tested) and a thin spawn wrapper.
// ffprobe is not assumed: the @ffmpeg-installer binary ships without it, so probing parses
// the stderr of `ffmpeg -i`.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { abortError } from './pool';

export type FfmpegSource = 'FFMPEG_PATH' | 'ffmpeg-static' | '@ffmpeg-installer/ffmpeg' | 'PATH';

export interface FfmpegInfo {
  path: string;
  source: FfmpegSource;
  /** Text after "ffmpeg version" on the first line of `ffmpeg -version`, e.g. "N-47683-g0e8eb07980-static" or "6.1.1". */
  version: string;
}

export interface ResolveFfmpegOptions {
  env?: NodeJS.ProcessEnv;
  /** Loads a module by name; injectable so tests can simulate missing packages. */
  requireModule?: (name: string) => unknown;
  /** Skip the cache (tests). */
  noCache?: boolean;
}

const nodeRequire = createRequire(import.meta.url);
let cached: Promise<FfmpegInfo> | undefined;

function isExecutableFile(file: string): string | null {
  try {
    if (!statSync(file).isFile()) return 'not a regular file';
    if (process.platform !== 'win32') accessSync(file, constants.X_OK);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'not executable';
  }
}

function findOnPath(env: NodeJS.ProcessEnv): string | null {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const names = process.platform === 'win32' ? ['ffmpeg.exe', 'ffmpeg'] : ['ffmpeg'];
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (isExecutableFile(candidate) === null) return candidate;
    }
  }
  return null;
}

/** First line of `ffmpeg -version`, reduced to the version token. Exported for tests. */
export function parseFfmpegVersion(output: string): string | null {
  const m = /ffmpeg version (\S+)/.exec(output.split(/\r?\n/, 1)[0] ?? '');
  return m ? m[1] : null;
}

/**
 * Whether the build understands `-fps_mode` (added in ffmpeg 5.1). Git snapshots ("N-12345-g...")
 * are treated as old: `-vsync 0` is understood by every version, merely deprecated in new ones.
 */
export function supportsFpsMode(version: string): boolean {
  const m = /^n?(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 5 || (major === 5 && minor >= 1);
}

async function readVersion(file: string): Promise<string> {
  const { code, stdout, stderr } = await runProcess(file, ['-version'], {});
  const version = parseFfmpegVersion(stdout) ?? parseFfmpegVersion(stderr);
  if (code !== 0 || !version) throw new Error(`\`${file} -version\` exited ${code} without a version line`);
  return version;
}

/**
 * Finds a working ffmpeg: env FFMPEG_PATH, then the ffmpeg-static package, then
 * @ffmpeg-installer/ffmpeg, then `ffmpeg` on PATH. A candidate that is missing, not executable
 * or fails `-version` is skipped; the error lists every attempt when none works.
 */
export function resolveFfmpeg(opts: ResolveFfmpegOptions = {}): Promise<FfmpegInfo> {
  const useCache = !opts.noCache && !opts.env && !opts.requireModule;
  if (useCache && cached) return cached;
  const p = resolveUncached(opts);
  if (useCache) {
    cached = p;
    p.catch(() => (cached = undefined));
  }
  return p;
}

async function resolveUncached(opts: ResolveFfmpegOptions): Promise<FfmpegInfo> {
  const env = opts.env ?? process.env;
  const load = opts.requireModule ?? ((name: string) => nodeRequire(name));
  const tried: string[] = [];

  const candidates: Array<{ source: FfmpegSource; locate: () => string | null }> = [
    { source: 'FFMPEG_PATH', locate: () => env.FFMPEG_PATH || null },
    {
      source: 'ffmpeg-static',
      locate: () => {
        const mod = load('ffmpeg-static') as string | null | { default?: string | null };
        const p = typeof mod === 'string' || mod === null ? mod : (mod?.default ?? null);
        return p || null;
      },
    },
    {
      source: '@ffmpeg-installer/ffmpeg',
      locate: () => (load('@ffmpeg-installer/ffmpeg') as { path?: string } | null)?.path ?? null,
    },
    { source: 'PATH', locate: () => findOnPath(env) },
  ];

  for (const { source, locate } of candidates) {
    let file: string | null;
    try {
      file = locate();
    } catch (err) {
      tried.push(`${source}: not available (${firstLine(err)})`);
      continue;
    }
    if (!file) {
      tried.push(`${source}: ${source === 'FFMPEG_PATH' ? 'not set' : source === 'PATH' ? 'no ffmpeg in PATH' : 'package gave no path'}`);
      continue;
    }
    const bad = isExecutableFile(file);
    if (bad) {
      tried.push(`${source}: ${file} ${bad}`);
      continue;
    }
    try {
      return { path: file, source, version: await readVersion(file) };
    } catch (err) {
      tried.push(`${source}: ${file} failed (${firstLine(err)})`);
    }
  }
  throw new Error(`No usable ffmpeg found. Tried:\n  - ${tried.join('\n  - ')}\nInstall ffmpeg or set FFMPEG_PATH.`);
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n', 1)[0];
}

// ---------------------------------------------------------------------------------------------
// Argument builders (pure)

/** Arguments for `ffmpeg` that print the stream header and count packets of the first video stream without decoding. */
export function probeArgs(file: string, opts: { decode?: boolean } = {}): string[] {
  return ['-hide_banner', '-nostdin', '-i', file, '-map', '0:v:0', ...(opts.decode ? [] : ['-c', 'copy']), '-f', 'null', '-'];
}

export interface ExtractArgsOptions {
  input: string;
  outDir: string;
  /** Number of the first image file (default 1, as ABAW's 00001.jpg). */
  startNumber?: number;
  /** mjpeg qscale, 2 (best) .. 31 (worst). Default 2. */
  quality?: number;
  /** Resample to this rate; default keeps every decoded frame at the native rate. */
  fps?: number;
  /** Stop after this many frames (tests, previews). */
  maxFrames?: number;
  /** `vsync` for ffmpeg < 5.1, `fps_mode` for newer builds. Default `vsync`. */
  syncFlag?: 'vsync' | 'fps_mode';
  /** Add `-progress pipe:1` so the caller can follow the frame count on stdout. */
  progress?: boolean;
}

/** What every ffmpeg run here starts with: no banner, no stdin, errors only, overwrite the output. */
export const FFMPEG_QUIET = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'] as const;

/** The image2 muxer treats `%` as a pattern character, so literal ones in the folder are doubled. */
export function escapeImagePattern(dir: string): string {
  return dir.replace(/%/g, '%%');
}

export function extractArgs(o: ExtractArgsOptions): string[] {
  const quality = o.quality ?? 2;
  if (!Number.isInteger(quality) || quality < 2 || quality > 31)
    throw new Error(`extractArgs: quality must be an integer 2..31, got ${quality}`);
  const start = o.startNumber ?? 1;
  if (!Number.isInteger(start) || start < 0) throw new Error(`extractArgs: startNumber must be a non-negative integer, got ${start}`);
  if (o.fps !== undefined && !(o.fps > 0)) throw new Error(`extractArgs: fps must be > 0, got ${o.fps}`);
  if (o.maxFrames !== undefined && !(Number.isInteger(o.maxFrames) && o.maxFrames > 0))
    throw new Error(`extractArgs: maxFrames must be a positive integer, got ${o.maxFrames}`);
  const sync = o.fps !== undefined ? [] : (o.syncFlag ?? 'vsync') === 'vsync' ? ['-vsync', '0'] : ['-fps_mode', 'passthrough'];
  return [
    ...FFMPEG_QUIET,
    '-i',
    o.input,
    ...(o.progress ? ['-progress', 'pipe:1', '-nostats'] : []),
    '-map',
    '0:v:0',
    ...sync,
    ...(o.fps !== undefined ? ['-vf', `fps=${o.fps}`] : []),
    ...(o.maxFrames !== undefined ? ['-frames:v', String(o.maxFrames)] : []),
    '-q:v',
    String(quality),
    '-start_number',
    String(start),
    path.join(escapeImagePattern(o.outDir), '%05d.jpg'),
  ];
}

// ---------------------------------------------------------------------------------------------
// Probing

export interface VideoProbe {
  file: string;
  /** Frames per second: the stream's average rate ("fps"), else its base rate ("tbr"). NTSC rates are snapped to n*1000/1001. */
  fps: number;
  /** Exact count of video packets (or decoded frames when copying gives none). */
  frameCount: number;
  width: number;
  height: number;
  /** Seconds from the container header; null when unknown. */
  durationSeconds: number | null;
  codec: string;
  /** Non-fatal oddities, e.g. far fewer frames than duration x fps. */
  warnings: string[];
}

export interface ParsedHeader {
  durationSeconds: number | null;
  codec: string;
  width: number;
  height: number;
  fps: number | null;
  rotation: number;
}

function parseRate(text: string): number {
  const m = /^([\d.]+)(k?)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] ? 1000 : 1);
}

/** ffmpeg prints rates with 4 significant digits; recover the usual 1001-denominator rates. */
export function snapFrameRate(fps: number): number {
  for (const base of [24, 30, 48, 60, 120, 240]) {
    const ntsc = (base * 1000) / 1001;
    if (Math.abs(fps - ntsc) < 0.006) return ntsc;
  }
  return fps;
}

/** Parses the "Input #0" block of ffmpeg's stderr. Exported for tests. */
export function parseFfmpegHeader(stderr: string): ParsedHeader | null {
  const stream = /Stream #\d+:\d+[^:\n]*: Video: ([^\n]*)/.exec(stderr);
  if (!stream) return null;
  const line = stream[1];
  const codec = line.split(/[\s,]/, 1)[0];
  const size = /,\s*(\d{1,5})x(\d{1,5})/.exec(line);
  const fpsText = /,\s*([\d.]+k?) fps/.exec(line)?.[1];
  const tbrText = /,\s*([\d.]+k?) tbr/.exec(line)?.[1];
  let fps: number | null = null;
  for (const t of [fpsText, tbrText]) {
    const v = t === undefined ? NaN : parseRate(t);
    if (Number.isFinite(v) && v > 0) {
      fps = snapFrameRate(v);
      break;
    }
  }
  const dur = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderr);
  const durationSeconds = dur ? Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3]) : null;
  // Phone videos carry a rotation; ffmpeg auto-rotates on decode, so the frames have swapped sides.
  const rot = /rotate\s*:\s*(-?\d+)/.exec(stderr)?.[1] ?? /rotation of (-?[\d.]+) degrees/.exec(stderr)?.[1];
  const rotation = rot === undefined ? 0 : ((Math.round(Number(rot)) % 360) + 360) % 360;
  let width = size ? Number(size[1]) : 0;
  let height = size ? Number(size[2]) : 0;
  if (rotation === 90 || rotation === 270) [width, height] = [height, width];
  return { durationSeconds, codec, width, height, fps, rotation };
}

/** Last `frame=` value of ffmpeg's progress output. */
export function parseLastFrameCount(stderr: string): number | null {
  let last: number | null = null;
  for (const m of stderr.matchAll(/frame=\s*(\d+)/g)) last = Number(m[1]);
  return last;
}

const CORRUPTION = [
  /moov atom not found/i,
  /partial file/i,
  /corrupt input packet/i,
  /Read error/,
  /Invalid data found when processing input/i,
  /truncated/i,
  /End of file/i,
];

/** Corruption messages that appear in stderr (excluding the harmless "misdetection possible" notice). */
export function findCorruption(stderr: string, file?: string): string | null {
  for (const line of stderr.split(/[\r\n]+/)) {
    // A frame that fails to decode is common in real footage and not a damaged file.
    if (/Error while decoding/i.test(line)) continue;
    if (CORRUPTION.some((re) => re.test(line))) {
      const msg = line.replace(/^\[[^\]]*\]\s*/, '').trim();
      return file && msg.startsWith(`${file}: `) ? msg.slice(file.length + 2) : msg;
    }
  }
  return null;
}

export async function probeVideo(file: string, opts: { signal?: AbortSignal; ffmpegPath?: string } = {}): Promise<VideoProbe> {
  const abs = path.resolve(file);
  let size: number;
  try {
    const st = statSync(abs);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (err) {
    throw new Error(`${abs}: cannot read video (${firstLine(err)})`);
  }
  if (size === 0) throw new Error(`${abs}: not a video (the file is empty, 0 bytes)`);
  const ff = opts.ffmpegPath ?? (await resolveFfmpeg()).path;

  let { code, stderr } = await runProcess(ff, probeArgs(abs), { signal: opts.signal });
  const header = parseFfmpegHeader(stderr);
  if (!header) {
    const why = findCorruption(stderr, abs) ?? ffmpegMessage(stderr, 2, abs);
    throw new Error(`${abs}: not a readable video (${why || `ffmpeg exited ${code}`})`);
  }
  const broken = findCorruption(stderr, abs);
  if (broken) throw new Error(`${abs}: truncated or corrupt video (${broken})`);
  let frameCount = parseLastFrameCount(stderr) ?? 0;
  if (code !== 0 || frameCount === 0) {
    ({ code, stderr } = await runProcess(ff, probeArgs(abs, { decode: true }), { signal: opts.signal }));
    const broken2 = findCorruption(stderr, abs);
    if (broken2) throw new Error(`${abs}: truncated or corrupt video (${broken2})`);
    frameCount = parseLastFrameCount(stderr) ?? 0;
    if (code !== 0) throw new Error(`${abs}: ffmpeg could not decode the video stream (exit ${code}: ${ffmpegMessage(stderr, 2, abs)})`);
  }
  if (frameCount === 0) throw new Error(`${abs}: the video stream has no frames`);
  if (!header.width || !header.height) throw new Error(`${abs}: could not read the frame size from ffmpeg's output`);

  const warnings: string[] = [];
  const fps = header.fps ?? (header.durationSeconds ? frameCount / header.durationSeconds : NaN);
  if (!Number.isFinite(fps) || fps <= 0) throw new Error(`${abs}: could not determine the frame rate`);
  if (header.durationSeconds) {
    const expected = header.durationSeconds * fps;
    // Audio that outlasts the video explains a small gap; a large one suggests a cut-off stream.
    if (frameCount < 0.9 * expected - 2)
      warnings.push(
        `${abs}: ${frameCount} frames but duration x fps suggests ~${Math.round(expected)}; the video stream may be incomplete or variable-rate`,
      );
  }
  return {
    file: abs,
    fps,
    frameCount,
    width: header.width,
    height: header.height,
    durationSeconds: header.durationSeconds,
    codec: header.codec,
    warnings,
  };
}

// The banner, stream listing and progress/summary lines that ffmpeg prints around its messages.
const NOT_A_MESSAGE = /^(\s|Input #|Output #|Stream mapping:|Press \[q\]|frame=|size=|video:\d|\[[^\]]*\]\s*$)/;

/**
 * ffmpeg's own error message: the last `n` lines of stderr that are not banner, stream listing or
 * progress, without the "[demuxer @ 0x...]" tag or the file name it repeats. Exported for tests.
 */
export function ffmpegMessage(stderr: string, n: number, file?: string): string {
  return stderr
    .split(/[\r\n]+/)
    .filter((l) => l.trim() && !NOT_A_MESSAGE.test(l))
    .map((l) => {
      const msg = l.replace(/^\[[^\]]*\]\s*/, '').trim();
      return file && msg.startsWith(`${file}: `) ? msg.slice(file.length + 2) : msg;
    })
    .filter((l, i, all) => all.indexOf(l) === i)
    .slice(-n)
    .join(' | ');
}

// ---------------------------------------------------------------------------------------------
// Spawning

export interface RunResult {
  code: number;
  stdout: string;
  /** The last 64 KiB of stderr. */
  stderr: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  cwd?: string;
  /** Called with each chunk of stdout (e.g. `-progress pipe:1` key=value lines). */
  onStdout?: (chunk: string) => void;
}

const STDERR_KEEP = 64 * 1024;

/** Runs a process; on abort the child is killed (SIGTERM, then SIGKILL after 2 s) and the promise rejects with an AbortError. */
export function runProcess(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortError(opts.signal));
    const child = spawn(file, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (opts.onStdout) opts.onStdout(d);
      else if (stdout.length < STDERR_KEEP) stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    });
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
      killTimer.unref();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new Error(`cannot start ${file}: ${err.message}`));
    });
    child.on('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (opts.signal?.aborted) return reject(abortError(opts.signal));
      resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr: stderr.slice(-STDERR_KEEP) });
    });
  });
}

/** Runs ffmpeg (resolved once) and throws with the tail of stderr when it exits non-zero. */
export async function runFfmpeg(args: string[], opts: RunOptions & { ffmpegPath?: string; what?: string } = {}): Promise<RunResult> {
  const ff = opts.ffmpegPath ?? (await resolveFfmpeg()).path;
  const res = await runProcess(ff, args, opts);
  if (res.code !== 0)
    throw new Error(`${opts.what ?? 'ffmpeg'}: ffmpeg exited ${res.code}: ${ffmpegMessage(res.stderr, 3, opts.what) || 'no message'}`);
  return res;
}
