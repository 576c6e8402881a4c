// The shared setup of the browser specs: demo data on disk, a real core behind the real HTTP host,
// and Chromium. With `flags`, the project also gets one finished run whose predictions are seeded
// from the demo's ground truth (each network puts ~0.8 on the true class), then scored by the core,
// so the UI specs review real flags without spending minutes training. The default-path spec trains
// for real; these test the views.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import { generateDemoData, type DemoSummary } from '../../../src/main/core/demo/generate';
import { createCore } from '../../../src/main/core/app';
import { startServer, type RunningServer } from '../../../src/main/server/http';
import { openDb } from '../../../src/store/db';
import { createRun, updateRun } from '../../../src/store/runs';
import { putPredictions } from '../../../src/store/predictions';
import type { ConcordCore, Events, JobInfo } from '../../../src/shared/api';
import { tempDir } from '../../helpers/tmp';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENS = join(process.cwd(), 'test-results', 'screens');
export const VIEWPORTS = { wide: { width: 1440, height: 900 }, narrow: { width: 1280, height: 800 } } as const;

export interface AppOptions {
  videos?: number;
  frames?: number;
  seed?: number;
  /** import the demo's ABAW folders (default true) */
  imported?: boolean;
  /** seed one finished run's predictions from the ground truth and score flags (implies imported) */
  flags?: boolean;
  viewport?: { width: number; height: number };
  /** open this project (made elsewhere, e.g. the demo `npm start` opens) instead of generating one; data holds its demo.json and ground_truth.csv */
  existing?: { root: string; data: string; project: string };
}

export interface GroundTruthRow {
  video: string;
  frame: number;
  trueLabel: number;
  givenLabel: number;
}

export interface AppFixture {
  root: string;
  data: string;
  project: string;
  demo: DemoSummary;
  truth: GroundTruthRow[];
  core: ConcordCore;
  server: RunningServer;
  browser: Browser;
  page: Page;
  pageErrors: string[];
  byId(id: string): ReturnType<Page['getByTestId']>;
  /** a full-page screenshot at the page's viewport, test-results/screens/<name>.png */
  shot(name: string): Promise<void>;
  /** the same view at 1440x900 and 1280x800: <name>-1440.png, <name>-1280.png (the viewport is restored) */
  shotBoth(name: string): Promise<void>;
  /** opens the app with the token (the HttpOnly cookie keeps the session for reloads) */
  open(): Promise<void>;
  /** runs a job-starting request and resolves with the job's result (rejects on job.error) */
  job(start: () => Promise<JobInfo>): Promise<unknown>;
  close(): Promise<void>;
}

/** Runs a job-starting request to its end, with the listeners in place before the request. */
export function runJob(core: ConcordCore, start: () => Promise<JobInfo>): Promise<unknown> {
  let id: string | null = null;
  const early: { jobId: string; ok: boolean; value: unknown }[] = [];
  let settle: ((ok: boolean, value: unknown) => void) | null = null;
  const offs = [
    core.on('job.done', (e: Events['job.done']) =>
      id === e.jobId && settle ? settle(true, e.result) : early.push({ jobId: e.jobId, ok: true, value: e.result }),
    ),
    core.on('job.error', (e: Events['job.error']) =>
      id === e.jobId && settle ? settle(false, e.error) : early.push({ jobId: e.jobId, ok: false, value: e.error }),
    ),
  ];
  return new Promise((resolve, reject) => {
    settle = (ok, value) => {
      offs.forEach((off) => off());
      if (ok) resolve(value);
      else reject(new Error(`job ${id} failed: ${String(value)}`));
    };
    start().then((j) => {
      id = j.jobId;
      const seen = early.find((e) => e.jobId === id);
      if (seen) settle!(seen.ok, seen.value);
    }, reject);
  });
}

export function readGroundTruth(data: string): GroundTruthRow[] {
  const lines = readFileSync(join(data, 'ground_truth.csv'), 'utf8').trimEnd().split('\n').slice(1);
  return lines.map((l) => {
    const [video, frame, t, g] = l.split(',');
    return { video: video!, frame: Number(frame), trueLabel: Number(t), givenLabel: Number(g) };
  });
}

