import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { WriterLock, loadMigrations, openDb } from '../../../src/store/db';
import { upsertVideo } from '../../../src/store/dataset';
import { tempDir } from '../../helpers/tmp';

describe('project store', () => {
  it('creates a project folder with WAL and every migration applied', () => {
    const dir = join(tempDir(), 'my project ü');
    const db = openDb(dir, { create: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const last = loadMigrations().at(-1)!.version;
    expect(db.pragma('user_version', { simple: true })).toBe(last);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[]).map((t) => t.name);
    for (const t of ['videos', 'frames', 'labels', 'runs', 'epoch_metrics', 'predictions', 'flags', 'decisions', 'exports']) expect(tables).toContain(t);
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
      upsertVideo(db, { name: `v${i}`, split: 'Train_Set', source: 'abaw', labelSet: 'abaw7', header: null, annotationFile: null, framesDir: null }, { labels: [0, 1, 2], hasFace: [1, 1, 1] });
    }
    expect((d1.prepare('SELECT COUNT(*) n FROM frames').get() as { n: number }).n).toBe(60);
  });
});
