// review.frame on one long video (default 2,500,000 frames, every frame predicted by 3 networks,
// a flag on every 7th): bytes of the JSON answer, time of the first and the median of 20 more
// calls at spread-out frames, and the heap/RSS growth. Prints one JSON line.
// Usage: npx tsx bench/frame-detail.ts [frames]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src/store/db';
import { upsertVideo } from '../src/store/dataset';
import { createRun } from '../src/store/runs';
import { putPredictions } from '../src/store/predictions';
import { replaceOpenFlags, type NewFlag } from '../src/store/flags';
import { frame } from '../src/main/core/app-review';
import { ABAW7_HEADER } from '../src/shared/labels';

const FRAMES = Number(process.argv[2] ?? 2_500_000);
const NETS = 3;
const CLASSES = 7;

const dir = mkdtempSync(join(tmpdir(), 'concord-bench-frame-'));
const db = openDb(dir, { create: true });
try {
  const t0 = performance.now();
  const labels = new Int8Array(FRAMES);
  for (let i = 0; i < FRAMES; i++) labels[i] = Math.floor(i / 5000) % CLASSES;
  upsertVideo(
    db,
    {
      name: 'long',
      split: 'Train_Set',
      source: 'abaw',
      labelSet: 'abaw7',
      header: ABAW7_HEADER,
      annotationFile: null,
      framesDir: '/nonexistent',
    },
    { labels, hasFace: new Uint8Array(FRAMES).fill(1) },
  );
  const runId = createRun(db, { kind: 'train', config: {} });
  const ids = db.prepare('SELECT id FROM frames ORDER BY idx').pluck().all() as number[];
  for (let at = 0; at < FRAMES; at += 100_000) {
    putPredictions(
      db,
      runId,
      NETS,
      CLASSES,
      ids.slice(at, at + 100_000).map((frameId, i) => {
        const probs = new Float32Array(NETS * CLASSES).fill(0.05);
        for (let j = 0; j < NETS; j++) probs[j * CLASSES + ((labels[at + i]! + (i % 3 === 0 ? 1 : 0)) % CLASSES)] = 0.7;
        return { frameId, probs };
      }),
    );
  }
  const flags: NewFlag[] = [];
  for (let i = 7; i <= FRAMES; i += 7)
    flags.push({
      runId,
      frameId: ids[i - 1]!,
      videoId: 1,
      idx: i,
      rule: 'all-agree',
      given: 0,
      suggested: 1,
      score: 0.5,
      allAgree: true,
      details: null,
    });
  replaceOpenFlags(db, flags);
  const buildMs = performance.now() - t0;

  global.gc?.();
  const before = process.memoryUsage();
  const call = (idx: number) => {
    const t = performance.now();
    const bytes = JSON.stringify(frame(db, { frameId: ids[idx - 1]! })).length;
    return { bytes, ms: performance.now() - t };
  };
  const first = call(Math.floor(FRAMES / 2));
  const more = Array.from({ length: 20 }, (_, k) => call(1 + Math.floor(((k + 0.5) / 20) * (FRAMES - 1))).ms).sort((a, b) => a - b);
  const after = process.memoryUsage();
  const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
  console.log(
    JSON.stringify({
      bench: 'review.frame',
      frames: FRAMES,
      buildS: Math.round(buildMs / 100) / 10,
      bytes: first.bytes,
      firstMs: Math.round(first.ms),
      medianMs: Math.round(more[10]!),
      maxMs: Math.round(more.at(-1)!),
      heapGrowthMB: mb(after.heapUsed - before.heapUsed),
      rssMB: { before: mb(before.rss), after: mb(after.rss) },
    }),
  );
} finally {
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