/** One finished run whose 3 networks each put ~0.8 (jittered) on the true class of every frame. */
function seedPredictions(project: string, truth: GroundTruthRow[], seed: number): number {
  const db = openDb(project);
  try {
    const byRef = new Map(truth.map((r) => [`${r.video}:${r.frame}`, r.trueLabel]));
    const frames = db
      .prepare('SELECT f.id AS id, v.name AS video, f.idx AS idx FROM frames f JOIN videos v ON v.id = f.video_id')
      .all() as {
      id: number;
      video: string;
      idx: number;
    }[];
    const runId = createRun(db, { kind: 'train', config: { nets: 3, model: 'tiny', inputSize: 48, seeded: 'ground truth' } });
    let s = seed >>> 0;
    const rand = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const rows = [];
    for (const f of frames) {
      const t = byRef.get(`${f.video}:${f.idx}`);
      if (t === undefined || t < 0) continue;
      const probs = new Float32Array(3 * 7);
      for (let n = 0; n < 3; n++) {
        const top = 0.7 + 0.2 * rand();
        for (let c = 0; c < 7; c++) probs[n * 7 + c] = c === t ? top : (1 - top) / 6;
      }
      rows.push({ frameId: f.id, probs });
    }
    putPredictions(db, runId, 3, 7, rows);
    updateRun(db, runId, { status: 'done', backend: 'cpu', device: 'seeded from ground truth', finished: true });
    return runId;
  } finally {
    db.close();
  }
}

/** Chromium as the specs run it: headless, no sandbox (containers), no GPU, nothing phoning home. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/**
 * The renderer built from the current sources into a folder of this process's own (once per
 * process: the specs share one vitest fork), so a spec never serves a stale out/web and two
 * people running specs at once never build over each other.
 */
async function webBuild(): Promise<string> {
  const dir = join(tmpdir(), `concord-e2e-web-${process.pid}`);
  if (process.env.CONCORD_E2E_WEB === dir && existsSync(join(dir, 'index.html'))) return dir;
  await build({ configFile: join(process.cwd(), 'vite.web.config.ts'), logLevel: 'warn', build: { outDir: dir, emptyOutDir: true } });
  process.env.CONCORD_E2E_WEB = dir;
  return dir;
}

export async function openApp(opts: AppOptions = {}): Promise<AppFixture> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  mkdirSync(SCREENS, { recursive: true });
  const staticDir = await webBuild();
  const root = opts.existing?.root ?? tempDir('concord e2e é ');
  const data = opts.existing?.data ?? join(root, 'demo data');
  const project = opts.existing?.project ?? join(root, 'project');
  const seed = opts.seed ?? 3;
  const demo = opts.existing
    ? (JSON.parse(readFileSync(join(data, 'demo.json'), 'utf8')) as DemoSummary)
    : await generateDemoData({ outDir: data, videos: opts.videos ?? 4, frames: opts.frames ?? 30, size: 64, encodeVideos: false, seed });
  const truth = readGroundTruth(data);
  let core = await createCore(project, { allowedRoots: [root] });
  if (!opts.existing && (opts.imported !== false || opts.flags)) {
    await runJob(core, () =>
      core.request('import.abaw', { annotations: join(data, 'annotations'), frames: join(data, 'cropped_aligned') }),
    );
  }
  if (opts.flags) {
    await core.close();
    const runId = seedPredictions(project, truth, seed);
    core = await createCore(project, { allowedRoots: [root] });
    await runJob(core, () => core.request('flags.score', { runId }));
  }
  const server = await startServer({ core, staticDir, port: 0 });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: opts.viewport ?? VIEWPORTS.wide, acceptDownloads: true });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(30_000);
  const shot = async (name: string) => {
    await page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true });
  };
  return {
    root,
    data,
    project,
    demo,
    truth,
    core,
    server,
    browser,
    page,
    pageErrors,
    byId: (id) => page.getByTestId(id),
    shot,
    async shotBoth(name) {
      const before = page.viewportSize();
      for (const [w, v] of [
        ['1440', VIEWPORTS.wide],
        ['1280', VIEWPORTS.narrow],
      ] as const) {
        await page.setViewportSize(v);
        await page.waitForTimeout(150);
        await shot(`${name}-${w}`);
      }
      if (before) await page.setViewportSize(before);
    },
    async open() {
      await page.goto(`${server.url}?token=${server.token}`);
      await page.getByTestId('view-project').waitFor();
    },
    job: (start) => runJob(core, start),
    async close() {
      await browser.close().catch(() => {});
      await server.close().catch(() => {});
      await core.close().catch(() => {});
    },
  };
}
