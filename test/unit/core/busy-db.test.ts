// Issue 11 item 2: while ANOTHER process holds the project's write lock, reads answer at once,
// a decision answers BusyError / 503 + Retry-After within about a second, and works once it is free.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCore, type Core } from '../../../src/main/core/app';
import { startServer, type RunningServer } from '../../../src/main/server/http';
import { scoreRun } from '../../../src/main/core/review/flags';
import { main } from '../../../src/main/cli';
import { BusyError } from '../../../src/shared/errors';
import { DB_FILE } from '../../../src/store/db';
import { addRun, makeProject, nets, peaked, type TestProject } from '../store/fixtures';
import { FAKE_JPEG, tempDir } from '../../helpers/tmp';

/** Holds BEGIN IMMEDIATE on the database from its own process until stdin closes or `ms` pass. */
const HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
const done = () => { db.exec('COMMIT'); db.close(); process.exit(0); };
process.stdin.on('data', done);
process.stdin.on('end', done);
setTimeout(done, Number(process.argv[2]));
`;

function holdWriteLock(file: string, ms: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', HOLDER, file, String(ms)], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((ok, fail) => {
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => String(d).includes('locked') && ok(child));
    child.on('exit', (code) => fail(new Error(`lock holder exited ${code} before locking: ${err}`)));
  });
}

function release(child: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    if (child.exitCode !== null) return ok();
    child.removeAllListeners('exit');
    child.on('exit', () => ok());
    child.stdin!.end('go\n');
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

let p: TestProject | null = null;
let core: Core | null = null;
let server: RunningServer | null = null;
let holder: ChildProcess | null = null;
afterEach(async () => {
  if (holder) await release(holder);
  await server?.close();
  await core?.close();
  p?.cleanup();
  p = core = server = holder = null;
});

/** Video v, 6 frames labelled 0 with crops on disk; frames 2..5 flagged 0 → 4. */
function project(): TestProject {
  const t = makeProject([{ name: 'v', labels: [0, 0, 0, 0, 0, 0] }]);
  mkdirSync(join(t.dir, 'crops', 'v'), { recursive: true });
  for (let i = 1; i <= 6; i++) writeFileSync(join(t.dir, 'crops', 'v', `${String(i).padStart(5, '0')}.jpg`), FAKE_JPEG);
  const f = (i: number) => t.frame('v', i);
  addRun(
    t.db,
    3,
    [1, 2, 3, 4, 5, 6].map((i) => [f(i), nets(...[0, 1, 2].map(() => peaked(i >= 2 && i <= 5 ? 4 : 0)))] as [number, Float32Array]),
  );
  expect(scoreRun(t.db).flagged).toBe(4);
  return t;
}

describe('a database locked by another process', () => {
  it('reads answer at once; a decision answers 503 + Retry-After within ~1 s, and succeeds after the lock is released', async () => {
    p = project();
    core = await createCore(p.dir);
    server = await startServer({ core, staticDir: tempDir() });
    const auth = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' };
    const api = (name: string, body: unknown) =>
      fetch(`${server!.url}api/${name}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    const frame2 = p.frame('v', 2);

    holder = await holdWriteLock(join(p.dir, DB_FILE), 20_000);

    // (a) reads: the queue, a frame's detail, its image, and runs.list (which also tries a small write)
    const q = await timed(async () => (await (await api('review.queue', {})).json()) as { result: { items: { frameId: number }[] } });
    expect(q.value.result.items.map((i) => i.frameId).sort()).toEqual([2, 3, 4, 5].map((i) => p!.frame('v', i)).sort());
    expect(q.ms).toBeLessThan(1000);
    const img = await timed(async () => {
      const r = await fetch(`${server!.url}frames/${frame2}.jpg`, { headers: auth });
      return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
    });
    expect(img.value.status).toBe(200);
    expect(img.value.body.equals(FAKE_JPEG)).toBe(true);
    expect(img.ms).toBeLessThan(1000);
    const detail = await timed(() => core!.request('review.frame', { frameId: frame2 }));
    expect(detail.value.flag?.suggested).toBe(4);
    expect(detail.ms).toBeLessThan(1000);
    const runs = await timed(() => core!.request('runs.list', {}));
    expect(runs.value).toHaveLength(1);
    expect(runs.ms).toBeLessThan(1000);

    // (b) a decision: 503, Retry-After, the message the UI shows, within ~1 s (bound 1.5 s)
    const busy = await timed(() => api('review.decide', { frameIds: [frame2], action: 'accept' }));
    expect(busy.value.status).toBe(503);
    expect(busy.value.headers.get('retry-after')).toBe('1');
    expect(((await busy.value.json()) as { error: string }).error).toMatch(/database is busy.*try again/);
    expect(busy.ms).toBeLessThan(1500);
    // the core itself rejects with a BusyError (what the Electron host and the CLI see)
    const direct = await timed(() =>
      core!.request('review.undo', {}).then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(direct.value).toBeInstanceOf(BusyError);
    expect(direct.ms).toBeLessThan(1500);
    expect(p.db.prepare('SELECT COUNT(*) AS n FROM decisions').get()).toEqual({ n: 0 });

    // (c) once the other process lets go, the same decision goes through
    await release(holder);
    holder = null;
    const ok = await api('review.decide', { frameIds: [frame2], action: 'accept' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: { decided: number } }).result.decided).toBe(1);
    expect(p.db.prepare('SELECT current_label AS c FROM labels WHERE frame_id = ?').get(frame2)).toEqual({ c: 4 });
  }, 30_000);

  it('a job that cannot get the lock fails in words, and the CLI prints one line', async () => {
    p = project();
    core = await createCore(p.dir);
    holder = await holdWriteLock(join(p.dir, DB_FILE), 20_000);

    const failed = new Promise<string>((ok) => core!.on('job.error', (e) => ok(e.error)));
    await core.request('flags.score', {});
    const t0 = performance.now();
    expect(await failed).toMatch(/^flags\.score stopped: the project database was busy/);
    expect(performance.now() - t0).toBeLessThan(5000);

    const err: string[] = [];
    const code = await main(['decide', p.dir, '--frame', 'v:2', '--action', 'accept'], { out: () => {}, err: (s) => err.push(s) });
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^concord: the project database is busy/);
    expect(err[0]).not.toMatch(/\n\s+at /);
  }, 30_000);
});
