import { afterEach, describe, expect, it } from 'vitest';
import { flagSegments, pairCounts, replaceOpenFlags, type NewFlag } from '../../../src/store/flags';
import { queuePage } from '../../../src/store/queue';
import { reviewCounts } from '../../../src/store/decisions';
import { decide } from '../../../src/main/core/review/decisions';
import { createRun } from '../../../src/store/runs';
import { makeProject, type TestProject } from './fixtures';

let p: TestProject;
afterEach(() => p?.cleanup());

function flag(p: TestProject, runId: number, video: string, idx: number, score: number, given: number, suggested: number): NewFlag {
  const frameId = p.frame(video, idx);
  const videoId = (p.db.prepare('SELECT video_id FROM frames WHERE id = ?').get(frameId) as { video_id: number }).video_id;
  return { runId, frameId, videoId, idx, rule: 'all-agree', given, suggested, score, allAgree: true, details: { score } };
}

describe('review queue', () => {
  it('keyset pages neither overlap nor skip when many flags share a score', () => {
    p = makeProject([
      { name: 'a', labels: new Array(40).fill(0) },
      { name: 'b', split: 'Validation_Set', labels: new Array(40).fill(1) },
    ]);
    const runId = createRun(p.db, { kind: 'train', config: {} });
    const flags: NewFlag[] = [];
    for (let i = 1; i <= 40; i++) {
      // three distinct scores only, so pages cut through runs of equal scores
      flags.push(flag(p, runId, 'a', i, [0.9, 0.5, 0.5, 0.2][i % 4]!, 0, 4));
      flags.push(flag(p, runId, 'b', i, [0.5, 0.9, 0.2][i % 3]!, 1, i % 2 ? 3 : 5));
    }
    replaceOpenFlags(p.db, flags);
    const seen: number[] = [];
    let after = undefined as { score: number; id: number } | undefined;
    let pages = 0;
    for (;;) {
      const page = queuePage(p.db, { after, limit: 7 });
      seen.push(...page.items.map((i) => i.flagId));
      pages++;
      if (!page.next) break;
      after = page.next;
    }
    expect(pages).toBe(12); // 80 flags / 7 per page, the last page short
    expect(new Set(seen).size).toBe(80);
    const all = queuePage(p.db, { limit: 1000 }).items;
    expect(seen).toEqual(all.map((i) => i.flagId));
    for (let i = 1; i < all.length; i++) {
      const a = all[i - 1]!;
      const b = all[i]!;
      expect(a.score > b.score || (a.score === b.score && a.flagId < b.flagId)).toBe(true);
    }
  });

  it('filters by video, split, pair, score range, rule and status', () => {
    p = makeProject([
      { name: 'a', labels: new Array(10).fill(0) },
      { name: 'b', split: 'Validation_Set', labels: new Array(10).fill(1) },
    ]);
    const runId = createRun(p.db, { kind: 'train', config: {} });
    const flags: NewFlag[] = [];
    for (let i = 1; i <= 10; i++) {
      flags.push(flag(p, runId, 'a', i, i / 10, 0, i <= 5 ? 4 : 6));
      flags.push(flag(p, runId, 'b', i, i / 20, 1, 3));
    }
    replaceOpenFlags(p.db, flags);
    const q = (filter: object, limit = 100) => queuePage(p.db, { filter, limit }).items;
    expect(q({ video: 'a' }).every((i) => i.video === 'a')).toBe(true);
    expect(q({ video: 'a' })).toHaveLength(10);
    expect(q({ video: 'nope' })).toHaveLength(0);
    expect(q({ split: 'Validation_Set' }).map((i) => i.video)).toEqual(new Array(10).fill('b'));
    expect(q({ given: 0, suggested: 6 }).map((i) => i.idx)).toEqual([10, 9, 8, 7, 6]);
    expect(q({ suggested: 3 })).toHaveLength(10);
    expect(q({ given: 1 })).toHaveLength(10);
    expect(q({ minScore: 0.45, maxScore: 0.7 }).map((i) => [i.video, i.idx])).toEqual([
      ['a', 7],
      ['a', 6],
      ['a', 5],
      ['b', 10],
      ['b', 9],
    ]);
    expect(q({ rule: 'confident-learning' })).toHaveLength(0);
    expect(q({ rule: 'all-agree' })).toHaveLength(20);
    decide(p.db, { frameIds: [p.frame('a', 10), p.frame('a', 9)], action: 'accept' });
    expect(q({ status: 'decided' }).map((i) => i.idx)).toEqual([10, 9]);
    expect(q({})).toHaveLength(18);
    expect(q({ status: 'all' })).toHaveLength(20);
    expect(q({ status: 'all', video: 'a', given: 0, suggested: 6 })).toHaveLength(5);
    expect(q({ status: 'decided', video: 'a' })[0]).toMatchObject({ current: 6, original: 0, status: 'decided' });
    // pair counts follow status changes (trigger-maintained)
    expect(pairCounts(p.db)).toEqual([
      { given: 1, suggested: 3, n: 10 },
      { given: 0, suggested: 4, n: 5 },
      { given: 0, suggested: 6, n: 3 },
    ]);
    expect(pairCounts(p.db, 'decided')).toEqual([{ given: 0, suggested: 6, n: 2 }]);
    expect(pairCounts(p.db, 'all')).toContainEqual({ given: 0, suggested: 6, n: 5 });
    expect(reviewCounts(p.db)).toMatchObject({ open: 18, decided: 2, changedFrames: 2, reviewedFrames: 2, canUndo: true, canRedo: false });
  });

  it('the bulk path (indexes rebuilt, counts recomputed) leaves the same schema, counts and decided flags', () => {
    p = makeProject([{ name: 'a', labels: new Array(20).fill(0) }]);
    const runId = createRun(p.db, { kind: 'train', config: {} });
    const schema = () => p.db.prepare("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'flags' ORDER BY name").all();
    const before = schema();
    replaceOpenFlags(
      p.db,
      [1, 2, 3, 4, 5].map((i) => flag(p, runId, 'a', i, i / 10, 0, 4)),
    );
    decide(p.db, { frameIds: [p.frame('a', 5)], action: 'accept' });
    const r = replaceOpenFlags(
      p.db,
      [6, 7, 8].map((i) => flag(p, runId, 'a', i, i / 10, 0, i === 8 ? 2 : 4)),
      { bulk: true },
    );
    expect(r).toEqual({ removed: 4, inserted: 3 });
    expect(schema()).toEqual(before);
    expect(pairCounts(p.db)).toEqual([
      { given: 0, suggested: 4, n: 2 },
      { given: 0, suggested: 2, n: 1 },
    ]);
    expect(pairCounts(p.db, 'decided')).toEqual([{ given: 0, suggested: 4, n: 1 }]);
    // the triggers are back: a decision moves a count
    decide(p.db, { frameIds: [p.frame('a', 8)], action: 'keep' });
    expect(pairCounts(p.db)).toEqual([{ given: 0, suggested: 4, n: 2 }]);
    expect(queuePage(p.db).items.map((i) => i.idx)).toEqual([7, 6]);
  });

  it('groups consecutive flagged frames with the same suggestion into segments', () => {
    p = makeProject([
      { name: 'a', labels: new Array(12).fill(0) },
      { name: 'b', labels: new Array(5).fill(0) },
    ]);
    const runId = createRun(p.db, { kind: 'train', config: {} });
    const flags: NewFlag[] = [];
    // a: 2-5 → 4 (one segment), 6 → 5 (breaks), 7-8 → 5, 10 → 4 (gap at 9)
    for (const i of [2, 3, 4, 5]) flags.push(flag(p, runId, 'a', i, 0.5 + i / 100, 0, 4));
    for (const i of [6, 7, 8]) flags.push(flag(p, runId, 'a', i, 0.3, 0, 5));
    flags.push(flag(p, runId, 'a', 10, 0.9, 0, 4));
    // b: 1 → 4, continuing idx numbering from a must not join a's segment
    flags.push(flag(p, runId, 'b', 1, 0.2, 0, 4));
    replaceOpenFlags(p.db, flags);
    const segs = flagSegments(p.db);
    expect(segs.map((s) => [s.video, s.startIdx, s.endIdx, s.suggested, s.frameIds.length])).toEqual([
      ['a', 2, 5, 4, 4],
      ['a', 6, 8, 5, 3],
      ['a', 10, 10, 4, 1],
      ['b', 1, 1, 4, 1],
    ]);
    expect(segs[0]!.maxScore).toBeCloseTo(0.55, 9);
    expect(segs[0]!.meanScore).toBeCloseTo(0.535, 9);
    expect(segs[0]!.given).toEqual([0]);
    expect(flagSegments(p.db, { minLength: 2 })).toHaveLength(2);
    expect(flagSegments(p.db, { filter: { video: 'b' } }).map((s) => s.video)).toEqual(['b']);
    // a decision on a segment takes its frame ids
    decide(p.db, { frameIds: segs[0]!.frameIds, action: 'accept' });
    expect(flagSegments(p.db).map((s) => s.startIdx)).toEqual([6, 10, 1]);
    expect(flagSegments(p.db, { filter: { status: 'decided' } })[0]!.frameIds).toEqual(segs[0]!.frameIds);
  });
});
