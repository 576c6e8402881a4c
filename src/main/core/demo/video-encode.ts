// Encodes raw RGB frames to .mp4 by piping them into ffmpeg's stdin. Argument building is pure;
// the spawning part stays thin.

import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { DemoDataError } from './errors';

export type DemoCodec = 'libx264' | 'mpeg4';

/** The ffmpeg bundled with @ffmpeg-installer/ffmpeg. */
export function defaultFfmpegPath(): string {
  const require = createRequire(import.meta.url);
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

export function encodeArgs(opts: { width: number; height: number; fps: number; codec: DemoCodec; output: string }): string[] {
  const { width, height, fps, codec, output } = opts;
  const codecArgs =
    codec === 'libx264'
      ? ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p']
      : ['-c:v', 'mpeg4', '-q:v', '3', '-pix_fmt', 'yuv420p'];
  // yuv420p needs even sizes; the pad is a no-op for even ones.
  const pad = width % 2 || height % 2 ? ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'] : [];
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-y',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${width}x${height}`,
    '-r',
    String(fps),
    '-i',
    '-',
    ...pad,
    ...codecArgs,
    '-threads',
    '1',
    '-an',
    '-movflags',
    '+faststart',
    output,
  ];
}

function runCapture(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const codecCache = new Map<string, Promise<DemoCodec>>();

/** libx264 when this ffmpeg has it, else mpeg4 (every build has that). */
export function pickCodec(ffmpegPath: string): Promise<DemoCodec> {
  let p = codecCache.get(ffmpegPath);
  if (!p) {
    p = runCapture(ffmpegPath, ['-hide_banner', '-encoders']).then(
      (r) => (/^\s*V\S*\s+libx264\s/m.test(r.stdout) ? 'libx264' : 'mpeg4'),
      (err: Error) => {
        codecCache.delete(ffmpegPath);
        throw new DemoDataError(`cannot run ffmpeg at "${ffmpegPath}": ${err.message}`);
      },
    );
    codecCache.set(ffmpegPath, p);
  }
  return p;
}

export interface FrameSink {
  /** Resolves when ffmpeg has taken the frame (back-pressure). */
  write(frame: Uint8Array): Promise<void>;
  /** Closes stdin and resolves when ffmpeg has written the file. */
  finish(): Promise<void>;
  /** Stops ffmpeg (cancellation); resolves once the process has exited. */
  kill(): Promise<void>;
}

/** Starts one ffmpeg that turns raw rgb24 frames written to it into `output`. */
export function startEncoder(
  ffmpegPath: string,
  opts: { width: number; height: number; fps: number; codec: DemoCodec; output: string },
): FrameSink {
  const child: ChildProcess = spawn(ffmpegPath, encodeArgs(opts), {
    stdio: ['pipe', 'ignore', 'pipe'],
    windowsHide: true,
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 8000) stderr += d.toString();
  });
  let failure: Error | null = null;
  const exited = new Promise<void>((resolve) => {
    child.on('close', () => resolve());
    child.on('error', () => resolve());
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => {
      failure = new Error(`cannot run ffmpeg at "${ffmpegPath}": ${err.message}`);
      reject(failure);
    });
    child.on('close', (code, sig) => {
      if (code === 0) resolve();
      else {
        failure ??= new Error(
          `ffmpeg failed writing "${opts.output}" (${sig ? `signal ${sig}` : `exit ${code}`}): ${stderr.trim().slice(-800)}`,
        );
        reject(failure);
      }
    });
  });
  done.catch(() => undefined); // observed through write()/finish()
  const stdin = child.stdin!;
  stdin.on('error', () => undefined); // EPIPE when ffmpeg dies; reported by `done`

  return {
    write(frame) {
      if (failure) return Promise.reject(failure);
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`ffmpeg exited early writing "${opts.output}"`));
      }
      if (stdin.write(frame)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          child.off('close', onClose);
          resolve();
        };
        const onClose = (): void => {
          stdin.off('drain', onDrain);
          reject(failure ?? new Error(`ffmpeg exited early writing "${opts.output}"`));
        };
        stdin.once('drain', onDrain);
        child.once('close', onClose);
      });
    },
    finish() {
      stdin.end();
      return done;
    },
    kill() {
      stdin.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Counts the video frames of a file by remuxing to the null muxer and reading `frame=`. */
export async function countVideoFrames(ffmpegPath: string, file: string): Promise<number> {
  const r = await runCapture(ffmpegPath, ['-hide_banner', '-nostdin', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-']);
  const matches = [...r.stderr.matchAll(/frame=\s*(\d+)/g)];
  if (r.code !== 0 || matches.length === 0) {
    throw new Error(`cannot count frames of "${file}": ${r.stderr.trim().slice(-400)}`);
  }
  return Number(matches[matches.length - 1][1]);
}
