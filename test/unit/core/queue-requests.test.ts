// review.queue's offset / fromEnd and review.locate through the core: the contract's parse, the
// filtered totals and positions, and a reference that names no frame as a 404 naming it.
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

/** Two videos of 10 frames; frame i of each flagged with score i/10 (v2's in the validation split), but frame 10. */
async function setup(): Promise<Core> {
  p = makeProject([
    { name: 'v1', labels: Array(10).fill(0) },
    { name: 'v2', split: 'Validation_Set', labels: Array(10).fill(1) },
  ]);
  const runId = createRun(p.db, { kind: 'train', config: {} });
  const flags: NewFlag[] = [];
  for (const [video, given] of [
    ['v1', 0],
    ['v2', 1],
  ] as const)
    for (let i = 1; i <= 9; i++) {
      const frameId = p.frame(video, i);
      const videoId = p.db.prepare('SELECT video_id FROM frames WHERE id = ?').pluck().get(frameId) as number;
      flags.push({
        runId,
        frameId,
        videoId,
        idx: i,
        rule: 'all-agree',
        given,
        suggested: 3,
        score: i / 10,
        allAgree: i % 2 === 0,
        details: null,
      });
    }
  replaceOpenFlags(p.db, flags);
  core = await createCore(p.dir);
  return core;
}

describe('review.queue with offset and fromEnd', () => {
  it('pages from any position and says where each page starts in the filtered queue', async () => {
    const c = await setup();
    const first = await c.request('review.queue', { limit: 4 });
    expect(first).toMatchObject({ total: 18, offset: 0 });
    expect(first.items.map((i) => i.score)).toEqual([0.9, 0.9, 0.8, 0.8]);
    const mid = await c.request('review.queue', { offset: 5, limit: 4 });
    expect(mid.offset).toBe(5);
    expect(mid.items.map((i) => `${i.video}:${i.idx}`)).toEqual(['v2:7', 'v1:6', 'v2:6', 'v1:5']);
    const keyset = await c.request('review.queue', { after: first.next!, limit: 4 });
    expect(keyset.offset).toBe(4);
    const last = await c.request('review.queue', { fromEnd: true, limit: 4 });
    expect(last).toMatchObject({ offset: 14, total: 18, next: null });
    expect(last.items.map((i) => `${i.video}:${i.idx}`)).toEqual(['v1:2', 'v2:2', 'v1:1', 'v2:1']);
    const filtered = await c.request('review.queue', { filter: { split: 'Validation_Set', allAgree: true }, offset: 1, limit: 10 });
    expect(filtered).toMatchObject({ total: 4, offset: 1 });
    expect(filtered.items.map((i) => i.idx)).toEqual([6, 4, 2]);
    await expect(c.request('review.queue', { offset: 2, after: first.next! })).rejects.toThrow(
      /^bad review.queue request: .*at most one of/,
    );
    await expect(c.request('review.queue', { offset: -1 })).rejects.toThrow(/^bad review.queue request: offset/);
  });

  it('filters by the standing decision once one is made, and drops it on undo', async () => {
    const c = await setup();
    const frame = p!.frame('v1', 9);
    await c.request('review.decide', { frameIds: [frame], action: 'keep' });
    const kept = await c.request('review.queue', { filter: { status: 'decided', actions: ['keep'] } });
    expect(kept).toMatchObject({ total: 1, offset: 0, items: [{ frameId: frame, status: 'decided' }] });
    expect((await c.request('review.queue', { filter: { status: 'all', actions: ['accept'] } })).total).toBe(0);
    await c.request('review.undo', {});
    expect((await c.request('review.queue', { filter: { status: 'all', actions: ['keep'] } })).total).toBe(0);
  });
});

describe('review.locate', () => {
  it('finds a frame by VIDEO:FRAME or frame id, with its position in the filtered queue', async () => {
    const c = await setup();
    const frame = p!.frame('v2', 7);
    expect(await c.request('review.locate', { ref: 'v2:7' })).toEqual({
      frameId: frame,
      flagId: expect.any(Number),
      position: 5,
      total: 18,
    });
    expect(await c.request('review.locate', { ref: String(frame), filter: { split: 'Validation_Set' } })).toMatchObject({
      frameId: frame,
      position: 2,
      total: 9,
    });
    // in the project, not in this queue: no flag at all, or filtered out
    expect(await c.request('review.locate', { ref: 'v1:10' })).toEqual({
      frameId: p!.frame('v1', 10),
      flagId: null,
      position: null,
      total: 18,
    });
    expect(await c.request('review.locate', { ref: 'v2:7', filter: { video: 'v1' } })).toEqual({
      frameId: frame,
      flagId: null,
      position: null,
      total: 9,
    });
  });

  it('answers a reference that names no frame with a 404 naming it', async () => {
    const c = await setup();
    for (const ref of ['v1:99', 'nope:1', '987654', 'garbage'])
      await expect(c.request('review.locate', { ref })).rejects.toMatchObject({
        status: 404,
        name: 'NotFoundError',
        message: expect.stringContaining(`"${ref}"`),
      });
    await expect(c.request('review.locate', { ref: '' })).rejects.toThrow(/^bad review.locate request/);
  });
});
