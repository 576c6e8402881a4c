// review.frame on long videos: a bounded window around the frame and a downsampled overview of the
// whole video, instead of every frame's labels (17.5 MB for a 2.5M-frame video).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame } from '../../../../src/main/core/app-review';
import { OVERVIEW_BUCKETS } from '../../../../src/main/core/review/frame-detail';
import { requests, type FrameTimeline } from '../../../../src/shared/api';
import { replaceOpenFlags, setFlagStatus, type NewFlag } from '../../../../src/store/flags';
import { addRun, makeProject, nets, peaked, type TestProject } from '../../store/fixtures';

const BLOCK = 1000;
/** Labels run in blocks of 1000 frames; the networks say the next class on the predicted frames. */
const labelOf = (idx: number) => Math.floor((idx - 1) / BLOCK) % 7;
const PREDICTED = 20_000;
const isDecided = (idx: number) => idx % 37 === 0 && idx % 3 === 0;
/** frames with an open flag: every 37th, less the decided ones */
const isOpen = (idx: number) => idx % 37 === 0 && !isDecided(idx);

interface LongVideo {
  p: TestProject;
  videoId: number;
  runId: number;
  frames: number;
}

function longVideo(frames: number): LongVideo {
  const p = makeProject([{ name: `long-${frames}`, labels: Array.from({ length: frames }, (_, i) => labelOf(i + 1)) }]);
  const f = (idx: number) => p.frame(`long-${frames}`, idx);
  const preds: [number, Float32Array][] = [];
  for (let idx = 1; idx <= PREDICTED; idx++) {
    const c = (labelOf(idx) + 1) % 7;
    preds.push([f(idx), nets(peaked(c), peaked(c))]);
  }
  const runId = addRun(p.db, 2, preds);
  const videoId = (p.db.prepare('SELECT video_id FROM frames WHERE id = ?').get(f(1)) as { video_id: number }).video_id;
  const flags: NewFlag[] = [];
  for (let idx = 37; idx <= frames; idx += 37) {
    flags.push({
      runId,
      frameId: f(idx),
      videoId,
      idx,
      rule: 'all-agree',
      given: 0,
      suggested: 1,
      score: 0.5,
      allAgree: true,
      details: null,
    });
  }
  replaceOpenFlags(p.db, flags);
  const decided = p.db.prepare('SELECT id, idx FROM flags WHERE video_id = ?').all(videoId) as { id: number; idx: number }[];
  p.db.transaction(() => {
    for (const r of decided) if (isDecided(r.idx)) setFlagStatus(p.db, r.id, 'decided');
  })();
  return { p, videoId, runId, frames };
}

const timelineOf = (v: LongVideo, idx: number, window?: number): FrameTimeline =>
  frame(v.p.db, { frameId: v.p.frame(`long-${v.frames}`, idx), ...(window !== undefined ? { window } : {}) }).timeline!;

let small: LongVideo;
let big: LongVideo;
beforeAll(() => {
  small = longVideo(20_000);
  big = longVideo(200_000);
}, 120_000);
afterAll(() => {
  small?.p.cleanup();
  big?.p.cleanup();
});

