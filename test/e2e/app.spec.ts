// The whole workflow in a real browser against the real core: import through the wizard, train two
// tiny epochs, infer and score, review by keyboard (relabel, undo, accept, a segment), export ABAW,
// then check the written files and the audit rows on disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './lib/app-fixture';
import { generateDemoData, type DemoSummary } from '../../src/main/core/demo/generate';
import { createCore } from '../../src/main/core/app';
import { startServer, type RunningServer } from '../../src/main/server/http';
import { ensureWebBuild } from '../../src/main/cli/serve';
import type { ConcordCore } from '../../src/shared/api';
import { tempDir } from '../helpers/tmp';

const SCREENS = join(process.cwd(), 'test-results', 'screens');

describe('Concord in the browser, end to end', () => {
  let root: string;
  let data: string;
  let project: string;
  let demo: DemoSummary;
  let core: ConcordCore;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  // carried between steps
  let relabelled: { frameId: number; given: number; label: number };
  let accepted: { frameId: number; suggested: number };
  let segment: { frameIds: number[]; suggested: number };
  const kept: { frameId: number; given: number }[] = [];

  const shot = (name: string) => page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true });
  const byId = (id: string) => page.getByTestId(id);

  beforeAll(async () => {
    mkdirSync(SCREENS, { recursive: true });
    await ensureWebBuild({ out: () => {}, err: () => {} }, { force: true });
    root = tempDir('concord e2e é ');
    data = join(root, 'demo data');
    project = join(root, 'project');
    demo = await generateDemoData({ outDir: data, videos: 4, frames: 30, size: 64, encodeVideos: false, seed: 3 });
    core = await createCore(project, { allowedRoots: [root] });
    server = await startServer({ core, staticDir: join(process.cwd(), 'out/web'), port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 940 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.setDefaultTimeout(30_000);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await core?.close();
  });

  it('refuses the page without the token, then opens with it', async () => {
    const res = await page.goto(server.url);
    expect(res?.status()).toBe(401);
    await page.goto(`${server.url}?token=${server.token}`);
    await byId('view-project').waitFor();
    // the token leaves the address bar; the HttpOnly cookie keeps the session
    expect(page.url()).not.toContain('token=');
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await byId('project-empty').waitFor();
  });

  it('shows a refused path where it happened', async () => {
    await byId('import-annotations').fill('/etc');
    await byId('import-frames').fill('/etc');
    await byId('import-start').click();
    // refused by the core (the browser host allows only the project and the given data folders)
    const status = byId('import-status');
    await expect.poll(() => status.getAttribute('data-status')).toBe('failed');
    expect(await status.textContent()).toMatch(/outside the project and the allowed data folders/);
  });

  it('imports the ABAW folders through the wizard', async () => {
    await byId('import-annotations').fill(join(data, 'annotations'));
    await byId('import-frames').fill(join(data, 'cropped_aligned'));
    await byId('import-start').click();
    await byId('import-summary').waitFor({ timeout: 60_000 });
    const frames = demo.tracks.reduce((a, t) => a + t.frames, 0);
    await expect.poll(() => byId('stat-frames').textContent()).toBe(frames.toLocaleString('en-US'));
    expect(await byId('stat-videos').textContent()).toBe(String(demo.tracks.length));
    expect(await byId('split-table').locator('tbody tr').count()).toBe(2);
    expect(await byId('class-distribution').locator('.bar-row').count()).toBeGreaterThanOrEqual(7);
    await shot('project');
  });

  it('trains two tiny epochs with live charts', async () => {
    await byId('nav-train').click();
    await byId('train-empty').waitFor();
    await byId('preset-quick').click();
    await byId('advanced-toggle').click();
    await byId('cfg-epochs').fill('2');
    await byId('cfg-nets').fill('3');
    await byId('cfg-input').fill('48');
    await byId('cfg-batch').fill('16');
    await byId('cfg-model').selectOption('tiny');
    await byId('advanced-toggle').click();
    await byId('train-start').click();
    await byId('train-job').waitFor();
    // live step events reach the loss chart before the first epoch ends
    await expect
      .poll(async () => Number(await byId('chart-loss').getAttribute('data-points')), { timeout: 300_000, interval: 500 })
      .toBeGreaterThan(0);
    await page.locator('[data-testid=epoch-row]').nth(1).waitFor({ timeout: 480_000 });
    await expect.poll(() => byId('train-job').getAttribute('data-status'), { timeout: 120_000 }).toBe('done');
    expect(await page.locator('[data-testid=epoch-row]').count()).toBe(2);
    expect(Number(await byId('chart-accuracy').getAttribute('data-points'))).toBeGreaterThan(0);
    expect(await byId('confusion').locator('tbody tr').count()).toBeGreaterThanOrEqual(7);
    expect(await byId('train-device').textContent()).not.toContain('backend …');
    const runs = await core.request('runs.list', {});
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'done', epochs: 2 });
    await shot('train');
  });

  it('infers and scores flags from the Review view', async () => {
    await byId('nav-review').click();
    await byId('review-empty').waitFor();
    // flag every frame whose consensus differs from its label, so a two-epoch model finds some
    await byId('review-rule').selectOption('score-threshold');
    await byId('review-threshold').fill('0');
    await byId('review-infer').click();
    await byId('score-summary').waitFor({ timeout: 300_000 });
    await page.locator('[data-testid^="flag-"]').first().waitFor();
    const counts = await core.request('review.counts', {});
    expect(counts.flagged).toBeGreaterThan(3);
    await expect.poll(() => byId('review-open').textContent()).toBe(counts.open.toLocaleString('en-US'));
    // virtualised: only the cards in view exist
    const rendered = Number(await byId('virtual-grid').getAttribute('data-rendered'));
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThanOrEqual(Math.min(counts.flagged, 40));
    await byId('detail-image').waitFor();
    await byId('prob-bars').waitFor();
    await byId('timeline').waitFor();
    await shot('review');

    // the timeline seeks: a click near the start of the whole-video overview opens that frame of the
    // same video, and the per-frame window below moves to it
    const frame = byId('detail-frame');
    const video = await frame.getAttribute('data-video');
    await byId('timeline-detail').waitFor();
    const svg = byId('timeline-overview');
    const box = (await svg.boundingBox())!;
    await svg.click({ position: { x: 2, y: box.height / 2 } });
    await expect.poll(() => frame.getAttribute('data-idx')).toBe('1');
    expect(await frame.getAttribute('data-video')).toBe(video);
    await expect.poll(() => byId('timeline').getAttribute('data-from')).toBe('1');
    // back to the first flag for the keyboard steps
    await page.keyboard.press('Home');
    // The queue's first flag, from the core (the grid may still be scrolling back to it).
    const top = await core.request('review.queue', { filter: {}, limit: 1 });
    await expect
      .poll(() => page.locator('[data-testid^="flag-"].focused').getAttribute('data-frame-id'))
      .toBe(String(top.items[0]!.frameId));
  });

  it('reviews by keyboard: relabel, undo, accept', async () => {
    // the focused card is the one keys act on
    const focused = page.locator('[data-testid^="flag-"].focused');
    const attrs = async () => ({
      frameId: Number(await focused.getAttribute('data-frame-id')),
      given: Number(await focused.getAttribute('data-given')),
      suggested: Number(await focused.getAttribute('data-suggested')),
    });
    const first = await attrs();
    const label = [0, 1, 2, 3, 4, 5, 6].find((c) => c !== first.given && c !== first.suggested)!;
    relabelled = { frameId: first.frameId, given: first.given, label };
    const card0 = byId(`flag-${first.frameId}`);
    await page.keyboard.press(String(label + 1));
    await expect.poll(() => card0.getAttribute('data-status')).toBe('decided');
    expect(Number(await card0.getAttribute('data-current'))).toBe(label);
    await expect.poll(() => byId('review-decided').textContent()).toBe('1');

    await page.keyboard.press('z');
    await expect.poll(() => card0.getAttribute('data-status')).toBe('open');
    expect(Number(await card0.getAttribute('data-current'))).toBe(first.given);
    await expect.poll(() => byId('review-decided').textContent()).toBe('0');

    // focus moved on to the next open flag when the first was decided
    await expect.poll(async () => Number(await focused.getAttribute('data-frame-id'))).not.toBe(first.frameId);
    const second = await attrs();
    accepted = { frameId: second.frameId, suggested: second.suggested };
    await page.keyboard.press('a');
    await expect.poll(() => byId(`flag-${second.frameId}`).getAttribute('data-status')).toBe('decided');
    expect(Number(await byId(`flag-${second.frameId}`).getAttribute('data-current'))).toBe(second.suggested);
    await expect.poll(() => byId('review-last-action').textContent()).toContain('accepted');
  });

  it('bulk-selects with shift-click and keeps the given labels', async () => {
    const focused = page.locator('[data-testid^="flag-"].focused');
    const from = await focused.getAttribute('data-frame-id');
    const cards = page.locator('[data-testid^="flag-"]');
    const ids = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-frame-id')));
    const start = ids.indexOf(from);
    const range = ids.slice(start, start + 3);
    expect(range).toHaveLength(3);
    await byId(`flag-${range[0]}`).click();
    await byId(`flag-${range[2]}`).click({ modifiers: ['Shift'] });
    await expect.poll(() => byId('selection-count').textContent()).toBe('3 selected');
    for (const id of range) {
      const card = byId(`flag-${id}`);
      kept.push({ frameId: Number(id), given: Number(await card.getAttribute('data-given')) });
    }
    await page.keyboard.press('k');
    for (const k of kept) {
      await expect.poll(() => byId(`flag-${k.frameId}`).getAttribute('data-status')).toBe('decided');
      expect(Number(await byId(`flag-${k.frameId}`).getAttribute('data-current'))).toBe(k.given);
    }
    await expect.poll(() => byId('review-decided').textContent()).toBe('4');
  });

  it('accepts a whole segment', async () => {
    await byId('mode-segments').click();
    const seg = page.locator('[data-testid=segment]').first();
    await seg.waitFor();
    segment = {
      frameIds: (await seg.getAttribute('data-frame-ids'))!.split(',').map(Number),
      suggested: Number(await seg.getAttribute('data-suggested')),
    };
    expect(segment.frameIds.length).toBeGreaterThanOrEqual(2);
    await shot('review-segments');
    await seg.getByTestId('segment-accept').click();
    const expected = new Set([accepted.frameId, ...kept.map((k) => k.frameId), ...segment.frameIds]).size;
    await expect.poll(async () => (await core.request('review.counts', {})).decided).toBe(expected);
    await expect.poll(() => byId('review-decided').textContent()).toBe(String(expected));
  });

  it('exports ABAW files with the cleaned labels', async () => {
    await byId('nav-export').click();
    await expect.poll(async () => Number((await byId('export-changes').textContent())?.replace(/,/g, ''))).toBeGreaterThan(0);
    const out = join(root, 'export abaw');
    await byId('export-format').selectOption('abaw');
    await byId('export-dir').fill(out);
    await byId('export-run').click();
    await page.locator('[data-testid=export-path]').first().waitFor();
    const shown = await page.locator('[data-testid=export-path]').allTextContents();
    expect(shown.length).toBeGreaterThanOrEqual(demo.tracks.length);
    await shot('export');

    const db = new Database(join(project, 'concord.sqlite'), { readonly: true });
    try {
      const frameRow = db.prepare('SELECT f.idx, v.name, v.split FROM frames f JOIN videos v ON v.id = f.video_id WHERE f.id = ?');
      const lineOf = (frameId: number) => {
        const r = frameRow.get(frameId) as { idx: number; name: string; split: string };
        const file = join(out, r.split, `${r.name}.txt`);
        expect(shown).toContain(file);
        const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
        return Number(lines[r.idx]); // line 0 is the header; frame idx is 1-based
      };
      // the relabel was undone: the file keeps the given label
      expect(lineOf(relabelled.frameId)).toBe(relabelled.given);
      expect(lineOf(accepted.frameId)).toBe(accepted.suggested);
      for (const id of segment.frameIds) expect(lineOf(id)).toBe(segment.suggested);
      for (const k of kept) if (!segment.frameIds.includes(k.frameId)) expect(lineOf(k.frameId)).toBe(k.given);

      // the audit trail: relabel then its undo, the accept, the bulk keep, the segment's accepts
      const rows = (id: number) =>
        db.prepare('SELECT action, label_before, label_after FROM decisions WHERE frame_id = ? ORDER BY id').all(id) as {
          action: string;
          label_before: number;
          label_after: number;
        }[];
      expect(rows(relabelled.frameId)).toEqual([
        { action: 'relabel', label_before: relabelled.given, label_after: relabelled.label },
        { action: 'undo', label_before: relabelled.label, label_after: relabelled.given },
      ]);
      expect(rows(accepted.frameId)[0]).toMatchObject({ action: 'accept', label_after: accepted.suggested });
      for (const id of segment.frameIds) expect(rows(id).at(-1)).toMatchObject({ action: 'accept', label_after: segment.suggested });
      const groups = db.prepare('SELECT action, label, frames, state FROM decision_groups ORDER BY id').all() as {
        action: string;
        state: string;
        frames: number;
      }[];
      expect(groups[0]).toMatchObject({ action: 'relabel', state: 'undone', frames: 1 });
      expect(groups[1]).toMatchObject({ action: 'accept', state: 'done', frames: 1 });
      expect(groups[2]).toMatchObject({ action: 'keep', state: 'done', frames: 3 });
      expect(groups.at(-1)).toMatchObject({ action: 'accept', state: 'done' });
    } finally {
      db.close();
    }
  });

  it('finetunes from run 1, pauses, resumes and cancels it, then compares the two runs', async () => {
    await byId('nav-train').click();
    await byId('run-1').click();
    await byId('advanced-toggle').click();
    await byId('cfg-epochs').fill('30');
    await byId('advanced-toggle').click();
    await byId('train-finetune').click();
    // the run exists once the trainer has sent its first step
    await expect.poll(() => byId('train-job').textContent(), { timeout: 120_000 }).toContain('run 2');
    await byId('train-pause').click();
    await expect.poll(() => byId('train-status').textContent()).toBe('paused');
    await byId('train-resume').click();
    await expect.poll(() => byId('train-status').textContent()).toBe('running');
    await byId('train-cancel').click();
    await expect.poll(() => byId('train-job').getAttribute('data-status'), { timeout: 120_000 }).toBe('cancelled');
    await expect
      .poll(async () => (await core.request('runs.list', {})).map((r) => `${r.id}:${r.kind}:${r.status}`).sort())
      .toEqual(['1:train:done', '2:finetune:cancelled']);
    await byId('compare-1').check();
    await byId('compare-2').check();
    await byId('run-compare').waitFor();
    expect(await byId('run-compare').textContent()).toContain('run 2 (finetune)');
    await shot('train-compare');
  });

  it('switches to the dark theme and raised no page errors', async () => {
    await byId('theme-toggle').click();
    expect(await page.evaluate(() => document.documentElement.getAttribute('data-theme'))).toBe('dark');
    await byId('nav-review').click();
    await byId('mode-frames').click();
    await page.waitForTimeout(300);
    await shot('review-dark');
    expect(pageErrors).toEqual([]);
  });
});
