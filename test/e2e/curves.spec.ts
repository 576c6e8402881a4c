// Training curves survive a reload: a run's every step is stored, the loss chart draws them after a
// reload, smoothing / log scale / zoom change what is drawn, and the CSV download holds one row per
// stored step. Then a second run from the preselected "Backend default" preset (with a pause, whose
// ETA freezes) and a comparison of the two: curves overlaid, a table of the settings that differ.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ensureWebBuild } from '../../src/main/cli/serve';
import { openApp, VIEWPORTS, type AppFixture } from './lib/app-fixture';
import { STEPS_CSV_HEADER } from '../../src/renderer/src/stores/training';

describe('training curves after a reload, with smoothing, zoom and CSV download', () => {
  let fx: AppFixture;

  beforeAll(async () => {
    // this spec checks the renderer as it is now, not an older out/web
    await ensureWebBuild({ out: () => {}, err: () => {} }, { force: true });
    fx = await openApp({ viewport: VIEWPORTS.wide });
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('stores every step of a tiny run and charts them after a reload', async () => {
    const { core, page, byId } = fx;
    await fx.job(() =>
      core.request('train.start', { kind: 'train', config: { model: 'tiny', inputSize: 48, batch: 16, epochs: 2, nets: 3 } }),
    );
    const stored = await core.request('runs.steps', { runId: 1, full: true });
    expect(stored.stored).toBeGreaterThan(2);
    expect(stored.steps.map((s) => s.x)).toEqual([...stored.steps.map((s) => s.x)].sort((a, b) => a - b));

    await fx.open();
    await page.reload();
    await byId('view-project').waitFor();
    await byId('nav-train').click();
    await byId('run-1').waitFor();
    const chart = byId('chart-loss');
    // three series (total, supervised, consistency), one point per stored step each: more than the 2 epochs
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 }).toBe(3 * stored.stored);
    expect(await chart.locator('figcaption').textContent()).toContain('Loss per step');

    // smoothing changes the drawn line; 0 draws the raw one
    const line = byId('chart-loss-line');
    const smoothed = await line.getAttribute('d');
    await byId('chart-loss-smoothing').fill('0.95');
    await expect.poll(() => line.getAttribute('d')).not.toBe(smoothed);
    await expect.poll(() => chart.getAttribute('data-smoothing')).toBe('0.95');
    await byId('chart-loss-smoothing').fill('0');
    const raw = await line.getAttribute('d');
    expect(raw).not.toBe(smoothed);
    await byId('chart-loss-smoothing').fill('0.6');

    // log scale
    await byId('chart-loss-log').check();
    await expect.poll(() => chart.getAttribute('data-log')).toBe('true');
    await expect.poll(() => line.getAttribute('d')).not.toBe(smoothed);
    await byId('chart-loss-log').uncheck();

    // drag a range to zoom; double-click resets, and so does the Reset button
    const box = (await chart.locator('svg').boundingBox())!;
    const drag = async () => {
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.5, { steps: 5 });
      await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 5 });
      await page.mouse.up();
    };
    await drag();
    await expect.poll(() => chart.getAttribute('data-zoomed')).toBe('true');
    expect(Number(await chart.getAttribute('data-points'))).toBeLessThan(3 * stored.stored);
    await chart.locator('svg').dblclick();
    await expect.poll(() => chart.getAttribute('data-zoomed')).toBe('false');
    await drag();
    await expect.poll(() => chart.getAttribute('data-zoomed')).toBe('true');
    await byId('chart-loss-reset').click();
    await expect.poll(() => chart.getAttribute('data-zoomed')).toBe('false');
    expect(Number(await chart.getAttribute('data-points'))).toBe(3 * stored.stored);

    // the CSV has a header and one row per stored step, at full resolution
    const [download] = await Promise.all([page.waitForEvent('download'), byId('chart-loss-csv').click()]);
    expect(download.suggestedFilename()).toBe('concord-run-1-steps.csv');
    const csv = readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\n');
    expect(csv[0]).toBe(STEPS_CSV_HEADER.join(','));
    expect(csv).toHaveLength(stored.stored + 1);
    expect(csv.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(stored.steps.map((s) => s.x));
    expect(Number(csv[1]!.split(',')[3])).toBeCloseTo(stored.steps[0]!.loss.total, 6);

    // the lr chart's tick labels sit inside the chart (the margin follows the labels)
    const lr = byId('chart-lr');
    const lrBox = (await lr.locator('svg').boundingBox())!;
    for (const t of await lr.locator('svg text').all()) {
      const b = await t.boundingBox();
      if (b) expect(b.x).toBeGreaterThanOrEqual(lrBox.x - 0.5);
    }
    await fx.shotBoth('train');
    expect(fx.pageErrors).toEqual([]);
  });

  it('runs the preselected backend-default preset with one ETA that freezes while paused, then compares the runs', async () => {
    const { core, page, byId } = fx;
    // preselected, and it says what will run: this machine trains on a CPU backend
    await expect.poll(() => byId('preset-auto').getAttribute('class')).toContain('primary');
    await expect
      .poll(() => byId('train-recipe').textContent())
      .toContain('tiny at 48 px, 10 epochs, from the shipped pretrained weights (CPU)');
    await byId('train-start').click();
    await byId('train-job').waitFor();
    await expect.poll(() => byId('train-job').textContent(), { timeout: 180_000 }).toContain('run 2');
    expect(await byId('train-job').textContent()).toContain('Training');
    expect(await byId('train-job').textContent()).not.toContain('train.train');
    await expect.poll(() => byId('eta').textContent(), { timeout: 120_000 }).toMatch(/ETA \d/);
    await byId('train-pause').click();
    await expect.poll(() => byId('train-status').textContent(), { timeout: 60_000 }).toBe('paused');
    await expect.poll(() => byId('eta').textContent()).toContain('(paused)');
    const frozen = await byId('eta').textContent();
    await page.evaluate(() => window.scrollTo(0, 0));
    await fx.shotBoth('train-paused');
    expect(await byId('eta').textContent()).toBe(frozen);
    // one ETA on the page: the run header no longer shows a second, per-epoch one
    expect(await page.getByText(/ETA/).count()).toBe(1);
    await byId('train-resume').click();
    await expect.poll(() => byId('train-status').textContent()).toBe('running');
    await expect.poll(() => byId('train-job').getAttribute('data-status'), { timeout: 480_000, interval: 1000 }).toBe('done');

    // the core filled the recipe: what the trainer's defaultRecipe picks for a CPU backend
    const runs = await core.request('runs.list', {});
    const run2 = runs.find((r) => r.id === 2)!;
    expect(run2.config).toMatchObject({ model: 'tiny', inputSize: 48, epochs: 10, batch: 16 });
    expect(run2.config.init).toMatchObject({ shipped: true });

    await byId('compare-1').check();
    await byId('compare-2').check();
    const compare = byId('run-compare');
    await compare.waitFor();
    expect(await compare.getAttribute('data-runs')).toBe('2');
    const keys = await byId('compare-diff')
      .locator('[data-testid=diff-row]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    expect(keys).toContain('epochs');
    // nested settings are flattened (the UI sends augment probabilities the core run left at their defaults)
    expect(keys.some((k) => k!.startsWith('augment.'))).toBe(true);
    expect(keys.every((k) => !k!.includes('{'))).toBe(true);
    expect(await byId('compare-diff').textContent()).not.toContain('{"');
    const epochsRow = byId('compare-diff').locator('[data-key=epochs] td');
    expect(await epochsRow.allTextContents()).toEqual(['epochs', '2', '10']);
    // one line per run in each overlaid chart, with a legend
    const loss = byId('compare-loss');
    await expect.poll(async () => Number(await loss.getAttribute('data-points'))).toBe(2 + 10);
    expect(await loss.locator('path[data-series]').count()).toBe(2);
    expect(await loss.locator('.legend').allTextContents()).toEqual(['run 1', 'run 2']);
    await page.evaluate(() => window.scrollTo(0, 0));
    await fx.shotBoth('compare');
    expect(fx.pageErrors).toEqual([]);
  });
});
