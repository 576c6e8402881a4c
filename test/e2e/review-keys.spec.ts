// The Review keyboard: the help overlay on ?, remapping a key in the settings (conflicts, reset),
// S to skip, Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y, the segment keys, and the detail panel back at its top
// on each new frame.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type AppFixture } from './lib/app-fixture';

describe('Review: keys', () => {
  let app: AppFixture;
  const focused = () => app.page.locator('[data-testid^="flag-"].focused');
  const focusedId = () => focused().getAttribute('data-frame-id');
  const card = (id: string) => app.byId(`flag-${id}`);
  const reviewed = async () => (await app.core.request('review.counts', {})).decided;
  const blur = () => app.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());

  beforeAll(async () => {
    app = await openApp({ flags: true, videos: 6, frames: 40 });
    await app.open();
    await app.page.evaluate(() => localStorage.clear());
    await app.byId('nav-review').click();
    await app.page.locator('[data-testid^="flag-"]').first().waitFor();
    await app.byId('detail-image').waitFor();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('shows every key on ?, and closes on Esc', async () => {
    await app.page.keyboard.press('?');
    await app.byId('key-help').waitFor();
    const text = (await app.byId('key-help').textContent()) ?? '';
    for (const words of [
      'accept the suggestion',
      'keep the given label',
      'exclude',
      'skip',
      'undo',
      'redo',
      'last flag',
      'relabel as Anger',
    ])
      expect(text).toContain(words);
    expect(await app.byId('key-help-undo').textContent()).toContain('Ctrl+Z');
    expect(await app.byId('key-help-redo').textContent()).toContain('Ctrl+Shift+Z');
    await app.shotBoth('review-key-help');
    await app.page.keyboard.press('Escape');
    await expect.poll(() => app.byId('key-help').count()).toBe(0);
  });

  it('remaps a key, refuses a conflict, uses the new key, and resets to the defaults', async () => {
    await app.byId('review-key-settings').click();
    await app.byId('key-settings').waitFor();
    await app.byId('key-input-accept').fill('K');
    await app.byId('key-conflicts').waitFor();
    expect(await app.byId('key-conflicts').textContent()).toContain('K');
    expect(await app.byId('key-save').isDisabled()).toBe(true);
    await app.byId('key-input-accept').fill('Q');
    await expect.poll(() => app.byId('key-conflicts').count()).toBe(0);
    await app.shotBoth('review-key-settings');
    await app.byId('key-save').click();
    await expect.poll(() => app.byId('key-settings').count()).toBe(0);
    expect(await app.page.evaluate(() => localStorage.getItem('concord.review.keys'))).toBe(JSON.stringify({ accept: ['Q'] }));

    await blur();
    const id = (await focusedId())!;
    const suggested = await card(id).getAttribute('data-suggested');
    await app.page.keyboard.press('a'); // no longer accept
    await app.page.waitForTimeout(300);
    expect(await card(id).getAttribute('data-status')).toBe('open');
    await app.page.keyboard.press('q');
    await expect.poll(() => card(id).getAttribute('data-status')).toBe('decided');
    expect(await card(id).getAttribute('data-current')).toBe(suggested);
    await app.page.keyboard.press('z');
    await expect.poll(() => card(id).getAttribute('data-status')).toBe('open');
    await app.byId('review-key-settings').click();
    await app.byId('key-reset').click();
    await app.byId('key-save').click();
    expect(await app.page.evaluate(() => localStorage.getItem('concord.review.keys'))).toBeNull();
    await app.page.locator('[data-testid^="flag-"]').first().click();
  });

  it('skips with S: focus moves on, the label and the flag stay', async () => {
    await blur();
    const id = (await focusedId())!;
    const current = await card(id).getAttribute('data-current');
    const before = await reviewed();
    await app.page.keyboard.press('s');
    await expect.poll(focusedId).not.toBe(id);
    expect(await card(id).getAttribute('data-status')).toBe('open');
    expect(await card(id).getAttribute('data-current')).toBe(current);
    await expect.poll(() => app.byId('review-last-action').textContent()).toContain('skipped');
    expect(await reviewed()).toBe(before);
  });

  it('undoes with Ctrl+Z and redoes with Ctrl+Shift+Z and Ctrl+Y', async () => {
    const id = (await focusedId())!;
    const before = await reviewed();
    await app.page.keyboard.press('k');
    await expect.poll(() => card(id).getAttribute('data-status')).toBe('decided');
    await expect.poll(reviewed).toBe(before + 1);
    await app.page.keyboard.press('Control+z');
    await expect.poll(() => card(id).getAttribute('data-status')).toBe('open');
    await expect.poll(reviewed).toBe(before);
    await app.page.keyboard.press('Control+Shift+Z');
    await expect.poll(() => card(id).getAttribute('data-status')).toBe('decided');
    await expect.poll(reviewed).toBe(before + 1);
    await app.page.keyboard.press('Control+z');
    await expect.poll(reviewed).toBe(before);
    await app.page.keyboard.press('Control+y');
    await expect.poll(reviewed).toBe(before + 1);
    await expect.poll(() => card(id).getAttribute('data-status')).toBe('decided');
  });

  it('puts the detail panel back at its top on each new frame', async () => {
    const panel = app.byId('review-detail');
    const scrolled = await panel.evaluate((el) => {
      el.scrollTop = 10_000;
      return el.scrollTop;
    });
    expect(scrolled).toBeGreaterThan(100);
    const idx = await app.byId('detail-frame').getAttribute('data-idx');
    const video = await app.byId('detail-frame').getAttribute('data-video');
    await app.page.keyboard.press('ArrowRight');
    await expect
      .poll(
        async () =>
          `${await app.byId('detail-frame').getAttribute('data-video')}:${await app.byId('detail-frame').getAttribute('data-idx')}`,
      )
      .not.toBe(`${video}:${idx}`);
    await expect.poll(() => panel.evaluate((el) => el.scrollTop)).toBe(0);
  });

  it('moves between segments and decides the focused one by key', async () => {
    await app.byId('mode-segments').click();
    const segs = app.page.locator('[data-testid=segment]');
    await segs.first().waitFor();
    expect(await segs.count()).toBeGreaterThan(1);
    await blur();
    await expect.poll(() => segs.nth(0).getAttribute('data-focused')).toBe('true');
    await app.page.keyboard.press('ArrowDown');
    await expect.poll(() => segs.nth(1).getAttribute('data-focused')).toBe('true');
    await app.page.keyboard.press('ArrowUp');
    await expect.poll(() => segs.nth(0).getAttribute('data-focused')).toBe('true');
    await app.page.keyboard.press('ArrowDown');
    const ids = ((await segs.nth(1).getAttribute('data-frame-ids')) ?? '').split(',').map(Number);
    const suggested = Number(await segs.nth(1).getAttribute('data-suggested'));
    const before = await reviewed();
    await app.page.keyboard.press('a');
    await expect.poll(reviewed).toBe(before + ids.length);
    for (const frameId of ids)
      expect((await app.core.request('review.frame', { frameId, context: 0, timeline: false })).current).toBe(suggested);
    await app.page.keyboard.press('Control+z');
    await expect.poll(reviewed).toBe(before);
    await app.byId('mode-frames').click();
    expect(app.pageErrors).toEqual([]);
  });
});
