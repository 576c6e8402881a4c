import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { WriterLock, forgetStatements, loadMigrations, openDb, stmt, writeTransaction } from '../../../src/store/db';
import { upsertVideo } from '../../../src/store/dataset';
import { asBusyError, DEFAULT_BUSY_TIMEOUT_MS, isBusy, tryWithoutWaiting } from '../../../src/store/db';
import { BusyError } from '../../../src/shared/errors';
import { tempDir } from '../../helpers/tmp';

describe('project store', () => {
  it('creates a project folder with WAL and every migration applied', () => {
    const dir = join(tempDir(), 'my project ü');
    const db = openDb(dir, { create: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const last = loadMigrations().at(-1)!.version;
    expect(db.pragma('user_version', { simple: true })).toBe(last);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[]).map((t) => t.name);
    for (const t of ['videos', 'frames', 'labels', 'runs', 'epoch_metrics', 'predictions', 'flags', 'decisions', 'exports'])
      expect(tables).toContain(t);
    expect(existsSync(join(dir, 'cache'))).toBe(true);
  });

  it('refuses to open a folder that is not a project', () => {
    expect(() => openDb(tempDir())).toThrow(/is not a Concord project .*`concord init/);
  });

  it('a second writer lock on the same project is refused with the holder named; a stale lock is taken over', () => {
    const dir = tempDir();
    openDb(dir, { create: true }).close();
    const a = new WriterLock(dir, 'import');
    a.acquire();
    // Another process tries the same lock.
    const code = `
      import { WriterLock } from ${JSON.stringify(join(process.cwd(), 'src/store/db.ts'))};
      try { new WriterLock(${JSON.stringify(dir)}, 'import').acquire(); console.log('acquired'); } catch (e) { console.log(e.message); }`;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(out.stdout).toMatch(new RegExp(`busy: process ${process.pid} started a import`));
    a.release();
    const out2 = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(out2.stdout.trim()).toBe('acquired'); // that process exited without releasing: stale now
    const b = new WriterLock(dir, 'import');
    b.acquire();
    b.release();
  });

  it('two connections writing the same project serialise without losing rows', () => {
    const dir = tempDir();
    const d1 = openDb(dir, { create: true });
    const d2 = openDb(dir);
    for (let i = 0; i < 20; i++) {
      const db = i % 2 ? d1 : d2;
      upsertVideo(
        db,
        { name: `v${i}`, split: 'Train_Set', source: 'abaw', labelSet: 'abaw7', header: null, annotationFile: null, framesDir: null },
        { labels: [0, 1, 2], hasFace: [1, 1, 1] },
      );
    }
    expect((d1.prepare('SELECT COUNT(*) n FROM frames').get() as { n: number }).n).toBe(60);
  });

  it('caches one prepared statement per SQL string per connection', () => {
    const dir = tempDir();
    const a = openDb(dir, { create: true });
    const b = openDb(dir);
    const sql = 'SELECT COUNT(*) AS n FROM videos';
    expect(stmt(a, sql)).toBe(stmt(a, sql));
    expect(stmt(b, sql)).not.toBe(stmt(a, sql));
    const cached = stmt(a, sql);
    forgetStatements(a);
    expect(stmt(a, sql)).not.toBe(cached);
    a.close();
    b.close();
  });

  it('gives a caller its own statement while the cached one is still being iterated', () => {
    const dir = tempDir();
    const db = openDb(dir, { create: true });
    upsertVideo(
      db,
      { name: 'v', split: 'Train_Set', source: 'abaw', labelSet: 'abaw7', header: null, annotationFile: null, framesDir: null },
      { labels: [0, 1, 2], hasFace: [1, 1, 1] },
    );
    const sql = 'SELECT idx FROM frames ORDER BY idx';
    const pairs: [number, number][] = [];
    for (const x of stmt(db, sql).pluck().iterate() as Iterable<number>)
      for (const y of stmt(db, sql).pluck().iterate() as Iterable<number>) pairs.push([x, y]);
    expect(pairs).toHaveLength(9);
    expect(stmt(db, sql).busy).toBe(false);
    db.close();
  });

  it('writeTransaction commits the whole function or nothing', () => {
    const dir = tempDir();
    const db = openDb(dir, { create: true });
    const put = (k: string) => stmt(db, 'INSERT INTO project (key, value) VALUES (?, ?)').run(k, 'x');
    expect(() =>
      writeTransaction(db, () => {
        put('a');
        throw new Error('stop');
      }),
    ).toThrow('stop');
    writeTransaction(db, () => put('b'));
    expect(db.prepare('SELECT key FROM project WHERE key IN (?, ?)').pluck().all('a', 'b')).toEqual(['b']);
    db.close();
  });
});

describe('a busy database', () => {
  it('a connection waits as long as it was opened to wait; tryWithoutWaiting skips a locked write at once', () => {
    const dir = tempDir();
    const holder = openDb(dir, { create: true });
    const host = openDb(dir, { busyTimeoutMs: 300 });
    expect(openDb(dir).pragma('busy_timeout', { simple: true })).toBe(DEFAULT_BUSY_TIMEOUT_MS);
    holder.exec('BEGIN IMMEDIATE');
    let t0 = performance.now();
    let err: unknown = null;
    try {
      host.exec("INSERT INTO exports (format, out_path, created_at) VALUES ('csv', 'x', 'now')");
    } catch (e) {
      err = e;
    }
    const waited = performance.now() - t0;
    expect(isBusy(err)).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(asBusyError(err)).toBeInstanceOf(BusyError);
    expect(asBusyError(new Error('other'))).not.toBeInstanceOf(BusyError);

    t0 = performance.now();
    expect(tryWithoutWaiting(host, () => host.prepare("UPDATE exports SET format = 'abaw'").run().changes)).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(250);
    expect(host.pragma('busy_timeout', { simple: true })).toBe(300);
    // reads never wait: WAL lets them see the last commit while the lock is held
    expect(host.prepare('SELECT COUNT(*) AS n FROM exports').get()).toEqual({ n: 0 });
    holder.exec('COMMIT');
    expect(tryWithoutWaiting(host, () => host.prepare("UPDATE exports SET format = 'abaw'").run().changes)).toBe(0);
    holder.close();
    host.close();
  });
});