describe('review.frame timeline', () => {
  it('answers in a bounded size that does not grow with the video', () => {
    const bytes = (v: LongVideo) => JSON.stringify(frame(v.p.db, { frameId: v.p.frame(`long-${v.frames}`, v.frames / 2) })).length;
    const a = bytes(small);
    const b = bytes(big);
    expect(b).toBeLessThan(200_000);
    expect(b / a).toBeLessThan(1.5);
  });

  it('has a per-frame window centred on the frame and clipped at the video ends', () => {
    const t = timelineOf(big, 10_000);
    expect([t.window.from, t.window.to]).toEqual([9750, 10_250]);
    expect(t.window.labels).toHaveLength(501);
    t.window.labels.forEach((l, i) => expect(l).toBe(labelOf(t.window.from + i)));
    t.window.consensus.forEach((c, i) => expect(c).toBe((labelOf(t.window.from + i) + 1) % 7));
    expect(t.window.flagged).toEqual(Array.from({ length: 501 }, (_, i) => 9750 + i).filter(isOpen));

    const start = timelineOf(big, 3);
    expect([start.window.from, start.window.to]).toEqual([1, 253]);
    const end = timelineOf(big, 199_990, 40);
    expect([end.window.from, end.window.to]).toEqual([199_950, 200_000]);
    expect(end.window.consensus.every((c) => c === null)).toBe(true);
    expect(timelineOf(big, 50_000, 0).window).toMatchObject({ from: 50_000, to: 50_000, labels: [labelOf(50_000)] });
  });

  it('bounds the window a caller may ask for, and leaves the timeline out when not wanted', () => {
    expect(requests['review.frame'].parse({ frameId: 1 })).toMatchObject({ window: 250, timeline: true });
    expect(() => requests['review.frame'].parse({ frameId: 1, window: 1_000_000 })).toThrow();
    expect(frame(big.p.db, { frameId: big.p.frame('long-200000', 5), timeline: false }).timeline).toBeNull();
  });

  it('covers the whole video with contiguous buckets whose counts are exact', () => {
    const t = timelineOf(big, 123_456);
    const o = t.overview;
    expect(o.length).toBeLessThanOrEqual(OVERVIEW_BUCKETS);
    expect(o.length).toBeGreaterThan(100);
    expect([t.first, t.last, t.frames]).toEqual([1, 200_000, 200_000]);
    expect(o[0]!.from).toBe(1);
    expect(o.at(-1)!.to).toBe(200_000);
    for (let k = 1; k < o.length; k++) expect(o[k]!.from).toBe(o[k - 1]!.to + 1);
    expect(o.reduce((n, b) => n + b.frames, 0)).toBe(200_000);
    o.forEach((b) => expect(b.frames).toBe(b.to - b.from + 1));

    const direct = big.p.db.prepare('SELECT COUNT(DISTINCT idx) AS n FROM flags WHERE video_id = ? AND status = ? AND idx BETWEEN ? AND ?');
    const count = (status: string, from: number, to: number) => (direct.get(big.videoId, status, from, to) as { n: number }).n;
    for (const b of o) {
      expect(b.flagged).toBe(count('open', b.from, b.to));
      expect(b.decided).toBe(count('decided', b.from, b.to));
    }
    expect(o.reduce((n, b) => n + b.flagged, 0)).toBe(count('open', 1, 200_000));
    expect(o.reduce((n, b) => n + b.decided, 0)).toBeGreaterThan(0);
  });

  it('counts the frames of a video with a gap in its indices', () => {
    const gap = makeProject([{ name: 'gap', labels: Array.from({ length: 1000 }, (_, i) => (i < 500 ? 1 : 2)) }]);
    try {
      const keep = gap.frame('gap', 1);
      // a store whose frame_count is right but whose indices have a hole (no import writes one today)
      gap.db.prepare('DELETE FROM frames WHERE idx BETWEEN 101 AND 150').run();
      gap.db.prepare('UPDATE videos SET frame_count = 950').run();
      const t = frame(gap.db, { frameId: keep, window: 120 }).timeline!;
      expect([t.first, t.last, t.frames]).toEqual([1, 1000, 950]);
      const hole = t.overview.filter((b) => b.from > 100 && b.to <= 150);
      expect(hole.map((b) => [b.frames, b.label])).toEqual(Array.from({ length: 25 }, () => [0, null]));
      expect(t.overview.find((b) => b.from === 501)).toMatchObject({ frames: 2, label: 2 });
      expect(t.window.labels.slice(99, 102)).toEqual([1, null, null]);
    } finally {
      gap.cleanup();
    }
  });

  it('draws the label and consensus tracks of the whole video from its buckets', () => {
    const o = timelineOf(big, 1).overview;
    const inOneBlock = o.filter((b) => labelOf(b.from) === labelOf(b.to));
    expect(inOneBlock.length).toBeGreaterThan(o.length / 2);
    for (const b of inOneBlock) {
      expect(b.label).toBe(labelOf(b.from));
      expect(b.consensus).toBe(b.to <= PREDICTED ? (labelOf(b.from) + 1) % 7 : null);
    }
    // a video of at most OVERVIEW_BUCKETS frames has one bucket per frame
    const tiny = makeProject([{ name: 'tiny', labels: [0, 3, 3, 5] }]);
    try {
      const t = frame(tiny.db, { frameId: tiny.frame('tiny', 2) }).timeline!;
      expect(t.overview.map((b) => [b.from, b.to, b.label, b.consensus])).toEqual([
        [1, 1, 0, null],
        [2, 2, 3, null],
        [3, 3, 3, null],
        [4, 4, 5, null],
      ]);
    } finally {
      tiny.cleanup();
    }
  });
});
