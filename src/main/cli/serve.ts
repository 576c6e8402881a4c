// `concord serve` (the headless host in a browser) and `concord start` (the desktop app, or the
// headless host where the Electron binary is missing).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, type Options } from './args';
import type { Io } from './io';
import type { ConcordCore } from '../../shared/api';
import { isLoopbackHost } from '../server/http';

/** The repository root (this file is src/main/cli/serve.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const WEB_DIR = join(REPO_ROOT, 'out/web');

/** serve and start print their own usage line, so they take no --json and catch the parse error themselves. */
const parseServe = (args: string[], options: Options) => parse(args, options, { json: false });

/** Build the renderer for the browser host (out/web) with vite, unless it is there already. */
export async function ensureWebBuild(io: Io, opts: { force?: boolean } = {}): Promise<string> {
  if (!opts.force && existsSync(join(WEB_DIR, 'index.html'))) return WEB_DIR;
  io.err('building the web renderer (out/web)…');
  const { build } = await import('vite');
  await build({ configFile: join(REPO_ROOT, 'vite.web.config.ts'), logLevel: 'warn' });
  if (!existsSync(join(WEB_DIR, 'index.html'))) throw new Error(`vite build finished but ${WEB_DIR}/index.html is missing`);
  return WEB_DIR;
}

export interface HostHandle {
  url: string;
  core: ConcordCore;
  close(): Promise<void>;
}

/** Open the project's core and put the headless host in front of it. */
export async function startHost(
  project: string,
  io: Io,
  opts: { port?: number; host?: string; allowRemote?: boolean; allowedRoots?: string[]; token?: string } = {},
): Promise<HostHandle> {
  const staticDir = await ensureWebBuild(io);
  const { createCore } = await import('../core/app');
  const { startServer } = await import('../server/http');
  // The browser may name data folders only inside these (the project is always allowed).
  const allowedRoots = opts.allowedRoots ?? [process.cwd(), dirname(project)];
  const core = await createCore(project, { allowedRoots });
  try {
    const server = await startServer({
      core,
      staticDir,
      port: opts.port ?? 0,
      host: opts.host,
      allowRemote: opts.allowRemote,
      token: opts.token,
      log: io.err,
    });
    const url = `${server.url}?token=${server.token}`;
    return {
      url,
      core,
      close: async () => {
        await server.close();
        await core.close();
      },
    };
  } catch (e) {
    await core.close();
    throw e;
  }
}

/** Resolve when the process is asked to stop (Ctrl-C, SIGTERM). */
function untilStopped(): Promise<string> {
  return new Promise((ok) => {
    const stop = (sig: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      ok(sig);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

async function serveUntilStopped(project: string, io: Io, opts: Parameters<typeof startHost>[2], banner: string[] = []): Promise<number> {
  const host = await startHost(project, io, opts);
  for (const line of banner) io.out(line);
  io.out(`Concord is serving ${project}`);
  io.out(`open ${host.url}`);
  io.out('(the token in the URL is required; Ctrl-C stops the server and cancels a running job cleanly)');
  await untilStopped();
  io.err('stopping…');
  await host.close();
  return 0;
}

export async function serveCommand(args: string[], io: Io): Promise<number> {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseServe(args, {
      port: { type: 'string' },
      host: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      data: { type: 'string', multiple: true },
      rebuild: { type: 'boolean' },
    }));
  } catch (e) {
    io.err(
      `concord serve: ${(e as Error).message}\nusage: concord serve <project> [--port P] [--host H] [--allow-remote] [--data DIR]... [--rebuild]`,
    );
    return 2;
  }
  const project = positionals[0];
  if (!project) {
    io.err(
      'concord serve: a project folder is required\nusage: concord serve <project> [--port P] [--host H] [--allow-remote] [--data DIR]...',
    );
    return 2;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.err(`concord serve: --port must be 0-65535, got ${String(values.port)}`);
    return 2;
  }
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  const allowRemote = Boolean(values['allow-remote']);
  if (!isLoopbackHost(host) && !allowRemote) {
    io.err(
      `concord serve: --host ${host} is reachable from other machines; add --allow-remote to mean it (anyone with the token can then use this project)`,
    );
    return 2;
  }
  if (values.rebuild) await ensureWebBuild(io, { force: true });
  const dir = resolve(project);
  const { isProjectDir } = await import('../../store/db');
  const banner = isProjectDir(dir) ? [] : [`new project at ${dir}`];
  const data = (values.data as string[] | undefined)?.map((d) => resolve(d));
  return serveUntilStopped(dir, io, { port, host, allowRemote, allowedRoots: data ? [...data, process.cwd()] : undefined }, banner);
}

/** Make (once) and return the demo project under ~/.concord/demo, importing the generated data. */
export async function ensureDemoProject(io: Io, root = join(homedir(), '.concord', 'demo')): Promise<string> {
  const project = join(root, 'project');
  const data = join(root, 'data');
  const { isProjectDir } = await import('../../store/db');
  if (isProjectDir(project)) return project;
  const { generateDemoData } = await import('../core/demo/generate');
  io.err(`making a demo dataset in ${data} …`);
  await generateDemoData({ outDir: data, videos: 8, frames: 120, encodeVideos: false, overwrite: true });
  const { createCore } = await import('../core/app');
  const core = await createCore(project);
  try {
    const job = await core.request('import.abaw', { annotations: join(data, 'annotations'), frames: join(data, 'cropped_aligned') });
    await new Promise<void>((ok, fail) => {
      const offs = [
        core.on('job.done', (e) => e.jobId === job.jobId && (offs.forEach((o) => o()), ok())),
        core.on('job.error', (e) => e.jobId === job.jobId && (offs.forEach((o) => o()), fail(new Error(`demo import failed: ${e.error}`)))),
      ];
    });
  } finally {
    await core.close();
  }
  return project;
}

export async function startCommand(args: string[], io: Io): Promise<number> {
  let positionals: string[];
  try {
    ({ positionals } = parseServe(args, {}));
  } catch (e) {
    io.err(`concord start: ${(e as Error).message}\nusage: concord start [project]`);
    return 2;
  }
  const project = positionals[0] ? resolve(positionals[0]) : null;
  const { electronStatus } = await import('./doctor');
  const electron = await electronStatus();
  if (electron.ok && electron.path) {
    const mainJs = join(REPO_ROOT, 'out/main/index.js');
    if (!existsSync(mainJs)) {
      io.err('building the desktop app (electron-vite build)…');
      const { build } = await import('electron-vite');
      await build({ configFile: join(REPO_ROOT, 'electron.vite.config.ts'), root: REPO_ROOT });
    }
    const child = spawn(electron.path, [mainJs, ...(project ? [project] : [])], { stdio: 'inherit', cwd: REPO_ROOT });
    return new Promise((ok) => {
      child.on('exit', (code) => ok(code ?? 0));
      child.on('error', (e) => {
        io.err(`concord start: could not launch Electron (${e.message})`);
        ok(1);
      });
    });
  }
  const target = project ?? (await ensureDemoProject(io));
  return serveUntilStopped(target, io, {}, [
    `The desktop app is not available here: ${electron.reason}.`,
    'Running the same app in your browser instead (the Electron binary is fetched on first launch where the network allows).',
    ...(project ? [] : ['No project given: opening the demo project (synthetic faces with known label noise).']),
  ]);
}
