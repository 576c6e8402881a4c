// Review queue at scale: a synthetic store with FLAGS flags (default 1,000,000) over ~2.2M frames
// in 548 videos, 2,000 of them decided (accept, keep, exclude, relabel); times the first queue page
// with its filtered total under many filter combinations (queueMs), the last page (fromEnd), offset
// pages deep in the queue (the *500k / *900k / *50k names are at FLAGS/2, 0.9*FLAGS, FLAGS/20), keyset pages with their offset, locate, the pair counts, segments of one
// video, and a 1,000-frame decision with its undo. Prints one JSON line.
// Usage: npx tsx bench/review-queue.ts [flags]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src/store/db';
import { upsertVideo } from '../src/store/dataset';
import { createRun } from '../src/store/runs';
import { flagSegments, pairCounts, replaceOpenFlags, type NewFlag } from '../src/store/flags';
import { locateInQueue, queuePage } from '../src/store/queue';
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
  // some decided flags, so the decided / actions filters have something to find
  const ranked = queuePage(db, { offset: 1000, limit: 1000 }).items.map((i) => i.frameId);
  const deepRanked = queuePage(db, { offset: Math.floor(FLAGS * 0.4), limit: 1000 }).items.map((i) => i.frameId);
  const decideSetupMs = cold(() => {
    decide(db, { frameIds: ranked.slice(0, 500), action: 'accept' });
    decide(db, { frameIds: ranked.slice(500), action: 'exclude' });
    decide(db, { frameIds: deepRanked.slice(0, 500), action: 'keep' });
    decide(db, { frameIds: deepRanked.slice(500), action: 'relabel', label: 3 });
  });
  const page = (filter: QueueFilter) => () => queuePage(db, { filter, limit: 100 });
  const firstPageColdMs = cold(page({}));
  const firstPageMs = time(page({}));
  // 100 pages deep by keyset
  let after = queuePage(db, { limit: 100 }).next!;
  for (let i = 0; i < 99; i++) after = queuePage(db, { after, limit: 100 }).next!;
  const deepPageMs = time(() => queuePage(db, { after, limit: 100 }));
  // first page + filtered total (one queuePage) per filter combination: median ms and the total
  const filters: Record<string, QueueFilter> = {
    none: {},
    split: { split: 'Validation_Set' },
    video: { video: 'video-300' },
    given: { given: 3 },
    suggested: { suggested: 1 },
    givenSuggested: { given: 2, suggested: 5 },
    rule: { rule: 'all-agree' },
    ruleAbsent: { rule: 'confident-learning' },
    scoreRange: { minScore: 0.2, maxScore: 0.3 },
    statusAll: { status: 'all' },
    decided: { status: 'decided' },
    decidedActions: { status: 'decided', actions: ['accept', 'keep'] },
    allActions: { status: 'all', actions: ['relabel'] },
    splitGivenScore: { split: 'Train_Set', given: 3, minScore: 0.25, maxScore: 0.755 },
    allAgree: { allAgree: true },
    sparse: { split: 'Validation_Set', given: 2, suggested: 5, minScore: 0.97, status: 'all' },
    videoGivenScore: { video: 'video-300', given: 1, minScore: 0.5 },
  };
  const queueMs: Record<string, { ms: number; total: number }> = {};
  for (const [k, f] of Object.entries(filters)) queueMs[k] = { ms: time(page(f)), total: queuePage(db, { filter: f, limit: 1 }).total };
  const at = (opts: Parameters<typeof queuePage>[1]) => () => queuePage(db, { limit: 100, ...opts });
  const fromEndMs = time(at({ fromEnd: true }));
  const fromEndSplitGivenMs = time(at({ fromEnd: true, filter: filters.splitGivenScore }));
  const offset500kMs = time(at({ offset: Math.floor(FLAGS / 2) }));
  const offset500kStatusAllMs = time(at({ offset: Math.floor(FLAGS / 2), filter: { status: 'all' } }));
  const offset50kGivenMs = time(at({ offset: Math.floor(FLAGS / 20), filter: { given: 3 } }));
  const offset900kMs = time(at({ offset: Math.floor(FLAGS * 0.9) }));
  const mid = queuePage(db, { offset: Math.floor(FLAGS / 2), limit: 100 });
  const cursor = { score: mid.items[99]!.score, id: mid.items[99]!.flagId };
  const keysetMidMs = time(at({ after: cursor }));
  const keysetMidOffset = queuePage(db, { after: cursor, limit: 100 }).offset;
  const midFrame = mid.items[0]!.frameId;
  const locateMs = time(() => locateInQueue(db, midFrame, {}));
  const locatePosition = locateInQueue(db, midFrame, {}).position;
  const locateFilteredMs = time(() => locateInQueue(db, midFrame, filters.splitGivenScore!));
  const locateAbsentMs = time(() => locateInQueue(db, midFrame, { status: 'decided' }));
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
      queueMs,
      fromEndMs,
      fromEndSplitGivenMs,
      offset500kMs,
      offset500kStatusAllMs,
      offset50kGivenMs,
      offset900kMs,
      keysetMidMs,
      keysetMidOffset,
      locateMs,
      locatePosition,
      locateFilteredMs,
      locateAbsentMs,
      decideSetupMs,
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
