// A real view of the face: the detail image as large as its panel allows, the modal viewer (opened
// by double-click on a card or a click on the detail image) with zoom, pan, ←/→ and Esc, and the
// "source frame" toggle, which says so when the project has no video for the frame (the demo has none).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, VIEWPORTS, type AppFixture } from './lib/app-fixture';

describe('Review: the image viewer', () => {
  let app: AppFixture;
  const focused = () => app.page.locator('[data-testid^="flag-"].focused');
  const scale = async () => Number(await app.byId('viewer-scale').getAttribute('data-scale'));

  beforeAll(async () => {
    app = await openApp({ flags: true, videos: 6, frames: 40 });
    await app.open();
    await app.byId('nav-review').click();
    await app.page.locator('[data-testid^="flag-"]').first().waitFor();
    await app.byId('detail-image').waitFor();
    // start on a flag whose crop exists (the demo leaves some frames without one)
    await app.page.locator('[data-testid^="flag-"]:has(img)').first().click();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('shows the detail image as large as the panel allows, keeping its aspect', async () => {
    for (const v of [VIEWPORTS.wide, VIEWPORTS.narrow]) {
      await app.page.setViewportSize(v);
      await app.page.waitForTimeout(150);
      const box = (await app.byId('detail-image').boundingBox())!;
      const panel = (await app.byId('review-detail').boundingBox())!;
      expect(box.width).toBeGreaterThan(300);
      expect(box.width).toBeGreaterThan(panel.width * 0.8);
      expect(Math.abs(box.width - box.height)).toBeLessThan(2); // the demo's crops are square
    }
    await app.page.setViewportSize(VIEWPORTS.wide);
  });

  it('shows whole class names on the cards and in the matrix at 1280 px', async () => {
    await app.page.setViewportSize(VIEWPORTS.narrow);
    await app.page.waitForTimeout(150);
    const clipped = await app.page.evaluate(() =>
      [...document.querySelectorAll('[data-testid^="flag-"] .labels, [data-testid="pair-matrix"] th, [data-testid="pair-matrix"] .link')]
        .filter((e) => (e as HTMLElement).scrollWidth > (e as HTMLElement).clientWidth + 1)
        .map((e) => e.textContent),
    );
    expect(clipped).toEqual([]);
    const names = await app.page.locator('[data-testid^="flag-"] .labels').first().getAttribute('title');
    expect(names).toMatch(/^given \w+ → suggested \w+$/);
    await app.page.setViewportSize(VIEWPORTS.wide);
  });

  it('opens on a double-click, zooms, pans, moves between flags and closes on Esc', async () => {
    const card = focused();
    const id = await card.getAttribute('data-frame-id');
    await card.dblclick();
    await app.byId('image-viewer').waitFor();
    await expect.poll(scale).toBeGreaterThan(1); // a 64 px crop fitted to the window
    const fitted = await scale();
    await app.byId('viewer-zoom-in').click();
    await expect.poll(scale).toBeCloseTo(fitted * 1.25, 3);
    // the wheel zooms at the cursor
    const stage = (await app.byId('viewer-stage').boundingBox())!;
    await app.page.mouse.move(stage.x + stage.width / 2, stage.y + stage.height / 2);
    await app.page.mouse.wheel(0, -100);
    await expect.poll(scale).toBeGreaterThan(fitted * 1.25 + 0.01);
    await app.shotBoth('review-image-viewer');
    // drag pans
    const tx = Number(await app.byId('viewer-image').getAttribute('data-tx'));
    const ty = Number(await app.byId('viewer-image').getAttribute('data-ty'));
    await app.page.mouse.down();
    await app.page.mouse.move(stage.x + stage.width / 2 + 80, stage.y + stage.height / 2 + 30, { steps: 5 });
    await app.page.mouse.up();
    await expect.poll(async () => Number(await app.byId('viewer-image').getAttribute('data-tx'))).toBeCloseTo(tx + 80, 0);
    expect(Number(await app.byId('viewer-image').getAttribute('data-ty'))).toBeCloseTo(ty + 30, 0);
    // 1:1 and fit
    await app.byId('viewer-one').click();
    await expect.poll(scale).toBe(1);
    await app.byId('viewer-fit').click();
    await expect.poll(scale).toBeCloseTo(fitted, 3);
    // → is the next flag, ← back
    const caption = await app.byId('viewer-caption').textContent();
    await app.page.keyboard.press('ArrowRight');
    await expect.poll(() => app.byId('viewer-caption').textContent()).not.toBe(caption);
    await expect.poll(() => focused().getAttribute('data-frame-id')).not.toBe(id);
    await app.page.keyboard.press('ArrowLeft');
    await expect.poll(() => app.byId('viewer-caption').textContent()).toBe(caption);
    await expect.poll(() => focused().getAttribute('data-frame-id')).toBe(id);
    // keys do not reach the review behind the viewer: nothing was decided
    expect((await app.core.request('review.counts', {})).decided).toBe(0);
    await app.page.keyboard.press('Escape');
    await expect.poll(() => app.byId('image-viewer').count()).toBe(0);
  });

  it('opens on a click of the detail image', async () => {
    await app.byId('detail-image').click();
    await app.byId('image-viewer').waitFor();
    await app.byId('viewer-close').click();
    await expect.poll(() => app.byId('image-viewer').count()).toBe(0);
  });

  it('says the source video is not available when the project has none', async () => {
    const id = Number(await focused().getAttribute('data-frame-id'));
    // the host's own answer
    const res = await fetch(new URL(`/frames/${id}.jpg?source=1`, app.server.url), {
      headers: { Authorization: `Bearer ${app.server.token}` },
    });
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/source video not available/);
    await app.byId('detail-image').click();
    await app.byId('image-viewer').waitFor();
    await app.byId('viewer-source').check();
    await app.byId('viewer-source-unavailable').waitFor();
    expect(await app.byId('viewer-source-unavailable').textContent()).toMatch(/Source video not available/);
    // the crop stays on screen
    expect(await app.byId('viewer-image').getAttribute('data-source')).toBe('crop');
    await app.shotBoth('review-image-source-unavailable');
    await app.page.keyboard.press('Escape');
    await expect.poll(() => app.byId('image-viewer').count()).toBe(0);
    expect(app.pageErrors).toEqual([]);
  });
});
