// The desktop shell itself, driven through playwright's Electron support. Runs only where the
// Electron binary is present (it is fetched on first launch; this machine may not have it), and
// says so in the test name when it cannot run. Needs better-sqlite3 built for Electron
// (`npm run rebuild:electron`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { electronStatus } from '../../src/main/cli/doctor';
import { generateDemoData } from '../../src/main/core/demo/generate';
import { createCore } from '../../src/main/core/app';
import { tempDir } from '../helpers/tmp';

const status = await electronStatus();
const hasBinary = status.ok && !!status.path;
const why = hasBinary ? '' : ' (skipped: no Electron binary on this machine)';

describe('the desktop app', () => {
  let app: ElectronApplication;
  let page: Page;
  let project: string;
  let frames = 0;

  beforeAll(async () => {
    if (!hasBinary) return;
    const root = tempDir('concord electron ');
    const data = join(root, 'data');
    project = join(root, 'project');
    const demo = await generateDemoData({ outDir: data, videos: 2, frames: 20, size: 64, encodeVideos: false });
    frames = demo.tracks.reduce((a, t) => a + t.frames, 0);
    const core = await createCore(project);
    const job = await core.request('import.abaw', { annotations: join(data, 'annotations'), frames: join(data, 'cropped_aligned') });
    await new Promise<void>((ok, fail) => {
      core.on('job.done', (e) => e.jobId === job.jobId && ok());
      core.on('job.error', (e) => e.jobId === job.jobId && fail(new Error(e.error)));
    });
    await core.close();
    // always rebuild: the spec must test this tree, not an old bundle
    const { build } = await import('electron-vite');
    await build({ configFile: 'electron.vite.config.ts' });
    expect(existsSync('out/main/index.js')).toBe(true);
    app = await _electron.launch({
      executablePath: status.path!,
      args: ['out/main/index.js', project],
      env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' },
    });
    page = await app.firstWindow();
  });

  afterAll(async () => {
    await app?.close();
  });

  it.skipIf(!hasBinary)(`opens the project given on the command line and shows its dataset${why}`, async () => {
    await page.getByTestId('view-project').waitFor();
    await expect.poll(() => page.getByTestId('stat-frames').textContent()).toBe(String(frames));
    expect(page.url()).toBe('concord://app/index.html#/project');
  });

  it.skipIf(!hasBinary)(`exposes named actions only: no Node, no ipcRenderer${why}`, async () => {
    const seen = await page.evaluate(() => ({
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      keys: Object.keys((window as unknown as { concord: object }).concord).sort(),
    }));
    expect(seen.require).toBe('undefined');
    expect(seen.process).toBe('undefined');
    expect(seen.keys).toContain('reviewDecide');
    expect(seen.keys).toContain('onTrainEpoch');
    expect(seen.keys.some((k) => /ipc|send|invoke/i.test(k))).toBe(false);
    const info = await page.evaluate(() =>
      (window as unknown as { concord: { projectInfo(): Promise<{ frames: number }> } }).concord.projectInfo(),
    );
    expect(info.frames).toBe(frames);
  });

  it.skipIf(!hasBinary)(`refuses navigation and new windows${why}`, async () => {
    const opened = await page.evaluate(() => window.open('https://example.com') === null);
    expect(opened).toBe(true);
    await page.evaluate(() => {
      location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url().startsWith('concord://app/')).toBe(true);
    expect(app.windows()).toHaveLength(1);
  });

  it.skipIf(!hasBinary)(`serves frame crops by id through its own protocol${why}`, async () => {
    const ok = await page.evaluate(async () => (await fetch('concord://app/frames/1.jpg')).status);
    expect(ok).toBe(200);
    const traversal = await page.evaluate(async () => (await fetch('concord://app/..%2f..%2fpackage.json')).status);
    expect(traversal).not.toBe(200);
  });
});
