// Exporting twice into the same folder asks first: a new folder beside it (the first untouched),
// or overwrite (its files replaced). The preview's action column says what each decision was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openApp, type AppFixture } from './lib/app-fixture';
import type { QueueItem } from '../../src/shared/api';

describe('export with the overwrite question', () => {
  let app: AppFixture;
  let out: string;
  const decided: { item: QueueItem; action: 'relabel' | 'accept' | 'exclude'; label?: number }[] = [];

  beforeAll(async () => {
    app = await openApp({ flags: true });
    out = join(realpathSync(app.root), 'export out');
    const q = await app.core.request('review.queue', { filter: {}, limit: 10 });
    expect(q.items.length).toBeGreaterThanOrEqual(3);
    const [a, b, c] = q.items as [QueueItem, QueueItem, QueueItem];
    const other = [0, 1, 2, 3, 4, 5, 6].find((k) => k !== a.given && k !== a.suggested)!;
    await app.core.request('review.decide', { frameIds: [a.frameId], action: 'relabel', label: other });
    await app.core.request('review.decide', { frameIds: [b.frameId], action: 'accept' });
    await app.core.request('review.decide', { frameIds: [c.frameId], action: 'exclude' });
    decided.push({ item: a, action: 'relabel', label: other }, { item: b, action: 'accept' }, { item: c, action: 'exclude' });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** The written ABAW file of a decided frame's video. */
  const fileOf = (dir: string, item: QueueItem) => join(dir, item.split, `${item.video}.txt`);

  it("shows each changed frame's decided action in the preview", async () => {
    const { byId, page } = app;
    await app.open();
    await byId('nav-export').click();
    await expect.poll(() => byId('export-changes').textContent()).toBe('3');
    const rows = await page
      .locator('[data-testid=export-sample] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())));
    const want = decided.map((d) => [d.item.video, String(d.item.idx), d.action]).sort();
    expect(rows.map((r) => [r[0], r[1], r[4]]).sort()).toEqual(want);
  });

  it('exports, then asks on the second export: a new folder leaves the first untouched', async () => {
    const { byId, page } = app;
    await byId('export-format').selectOption('abaw');
    await byId('export-dir').fill(out);
    await byId('export-run').click();
    await page.locator('[data-testid=export-path]').first().waitFor();
    const first = fileOf(out, decided[0]!.item);
    expect(existsSync(first)).toBe(true);
    const lines = readFileSync(first, 'utf8').trimEnd().split('\n');
    expect(Number(lines[decided[0]!.item.idx])).toBe(decided[0]!.label);
    writeFileSync(first, 'marker\n'); // to see whether the next exports touch it

    await byId('export-run').click();
    const dialog = byId('export-conflict');
    await dialog.waitFor();
    const text = (await byId('export-conflict-text').textContent()) ?? '';
    expect(text).toContain(`${out} already holds an export written `);
    expect(text).toMatch(/written \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    const newLabel = (await byId('export-new').textContent()) ?? '';
    const proposed = /Write to a new folder \((export out-\d{8}-\d{6}(?:-\d+)?)\)/.exec(newLabel)?.[1];
    expect(proposed, newLabel).toBeDefined();
    await app.shotBoth('export-conflict');

    await byId('export-new').click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('[data-testid=export-outdir]').count()).toBe(2);
    const used = (await page.locator('[data-testid=export-outdir]').first().textContent())!;
    expect(dirname(used)).toBe(dirname(out));
    expect(basename(used)).toBe(proposed); // the folder the dialog named
    expect(readdirSync(dirname(out)).filter((n) => n.startsWith('export out'))).toHaveLength(2);
    expect(Number(readFileSync(fileOf(used, decided[0]!.item), 'utf8').trimEnd().split('\n')[decided[0]!.item.idx])).toBe(
      decided[0]!.label,
    );
    expect(readFileSync(first, 'utf8')).toBe('marker\n'); // untouched
  });

  it('overwrites when asked to, replacing the files', async () => {
    const { byId, page } = app;
    await byId('export-run').click();
    await byId('export-conflict').waitFor();
    // cancel leaves everything as it is
    await byId('export-conflict-cancel').click();
    await byId('export-conflict').waitFor({ state: 'detached' });
    expect(readFileSync(fileOf(out, decided[0]!.item), 'utf8')).toBe('marker\n');

    await byId('export-run').click();
    await byId('export-conflict').waitFor();
    await byId('export-overwrite').click();
    await byId('export-conflict').waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('[data-testid=export-outdir]').count()).toBe(3);
    expect(await page.locator('[data-testid=export-outdir]').first().textContent()).toBe(out);
    for (const d of decided) {
      const line = Number(readFileSync(fileOf(out, d.item), 'utf8').trimEnd().split('\n')[d.item.idx]);
      expect(line).toBe(d.action === 'relabel' ? d.label : d.action === 'accept' ? d.item.suggested : -1);
    }
    expect(readdirSync(dirname(out)).filter((n) => n.startsWith('export out'))).toHaveLength(2); // no third folder
    await app.shotBoth('export-done');
    expect(app.pageErrors).toEqual([]);
  });
});
