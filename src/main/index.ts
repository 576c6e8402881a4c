// Electron lifecycle only: single instance, the concord:// protocol, one window, the open project's
// core (with the trainer in a utilityProcess), and a clean stop of running jobs on quit.
import { app, BrowserWindow, dialog, ipcMain, protocol, utilityProcess, type IpcMainInvokeEvent, type OpenDialogOptions } from 'electron';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConcordCore } from '../shared/api';
import { createCore } from './core/app';
import { frameImageOf } from './core/frame-file';
import { sourceFrame, sourceFrameDepsOf } from './core/source-frame';
import { adaptUtilityProcess, type TrainerLauncher } from './core/jobs';
import { isProjectDir } from '../store/db';
import { APP_SCHEME, IPC } from '../shared/contract';
import { bindIpc, forwardEvents } from './ipc';
import { addRecent, readRecent } from './recent-projects';
import { CSP, SCHEME_PRIVILEGES, devServerUrl, hardenApp, hardenSession } from './security';
import { resolveStatic } from './server/static-path';
import { createMainWindow } from './window';

const here = dirname(fileURLToPath(import.meta.url));
const rendererDir = join(here, '../renderer');
const preload = join(here, '../preload/index.cjs');
const trainerEntry = join(here, '../trainer/entry.js');
// import.meta.env.DEV is replaced at build time: true only in the bundle `electron-vite dev` builds
const devUrl = devServerUrl({ isPackaged: app.isPackaged, devBuild: import.meta.env.DEV, env: process.env });
const recentFile = () => join(app.getPath('userData'), 'recent-projects.json');

let win: BrowserWindow | null = null;
let core: ConcordCore | null = null;
let projectDir: string | null = null;
let unforward: (() => void) | null = null;

/** The trainer runs in an Electron utility process, from the built out/trainer/entry.js. */
const launchTrainer: TrainerLauncher = () =>
  adaptUtilityProcess(utilityProcess.fork(trainerEntry, [], { stdio: 'pipe', serviceName: 'Concord trainer' }));

function projectFromArgv(argv: string[]): string | null {
  const args = argv.slice(app.isPackaged ? 1 : 2).filter((a) => !a.startsWith('-'));
  return args[0] ? resolve(args[0]) : (process.env.CONCORD_PROJECT ?? null);
}

async function closeCore(): Promise<void> {
  unforward?.();
  unforward = null;
  const c = core;
  core = null;
  projectDir = null;
  // Cancels a running job cooperatively and waits for the trainer to stop.
  await c?.close();
}

async function openProject(dir: string, create = false): Promise<string> {
  const abs = resolve(dir);
  if (!create && !isProjectDir(abs))
    throw new Error(`${abs} is not a Concord project (no concord.sqlite); use New project to create one there`);
  await closeCore();
  core = await createCore(abs, { launchTrainer });
  projectDir = abs;
  unforward = forwardEvents(core, (event, data) => {
    if (win && !win.isDestroyed()) win.webContents.send(IPC.event, event, data);
  });
  addRecent(recentFile(), abs);
  win?.setTitle(`Concord — ${basename(abs)}`);
  return abs;
}

async function chooseProject(create: boolean, event: IpcMainInvokeEvent): Promise<string | null> {
  const parent = BrowserWindow.fromWebContents(event.sender) ?? undefined;
  const opts: OpenDialogOptions = {
    title: create ? 'New project: choose an empty folder' : 'Open a Concord project folder',
    properties: ['openDirectory', 'createDirectory'],
    buttonLabel: create ? 'Create project here' : 'Open',
  };
  const r = parent ? await dialog.showOpenDialog(parent, opts) : await dialog.showOpenDialog(opts);
  if (r.canceled || !r.filePaths[0]) return null;
  return openProject(r.filePaths[0], create);
}

async function pickPath(kind: 'folder' | 'file', title: string, event: IpcMainInvokeEvent): Promise<string | null> {
  const parent = BrowserWindow.fromWebContents(event.sender) ?? undefined;
  const opts: OpenDialogOptions = { title, properties: kind === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile'] };
  const r = parent ? await dialog.showOpenDialog(parent, opts) : await dialog.showOpenDialog(opts);
  return r.canceled ? null : (r.filePaths[0] ?? null);
}

const MIME: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** concord://app/… : the built renderer, and frame crops by id (never a path from the page). */
async function serveApp(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' };
  if (url.host !== 'app') return new Response('not found', { status: 404, headers });
  const frame = /^\/frames\/(\d{1,15})\.jpg$/.exec(url.pathname);
  if (frame && url.searchParams.get('source') === '1') {
    // the frame at source resolution, extracted from its video (core/source-frame.ts)
    const deps = core ? sourceFrameDepsOf(core) : null;
    const r = deps ? await sourceFrame(deps, Number(frame[1])) : { ok: false as const, status: 404, reason: 'source video not available' };
    if (!r.ok) return new Response(r.reason, { status: r.status, headers });
    try {
      return new Response(await readFile(r.image.file), { headers: { ...headers, 'Content-Type': r.image.type } });
    } catch {
      return new Response('source frame missing on disk', { status: 404, headers });
    }
  }
  if (frame) {
    // The core checks containment; frameImageOf the magic bytes again, and names the type.
    const img = frameImageOf(Number(frame[1]), core?.framePath(Number(frame[1])));
    if (!img) return new Response('no image for this frame', { status: 404, headers });
    try {
      return new Response(await readFile(img.file), { headers: { ...headers, 'Content-Type': img.type } });
    } catch {
      return new Response('image missing on disk', { status: 404, headers });
    }
  }
  const file = resolveStatic(rendererDir, url.pathname);
  if (!file) return new Response('path refused', { status: 403, headers });
  try {
    if (!(await stat(file)).isFile()) throw new Error();
    return new Response(await readFile(file), {
      headers: { ...headers, 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' },
    });
  } catch {
    return new Response('not found', { status: 404, headers });
  }
}

function start(): void {
  protocol.registerSchemesAsPrivileged([SCHEME_PRIVILEGES]);
  hardenApp(app, devUrl);

  app.on('second-instance', (_e, argv) => {
    const p = projectFromArgv(argv);
    if (p && p !== projectDir) void openProject(p).catch((e) => dialog.showErrorBox('Concord', (e as Error).message));
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting || !core) return;
    // Stop a running training cleanly (checkpoint kept) before the process goes.
    e.preventDefault();
    quitting = true;
    void closeCore()
      .catch(() => {})
      .finally(() => app.quit());
  });
  app.on('window-all-closed', () => app.quit());

  void app.whenReady().then(async () => {
    const { session } = await import('electron');
    hardenSession(session.defaultSession, devUrl);
    protocol.handle(APP_SCHEME, serveApp);
    bindIpc(ipcMain, {
      core: () => core,
      devUrl,
      log: (line) => console.warn(`[concord] ${line}`),
      desktop: {
        currentProject: () => projectDir,
        recentProjects: () => readRecent(recentFile()),
        chooseProject,
        openProject: (p) => openProject(p),
        pickPath,
      },
    });
    const initial = projectFromArgv(process.argv);
    if (initial) {
      try {
        await openProject(initial, !isProjectDir(initial));
      } catch (e) {
        dialog.showErrorBox('Concord: could not open the project', (e as Error).message);
      }
    }
    win = createMainWindow({ preload, devUrl, title: projectDir ? `Concord — ${basename(projectDir)}` : 'Concord' });
    win.on('closed', () => (win = null));
  });
}

if (!app.requestSingleInstanceLock()) app.quit();
else start();
