// Times `generateDemoData` with the defaults (12 videos x ~150 frames, 112 px, videos on) and
// prints one JSON line. Usage: npx tsx bench/demo-data.ts [--videos N] [--frames M] [--no-video]
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateDemoData } from '../src/main/core/demo/generate';

const { values } = parseArgs({
  options: { videos: { type: 'string' }, frames: { type: 'string' }, 'no-video': { type: 'boolean' } },
});

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return n;
}

const root = mkdtempSync(join(tmpdir(), 'concord-bench-demo-'));
const outDir = join(root, 'demo');
try {
  const t0 = performance.now();
  const summary = await generateDemoData({
    outDir,
    videos: values.videos ? Number(values.videos) : undefined,
    frames: values.frames ? Number(values.frames) : undefined,
    encodeVideos: !values['no-video'],
  });
  const seconds = (performance.now() - t0) / 1000;
  const crops = summary.tracks.reduce((n, t) => n + t.frames - t.missingCrops.length, 0);
  console.log(
    JSON.stringify({
      bench: 'demo-data',
      seconds: Number(seconds.toFixed(2)),
      videos: summary.videos.length,
      tracks: summary.tracks.length,
      crops,
      cropsPerSecond: Math.round(crops / seconds),
      codec: summary.codec,
      noiseRate: Number(summary.noiseRate.toFixed(4)),
      cropBytes: folderBytes(join(outDir, 'cropped_aligned')),
      videoBytes: summary.codec ? folderBytes(join(outDir, 'videos')) : 0,
      cores: availableParallelism(),
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
