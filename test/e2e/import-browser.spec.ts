// Importing from the browser host without typing paths: a refused folder says how to allow one,
// the folder browser walks from an allowed root to the demo's folders, the import succeeds and the
// other tabs stay clean; then the Project view's frame grid, filtered by split.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { openApp, type AppFixture } from './lib/app-fixture';

describe('import through the folder browser', () => {
  let app: AppFixture;
  let root: string;

  beforeAll(async () => {
    app = await openApp({ imported: false });
    root = realpathSync(app.root);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('refuses a folder outside the allowed roots, naming them and how to allow another', async () => {
    await app.open();
    await app.byId('project-empty').waitFor();
    await app.byId('import-annotations').fill('/etc');
    await app.byId('import-frames').fill('/etc');
    await app.byId('import-start').click();
    const status = app.byId('import-status');
    await expect.poll(() => status.getAttribute('data-status')).toBe('failed');
    const text = (await status.textContent()) ?? '';
    expect(text).toMatch(/outside the project and the allowed data folders/);
    expect(text).toContain(root);
    expect(text).toContain('concord serve PROJECT --data DIR');
  });

  it('browses from a root to the annotations and frames folders and imports them', async () => {
    const { page, byId } = app;
    await byId('import-annotations').fill('');
    await byId('import-frames').fill('');
    await byId('import-annotations-browse').click();
    const dialog = byId('folder-browser');
    await dialog.waitFor();
    // no start folder: the allowed roots
    await expect.poll(() => dialog.getByTestId('fb-root').count()).toBe(2);
    await expect.poll(() => dialog.getByTestId('fb-entry').count()).toBe(2);
    expect(await byId('fb-choose').isDisabled()).toBe(true);
    await dialog.locator(`[data-testid=fb-root][title="${root}"]`).click();
    await dialog.locator('[data-testid=fb-entry][data-name="demo data"]').dblclick();
    await dialog.locator('[data-testid=fb-entry][data-name="annotations"]').waitFor();
    // files are shown, greyed, when choosing a folder
    const file = dialog.locator('[data-testid=fb-entry][data-kind=file]').first();
    expect(await file.getAttribute('aria-disabled')).toBe('true');
    await app.shotBoth('project-folder-browser');
    await dialog.locator('[data-testid=fb-entry][data-name="annotations"]').dblclick();
    await expect.poll(() => byId('fb-path').textContent()).toBe(join(root, 'demo data', 'annotations'));
    // the breadcrumbs lead back up
    await expect.poll(() => dialog.getByTestId('fb-crumb').count()).toBe(4); // Allowed folders › root › demo data › annotations
    await byId('fb-choose').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await byId('import-annotations').inputValue()).toBe(join(root, 'demo data', 'annotations'));

    // the frames folder by keyboard: Enter opens, the crumb goes up a level
    await byId('import-frames-browse').click();
    await dialog.waitFor();
    await dialog.locator(`[data-testid=fb-root][title="${root}"]`).click();
    await dialog.locator('[data-testid=fb-entry][data-name="demo data"]').focus();
    await page.keyboard.press('Enter');
    await dialog.locator('[data-testid=fb-entry][data-name="cropped_aligned"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => byId('fb-path').textContent()).toBe(join(root, 'demo data', 'cropped_aligned'));
    await dialog.locator(`[data-testid=fb-crumb][data-path="${join(root, 'demo data')}"]`).click();
    await expect.poll(() => byId('fb-path').textContent()).toBe(join(root, 'demo data'));
    await dialog.locator('[data-testid=fb-entry][data-name="cropped_aligned"]').dblclick();
    await byId('fb-choose').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await byId('import-frames').inputValue()).toBe(join(root, 'demo data', 'cropped_aligned'));

    await byId('import-start').click();
    await byId('import-summary').waitFor({ timeout: 120_000 });
    const frames = app.demo.tracks.reduce((a, t) => a + t.frames, 0);
    await expect.poll(() => byId('stat-frames').textContent()).toBe(frames.toLocaleString('en-US'));
  });

  it('shows each tab only its own status', async () => {
    const { byId } = app;
    await byId('import-kind-video').click();
    expect(await byId('import-status').count()).toBe(0);
    expect(await byId('import-summary').count()).toBe(0);
    await byId('import-kind-images').click();
    expect(await byId('import-status').count()).toBe(0);
    // the file picker of an image list: files are choosable there
    await byId('import-list-browse').click();
    await byId('folder-browser').waitFor();
    expect(await byId('folder-browser').getAttribute('data-mode')).toBe('file');
    await byId('fb-cancel').click();
    await byId('folder-browser').waitFor({ state: 'detached' });
    await byId('import-kind-abaw').click();
    await byId('import-summary').waitFor();
    await app.page.evaluate(() => window.scrollTo(0, 0)); // full-page shots: the sticky header stays on top
    await app.shotBoth('project-import-tabs');
  });

  it('browses every frame in the Project view, filtered by split', async () => {
    const { byId, page } = app;
    const grid = byId('frame-browser');
    await grid.waitFor();
    const all = await app.core.request('dataset.frames', { filter: {}, limit: 1 });
    await expect.poll(() => byId('frames-total').getAttribute('data-total')).toBe(String(all.total));
    await expect.poll(() => grid.getByTestId('frame-cell').count()).toBe(Math.min(all.total, 120));
    const val = await app.core.request('dataset.frames', { filter: { split: 'Validation_Set' }, limit: 500 });
    expect(val.total).toBeGreaterThan(0);
    expect(val.total).toBeLessThan(all.total);
    await byId('frames-filter-split').selectOption('Validation_Set');
    await expect.poll(() => byId('frames-total').getAttribute('data-total')).toBe(String(val.total));
    const shown = await grid.getByTestId('frame-cell').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-frame-id'))));
    expect(shown).toEqual(val.items.slice(0, 120).map((f) => f.frameId));
    // thumbnails are the review grid's frame URLs, and they load
    const img = grid.locator('[data-testid=frame-cell] img').first();
    expect(await img.getAttribute('src')).toBe(`/frames/${shown[0]}.jpg`);
    await expect.poll(() => img.evaluate((e) => (e as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(200);
    await app.shotBoth('project-frames');
    expect(app.pageErrors).toEqual([]);
  });
});
