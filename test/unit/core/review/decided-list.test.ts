// review.decisions lists what people decided: each frame once, with the action that stands (not
// undone, skips aside) and its final label, newest first, paged; counts agree with the list.
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../../src/main/core/app';
import { scoreRun } from '../../../../src/main/core/review/flags';
import { addRun, makeProject, nets, peaked, type TestProject } from '../../store/fixtures';

let p: TestProject | null = null;
let core: Core | null = null;
afterEach(async () => {
  await core?.close();
  core = null;
  p?.cleanup();
  p = null;
});

describe('review.decisions', () => {
  it('lists each decided frame once with its standing action and final label', async () => {
    p = makeProject([{ name: 'v', labels: [0, 0, 0, 0, 1, 1] }]);
    const f = (i: number) => p!.frame('v', i);
    // the networks agree frame 1 is class 3: a flag to accept
    addRun(p.db, 3, [[f(1), nets(peaked(3), peaked(3), peaked(3))]]);
    expect(scoreRun(p.db).flagged).toBe(1);
    core = await createCore(p.dir);
    await core.request('review.decide', { frameIds: [f(1)], action: 'accept' });
    await core.request('review.decide', { frameIds: [f(2)], action: 'keep' });
    await core.request('review.decide', { frameIds: [f(3)], action: 'exclude' });
    await core.request('review.decide', { frameIds: [f(4)], action: 'relabel', label: 5 });
    await core.request('review.decide', { frameIds: [f(5)], action: 'skip' });
    // frame 2 decided again: it appears once, with the newer action
    await core.request('review.decide', { frameIds: [f(2)], action: 'relabel', label: 6 });
    // undo reverts the newest group (frame 2's relabel): its keep stands again
    await core.request('review.undo', {});

    const page = await core.request('review.decisions', {});
    expect(page.total).toBe(4);
    expect(page.next).toBeNull();
    expect(page.items.map((d) => [d.idx, d.action, d.original, d.current])).toEqual([
      [4, 'relabel', 0, 5],
      [3, 'exclude', 0, -1],
      [2, 'keep', 0, 0],
      [1, 'accept', 0, 3],
    ]);
    expect(page.items.every((d) => d.video === 'v' && d.frameId === f(d.idx))).toBe(true);

    // paging: two at a time, same order, nothing repeated
    const first = await core.request('review.decisions', { limit: 2 });
    expect(first.items.map((d) => d.idx)).toEqual([4, 3]);
    const second = await core.request('review.decisions', { limit: 2, before: first.next! });
    expect(second.items.map((d) => d.idx)).toEqual([2, 1]);
    await expect(core.request('review.decisions', { limit: 0 })).rejects.toThrow(/bad review.decisions request/);
  });
});
