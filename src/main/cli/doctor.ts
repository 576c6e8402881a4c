// `concord doctor`: what this machine can run, and why each missing piece is missing.
import type { Io } from './io';

export interface DoctorReport {
  node: string;
  platform: string;
  cpus: number;
  ffmpeg: { ok: boolean; path?: string; source?: string; version?: string; error?: string };
  backends: import('../../trainer/backend').BackendProbe[];
  selectedBackend: string | null;
  electron: { ok: boolean; reason: string };
  sqlite: { ok: boolean; version?: string; error?: string };
}

export async function doctorReport(): Promise<DoctorReport> {
  const os = await import('node:os');
  const report: DoctorReport = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.availableParallelism(),
    ffmpeg: { ok: false },
    backends: [],
    selectedBackend: null,
    electron: { ok: false, reason: '' },
    sqlite: { ok: false },
  };
  try {
    const { resolveFfmpeg } = await import('../core/ingest/ffmpeg');
    const f = await resolveFfmpeg();
    report.ffmpeg = { ok: true, path: f.path, source: f.source, version: f.version };
  } catch (e) {
    report.ffmpeg = { ok: false, error: (e as Error).message };
  }
  try {
    const { probeBackends } = await import('../../trainer/backend');
    report.backends = await probeBackends();
    report.selectedBackend = report.backends.find((b) => b.usable && b.auto !== false)?.name ?? null;
  } catch (e) {
    report.backends = [{ name: 'cpu', usable: false, reason: `tfjs failed to load: ${(e as Error).message}` }];
  }
  report.electron = await electronStatus();
  try {
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(':memory:');
    report.sqlite = { ok: true, version: (db.prepare('select sqlite_version() v').get() as { v: string }).v };
    db.close();
  } catch (e) {
    report.sqlite = { ok: false, error: (e as Error).message };
  }
  return report;
}

/**
 * Whether the Electron binary is present, checked without `require('electron')`: from Electron 42
 * requiring it starts a download, which must not happen inside a status check.
 */
export async function electronStatus(): Promise<{ ok: boolean; reason: string; path?: string }> {
  const { createRequire } = await import('node:module');
  const { existsSync, readFileSync } = await import('node:fs');
  const { dirname, join } = await import('node:path');
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { ok: false, reason: 'the electron package is not installed (npm ci installs it as a dev dependency)' };
  }
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, 'electron');
    return existsSync(p)
      ? { ok: true, reason: `Electron binary at ${p}`, path: p }
      : { ok: false, reason: `ELECTRON_OVERRIDE_DIST_PATH has no electron binary (${p})` };
  }
  const pathFile = join(dir, 'path.txt');
  const exe = existsSync(pathFile) ? join(dir, 'dist', readFileSync(pathFile, 'utf8')) : null;
  if (exe && existsSync(exe)) return { ok: true, reason: `Electron binary at ${exe}`, path: exe };
  return {
    ok: false,
    reason:
      'Electron binary not downloaded yet: it is fetched on first launch (`npx install-electron` fetches it now; ELECTRON_MIRROR for mirrors); until then `concord serve` runs the same app in a browser',
  };
}

export async function doctorCommand(values: Record<string, unknown>, io: Io): Promise<number> {
  const r = await doctorReport();
  if (values.json) {
    io.out(JSON.stringify(r));
    return 0;
  }
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'no  ');
  io.out(`node ${r.node} on ${r.platform}, ${r.cpus} CPUs`);
  io.out(`${mark(r.sqlite.ok)}sqlite ${r.sqlite.version ?? r.sqlite.error}`);
  io.out(r.ffmpeg.ok ? `ok  ffmpeg ${r.ffmpeg.version} from ${r.ffmpeg.source} (${r.ffmpeg.path})` : `no  ffmpeg: ${r.ffmpeg.error}`);
  for (const b of r.backends) {
    io.out(`${mark(b.usable)}tfjs backend ${b.name}${b.version ? ` ${b.version}` : ''}${b.device ? ` on ${b.device}` : ''}: ${b.reason}`);
    if (b.adapter) {
      const a = b.adapter;
      const limits = Object.entries(a.limits)
        .map(([k, v]) => `${k} ${v >= 1 << 20 ? `${Math.round(v / (1 << 20))} MiB` : v}`)
        .join(', ');
      io.out(`      adapter: vendor '${a.vendor}', architecture '${a.architecture}', device '${a.device}', ${a.description}`);
      io.out(
        `      Dawn backend ${a.dawnBackend} (${a.featureLevel}); shader-f16 ${a.features.includes('shader-f16') ? 'yes' : 'no'}; ${limits}`,
      );
    }
    for (const t of b.attempts ?? []) io.out(`      tried ${t.backend}: ${t.result}`);
  }
  io.out(`training will use: ${r.selectedBackend ?? 'nothing (no usable backend)'}`);
  io.out(`${mark(r.electron.ok)}electron: ${r.electron.reason}`);
  return 0;
}
