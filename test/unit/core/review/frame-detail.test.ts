import { afterEach, describe, expect, it } from 'vitest';
import { frameDetail, frameTimeline } from '../../../../src/main/core/review/frame-detail';
import { replaceOpenFlags, type NewFlag } from '../../../../src/store/flags';
import { addRun, makeProject, nets, peaked, type TestProject } from '../../store/fixtures';

let p: TestProject;
afterEach(() => p?.cleanup());

function flag(p: TestProject, runId: number, video: string, idx: number, score: number, given: number, suggested: number): NewFlag {
  const frameId = p.frame(video, idx);
  const videoId = (p.db.prepare('SELECT video_id FROM frames WHERE id = ?').get(frameId) as { video_id: number }).video_id;
  return { runId, frameId, videoId, idx, rule: 'all-agree', given, suggested, score, allAgree: true, details: { score } };
}

describe('frame detail', () => {
  it('frame detail has the labels, every network, and neighbours with consensus and flag status', () => {
    p = makeProject([{ name: 'v', labels: [0, 0, 0, 0, 0, 0], hasFace: [1, 1, 1, 1, 0, 1] }]);
    const f = (i: number) => p.frame('v', i);
    const runId = addRun(p.db, 2, [
      [f(1), nets(peaked(0), peaked(0))],
      [f(2), nets(peaked(4), peaked(4))],
      [f(3), nets(peaked(4, 0.8), peaked(4, 0.7))],
      [f(4), nets(peaked(0), peaked(0))],
      [f(6), nets(peaked(0), peaked(0))],
    ]);
    replaceOpenFlags(p.db, [flag(p, runId, 'v', 2, 0.8, 0, 4), flag(p, runId, 'v', 3, 0.7, 0, 4)]);
    const d = frameDetail(p.db, f(3), { context: 2 });
    expect(d).toMatchObject({ video: 'v', idx: 3, original: 0, current: 0, runId, consensus: 4, hasFace: true });
    expect(d.probs).toHaveLength(2);
    expect(d.probs[0]![4]).toBeCloseTo(0.8, 6);
    expect(d.mean![4]).toBeCloseTo(0.75, 6);
    expect(d.flags).toHaveLength(1);
    expect(d.imagePath.endsWith('/v/00003.jpg')).toBe(true);
    expect(d.neighbours.map((n) => [n.idx, n.consensus, n.flag?.status ?? null])).toEqual([
      [1, 0, null],
      [2, 4, 'open'],
      [4, 0, null],
      [5, null, null],
    ]);
    expect(d.neighbours[3]!.hasFace).toBe(false);
    expect(() => frameDetail(p.db, 12345)).toThrow(/frame 12345 does not exist/);
  });

  it('the timeline has the label track, the consensus where predicted, and the open flags', () => {
    p = makeProject([{ name: 'v', labels: [0, 0, 1, 1] }]);
    const f = (i: number) => p.frame('v', i);
    const runId = addRun(p.db, 2, [
      [f(1), nets(peaked(0), peaked(0))],
      [f(2), nets(peaked(4), peaked(4, 0.6))],
      [f(4), nets(peaked(2, 0.4), peaked(1, 0.95))],
    ]);
    replaceOpenFlags(p.db, [flag(p, runId, 'v', 2, 0.8, 0, 4)]);
    const videoId = frameDetail(p.db, f(1)).videoId;
    const t = frameTimeline(p.db, videoId, runId, 1);
    expect(t.window).toEqual({ from: 1, to: 4, labels: [0, 0, 1, 1], consensus: [0, 4, null, 1], flagged: [2] });
    expect(frameTimeline(p.db, videoId, null, 1).window.consensus).toEqual([null, null, null, null]);
  });
});
