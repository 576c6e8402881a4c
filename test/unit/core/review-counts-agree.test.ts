// One naming of the review's counts (issue 13 item 4): review.counts, the decided list
// (review.decisions), project.info (`concord info`) and the export preview count the same frames
// under the same names, after decisions on flagged and unflagged frames, an undo and a new scoring.
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../src/main/core/app';
import { replaceOpenFlags, type NewFlag } from '../../../src/store/flags';
import { createRun } from '../../../src/store/runs';
import { makeProject, type TestProject } from '../store/fixtures';

let p: TestProject | null = null;
let core: Core | null = null;
afterEach(async () => {
  await core?.close();
  core = null;
  p?.cleanup();
  p = null;
});

/** One video of 12 Neutral frames; frames 1-8 flagged as Happiness (score 0.9 down to 0.2). */
async function setup(): Promise<Core> {
  p = makeProject([{ name: 'v1', labels: Array(12).fill(0) }]);
  const runId = createRun(p.db, { kind: 'train', config: {} });
  const videoId = p.db.prepare("SELECT id FROM videos WHERE name = 'v1'").pluck().get() as number;
  const flags: NewFlag[] = Array.from({ length: 8 }, (_, k) => ({
    runId,
    frameId: p!.frame('v1', k + 1),
    videoId,
    idx: k + 1,
    rule: 'all-agree',
    given: 0,
    suggested: 4,
    score: 0.9 - k * 0.1,
    allAgree: true,
    details: null,
  }));
  replaceOpenFlags(p.db, flags);
  core = await createCore(p.dir);
  return core;
}

async function allDecided(c: Core) {
  const out = [];
  let before: number | undefined;
  for (;;) {
    const page = await c.request('review.decisions', { limit: 2, ...(before !== undefined ? { before } : {}) });
    out.push(...page.items);
    if (page.next === null) return { items: out, total: page.total };
    before = page.next;
  }
}

describe('the review counts agree across views', () => {
  it('decided, changed, open and flagged mean the same in counts, the decided list, info and the export', async () => {
    const c = await setup();
    const f = (i: number) => p!.frame('v1', i);
    await c.request('review.decide', { frameIds: [f(1)], action: 'accept' });
    await c.request('review.decide', { frameIds: [f(2)], action: 'relabel', label: 5 });
    await c.request('review.decide', { frameIds: [f(3)], action: 'keep' });
    await c.request('review.decide', { frameIds: [f(4)], action: 'exclude' });
    // a frame no flag named, decided from the timeline
    await c.request('review.decide', { frameIds: [f(11)], action: 'relabel', label: 2 });
    // decided twice: counted once, with the decision that stands
    await c.request('review.decide', { frameIds: [f(5)], action: 'keep' });
    await c.request('review.decide', { frameIds: [f(5)], action: 'accept' });
    // decided then undone: not decided
    await c.request('review.decide', { frameIds: [f(6)], action: 'exclude' });
    await c.request('review.undo', {});

    const counts = await c.request('review.counts', {});
    const list = await allDecided(c);
    const info = await c.request('project.info', {});
    const preview = await c.request('export.preview', {});

    expect(counts.byAction).toEqual({ accept: 2, relabel: 2, keep: 1, exclude: 1 });
    expect(counts.decided).toBe(6);
    expect(list.total).toBe(6);
    expect(list.items).toHaveLength(6);
    expect(new Set(list.items.map((x) => x.frameId)).size).toBe(6); // each frame once
    expect(list.items.find((x) => x.frameId === f(5))).toMatchObject({ action: 'accept', current: 4 });
    expect(list.items.find((x) => x.frameId === f(3))).toMatchObject({ action: 'keep', current: 0 });
    expect(list.items.find((x) => x.frameId === f(4))).toMatchObject({ action: 'exclude', current: -1 });
    expect(list.items.some((x) => x.frameId === f(6))).toBe(false);
    expect(info.decidedFrames).toBe(counts.decided);

    // changed = decided minus kept: what the export writes differently
    expect(counts.changed).toBe(5);
    expect(info.changedFrames).toBe(counts.changed);
    expect(preview.changes).toBe(counts.changed);

    // flagged = open + the flagged frames decided (frame 11 was never flagged)
    expect(counts.flagged).toBe(8);
    expect(counts.open).toBe(3); // frames 6, 7, 8
    const open = await c.request('review.queue', { filter: { status: 'open' } });
    expect(open.total).toBe(counts.open);
    expect(open.items.map((x) => x.idx)).toEqual([6, 7, 8]);
  });
});
