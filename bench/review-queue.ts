// Review queue at scale: a synthetic store with FLAGS flags (default 1,000,000) over ~2.2M frames
// in 548 videos; times the first queue page (several filters), a deep keyset page, the pair
// counts, segments of one video, and a 1,000-frame decision with its undo. Prints one JSON line.
// Usage: npx tsx bench/review-queue.ts [flags]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src/store/db';
import { upsertVideo } from '../src/store/dataset';
import { createRun } from '../src/store/runs';
import { flagSegments, pairCounts, queuePage, replaceOpenFlags, type NewFlag } from '../src/store/flags';
import { decide, undo } from '../src/main/core/review/decisions';
import { ABAW7_HEADER } from '../src/shared/labels';
import type { QueueFilter } from '../src/shared/api';

const FLAGS = Number(process.argv[2] ?? 1_000_000);
const VIDEOS = 548;
const FRAMES_PER_VIDEO = Math.ceil((FLAGS * 2.2) / VIDEOS);

let seed = 42;
const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;

const dir = mkdtempSync(join(tmpdir(), 'concord-bench-queue-'));
const db = openDb(dir, { create: true });
try {
  const t0 = performance.now();
  const labels = new Int8Array(FRAMES_PER_VIDEO);
  const hasFace = new Uint8Array(FRAMES_PER_VIDEO).fill(1);
  for (let v = 0; v < VIDEOS; v++) {
    for (let i = 0; i < FRAMES_PER_VIDEO; i++) labels[i] = Math.floor(rand() * 7);
    upsertVideo(
      db,
      {
        name: `video-${v}`,
        split: v % 5 === 0 ? 'Validation_Set' : 'Train_Set',
        source: 'abaw',
        labelSet: 'abaw7',
        header: ABAW7_HEADER,
        annotationFile: null,
        framesDir: `/nonexistent/video-${v}`,
      },
      { labels, hasFace },
    );
  }
  const buildFramesMs = performance.now() - t0;
  const runId = createRun(db, { kind: 'train', config: {} });
  // flags in runs, like real flags: ~45% of frames, in stretches; scores quantised to 1e-3 so many tie
  const frames = db
    .prepare('SELECT f.id, f.video_id, f.idx, l.current_label FROM frames f JOIN labels l ON l.frame_id = f.id ORDER BY f.id')
    .raw()
    .all() as [number, number, number, number][];
  function* gen(): Generator<NewFlag> {
    let made = 0;
    let inRun = false;
    let suggested = 0;
    for (const [frameId, videoId, idx, given] of frames) {
      if (made >= FLAGS) return;
      if (rand() < 0.1) {
        inRun = !inRun;
        suggested = Math.floor(rand() * 7);
      }
      if (!inRun && rand() > 0.2) continue;
      const s = suggested === given ? (given + 1) % 7 : suggested;
      const score = Math.round(rand() * 1000) / 1000;
      made++;
      yield {
        runId,
        frameId,
        videoId,
        idx,
        rule: 'all-agree',
        given,
        suggested: s,
        score,
        allAgree: true,
        details: { margin: score, agreement: 0.9 },
      };
    }
  }
  const t1 = performance.now();
  const ins = replaceOpenFlags(db, gen());
  const writeFlagsMs = performance.now() - t1;
  db.pragma('optimize');

  const time = (fn: () => unknown, reps = 5) => {
    fn(); // warm: statement preparation
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      fn();
      ts.push(performance.now() - t);
    }
    ts.sort((a, b) => a - b);
    return Math.round(ts[Math.floor(ts.length / 2)]! * 100) / 100;
  };
  const cold = (fn: () => unknown) => {
    const t = performance.now();
    fn();
    return Math.round((performance.now() - t) * 100) / 100;
  };
  const page = (filter: QueueFilter) => () => queuePage(db, { filter, limit: 100 });
  const firstPageColdMs = cold(page({}));
  const firstPageMs = time(page({}));
  // 100 pages deep by keyset
  let after = queuePage(db, { limit: 100 }).next!;
  for (let i = 0; i < 99; i++) after = queuePage(db, { after, limit: 100 }).next!;
  const deepPageMs = time(() => queuePage(db, { after, limit: 100 }));
  const filters: Record<string, QueueFilter> = {
    video: { video: 'video-300' },
    split: { split: 'Validation_Set' },
    pair: { given: 2, suggested: 5 },
    given: { given: 3 },
    suggested: { suggested: 1 },
    scoreRange: { minScore: 0.2, maxScore: 0.3 },
    statusAll: { status: 'all' },
    decided: { status: 'decided' },
  };
  const filterMs: Record<string, number> = {};
  for (const [k, f] of Object.entries(filters)) filterMs[k] = time(page(f));
  const pairCountsColdMs = cold(() => pairCounts(db));
  const pairCountsMs = time(() => pairCounts(db));
  const pairCountsAllMs = time(() => pairCounts(db, 'all'));
  const segmentsVideoMs = time(() => flagSegments(db, { filter: { video: 'video-300' } }));
  const segmentsAllMs = time(() => flagSegments(db, { limit: 100 }), 1);
  const top = queuePage(db, { limit: 1000 }).items.map((i) => i.frameId);
  const decide1000Ms = cold(() => decide(db, { frameIds: top, action: 'accept' }));
  const undo1000Ms = cold(() => undo(db));
  console.log(
    JSON.stringify({
      bench: 'review-queue',
      flags: ins.inserted,
      frames: frames.length,
      videos: VIDEOS,
      firstPageColdMs,
      firstPageMs,
      deepPageMs,
      filterMs,
      pairCountsColdMs,
      pairCountsMs,
      pairCountsAllMs,
      segmentsVideoMs,
      segmentsAllMs,
      decide1000Ms,
      undo1000Ms,
      buildFramesMs: Math.round(buildFramesMs),
      writeFlagsMs: Math.round(writeFlagsMs),
    }),
  );
} finally {
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
