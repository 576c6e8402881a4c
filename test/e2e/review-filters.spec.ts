// Slicing the review queue in the browser: split, given, suggested, score range, status and the
// decided action, removable chips, a saved view, "flag N of M", End to the last flag of the filtered
// queue and a go-to box. Every expected number comes from the core's own answer to the same filter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type AppFixture } from './lib/app-fixture';
import type { QueueFilter } from '../../src/shared/api';

describe('Review: filters, saved views and navigation', () => {
  let app: AppFixture;
  const cards = () => app.page.locator('[data-testid^="flag-"][data-frame-id]');
  const coreQueue = (filter: QueueFilter, limit = 1000) => app.core.request('review.queue', { filter, limit });
  const shownTotal = async () => Number(((await app.byId('queue-total').textContent()) ?? '').replace(/[^\d]/g, ''));
  const attrs = (name: string) => cards().evaluateAll((els, n) => els.map((e) => e.getAttribute(n)), name);
  /** The grid shows the core's total for this filter and only cards the core's answer holds. */
  async function expectQueue(filter: QueueFilter): Promise<void> {
    const page = await coreQueue(filter);
    await expect.poll(shownTotal).toBe(page.total);
    if (!page.total) return;
    const ids = new Set(page.items.map((i) => String(i.frameId)));
    await expect.poll(async () => (await attrs('data-frame-id')).length).toBeGreaterThan(0);
    await expect.poll(async () => (await attrs('data-frame-id')).every((id) => ids.has(id!))).toBe(true);
  }
  async function clearAll(): Promise<void> {
    if (await app.byId('chips-clear').isVisible()) await app.byId('chips-clear').click();
    await expectQueue({ status: 'open' });
  }

  beforeAll(async () => {
    app = await openApp({ flags: true, videos: 6, frames: 40 });
    await app.open();
    await app.page.evaluate(() => localStorage.clear());
    await app.byId('nav-review').click();
    await cards().first().waitFor();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('filters by split, with a chip that removes it', async () => {
    const info = await app.core.request('project.info', {});
    const splits = Object.keys(info.splits);
    expect(splits.length).toBeGreaterThan(1);
    // a split with flags, but not all of them (so the filter visibly narrows the queue)
    const all = (await coreQueue({ status: 'open' }, 1)).total;
    const sizes = await Promise.all(splits.map(async (s) => (await coreQueue({ status: 'open', split: s }, 1)).total));
    const split = splits.find((_, i) => sizes[i]! > 0 && sizes[i]! < all) ?? splits[sizes.findIndex((n) => n > 0)]!;
    await app.byId('filter-split').selectOption(split);
    await expectQueue({ status: 'open', split });
    expect(new Set(await attrs('data-split'))).toEqual(new Set([split]));
    await expect.poll(() => app.byId('chip-split').textContent()).toContain(split);
    await app.byId('chip-remove-split').click();
    await expect.poll(() => app.byId('chip-split').count()).toBe(0);
    await expectQueue({ status: 'open' });
  });

  it('filters by given and suggested class, in step with the pair matrix', async () => {
    const pairs = await app.core.request('review.pairs', { status: 'open' });
    const top = [...pairs].sort((a, b) => b.count - a.count)[0]!;
    await app.byId('filter-given').selectOption(String(top.given));
    await expectQueue({ status: 'open', given: top.given });
    expect(new Set(await attrs('data-given'))).toEqual(new Set([String(top.given)]));
    await app.byId('filter-suggested').selectOption(String(top.suggested));
    await expectQueue({ status: 'open', given: top.given, suggested: top.suggested });
    expect(await shownTotal()).toBe(top.count);
    // the matrix shows the same pair selected; a click on it clears both selects
    await expect.poll(() => app.byId(`pair-${top.given}-${top.suggested}`).getAttribute('class')).toContain('sel');
    await app.byId(`pair-${top.given}-${top.suggested}`).click();
    await expect.poll(() => app.byId('filter-given').inputValue()).toBe('');
    expect(await app.byId('filter-suggested').inputValue()).toBe('');
    // and a matrix click sets the selects
    await app.byId(`pair-${top.given}-${top.suggested}`).click();
    await expect.poll(() => app.byId('filter-given').inputValue()).toBe(String(top.given));
    expect(await app.byId('filter-suggested').inputValue()).toBe(String(top.suggested));
    await clearAll();
  });

  it('filters by a score range', async () => {
    const all = await coreQueue({ status: 'open' });
    const scores = all.items.map((i) => i.score).sort((a, b) => a - b);
    const lo = Number(scores[Math.floor(scores.length / 4)]!.toFixed(2));
    const hi = Number(scores[Math.floor((scores.length * 3) / 4)]!.toFixed(2));
    await app.byId('filter-min-score').fill(String(lo));
    await app.byId('filter-min-score').press('Tab');
    await app.byId('filter-max-score').fill(String(hi));
    await app.byId('filter-max-score').press('Tab');
    await expectQueue({ status: 'open', minScore: lo, maxScore: hi });
    for (const s of await attrs('data-score')) {
      expect(Number(s)).toBeGreaterThanOrEqual(lo);
      expect(Number(s)).toBeLessThanOrEqual(hi);
    }
    await expect.poll(() => app.byId('chip-minScore').textContent()).toContain(lo.toFixed(2));
    await app.byId('chip-remove-minScore').click();
    await expectQueue({ status: 'open' });
  });

  it('shows decided flags by action', async () => {
    const open = await coreQueue({ status: 'open' }, 6);
    const [a, b, c] = open.items;
    await app.core.request('review.decide', { frameIds: [a!.frameId, b!.frameId], action: 'accept' });
    await app.core.request('review.decide', { frameIds: [c!.frameId], action: 'keep' });
    await app.byId('review-status-filter').selectOption('decided');
    await expectQueue({ status: 'decided' });
    await app.byId('filter-action-accept').check();
    await expectQueue({ status: 'decided', actions: ['accept'] });
    expect(new Set(await attrs('data-frame-id'))).toEqual(new Set([String(a!.frameId), String(b!.frameId)]));
    expect(new Set(await attrs('data-status'))).toEqual(new Set(['decided']));
    await app.shotBoth('review-filters');
    await app.byId('chip-remove-status').click();
    await expectQueue({ status: 'open' });
  });

  it('saves a view, picks it again, and keeps it over a reload', async () => {
    const pairs = await app.core.request('review.pairs', { status: 'open' });
    const given = [...pairs].sort((x, y) => y.count - x.count)[0]!.given;
    await app.byId('filter-given').selectOption(String(given));
    await expectQueue({ status: 'open', given });
    await app.byId('view-name').fill('my given view');
    await app.byId('view-save').click();
    await clearAll();
    await app.byId('saved-views').selectOption('my given view');
    await expectQueue({ status: 'open', given });
    expect(await app.byId('filter-given').inputValue()).toBe(String(given));
    await app.page.reload();
    await app.byId('nav-review').click();
    await expect.poll(() => app.byId('saved-views').locator('option').allTextContents()).toContain('my given view');
    await clearAll();
  });

  it('says which flag of how many, and End reaches the last flag of the filtered queue', async () => {
    const splits = Object.keys((await app.core.request('project.info', {})).splits);
    const sizes = await Promise.all(splits.map(async (s) => (await coreQueue({ status: 'open', split: s }, 1)).total));
    const filter: QueueFilter = { status: 'open', split: splits[sizes.indexOf(Math.max(...sizes))] };
    await app.byId('filter-split').selectOption(filter.split!);
    await expectQueue(filter);
    const total = await shownTotal();
    await app.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await app.page.keyboard.press('Home');
    await expect.poll(() => app.byId('queue-position').textContent()).toBe(`flag 1 of ${total}`);
    await app.page.keyboard.press('ArrowRight');
    await expect.poll(() => app.byId('queue-position').textContent()).toBe(`flag 2 of ${total}`);
    await app.page.keyboard.press('End');
    const last = await app.core.request('review.queue', { filter, fromEnd: true, limit: 1 });
    await expect
      .poll(() => app.page.locator('[data-testid^="flag-"].focused').getAttribute('data-frame-id'))
      .toBe(String(last.items[0]!.frameId));
    await expect.poll(() => app.byId('queue-position').textContent()).toBe(`flag ${last.total} of ${last.total}`);
    await app.page.keyboard.press('Home');
    await expect.poll(() => app.byId('queue-position').textContent()).toBe(`flag 1 of ${total}`);
    await clearAll();
  });

  it('goes to video:frame: focuses a queued flag, or shows another frame with a note', async () => {
    const q = await coreQueue({ status: 'open' });
    const target = q.items[Math.min(q.items.length - 1, 17)]!;
    await app.byId('review-goto').fill(`${target.video}:${target.idx}`);
    await app.byId('review-goto').press('Enter');
    await expect.poll(() => app.page.locator('[data-testid^="flag-"].focused').getAttribute('data-frame-id')).toBe(String(target.frameId));
    await expect.poll(() => app.byId('detail-frame').getAttribute('data-idx')).toBe(String(target.idx));
    // a frame with no open flag: shown in the detail, with the note
    const flagged = new Set(q.items.map((i) => `${i.video}:${i.idx}`));
    const other = app.truth.find((t) => t.givenLabel >= 0 && !flagged.has(`${t.video}:${t.frame}`))!;
    await app.byId('review-goto').fill(`${other.video}:${other.frame}`);
    await app.byId('review-goto').press('Enter');
    await expect.poll(() => app.byId('detail-frame').getAttribute('data-idx')).toBe(String(other.frame));
    expect(await app.byId('detail-frame').getAttribute('data-video')).toBe(other.video);
    await app.byId('detail-note').waitFor();
    expect(app.pageErrors).toEqual([]);
  });
});
