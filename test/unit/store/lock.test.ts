// The writer lock across real processes: racing takers of a stale lock, pid reuse, release.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WriterLock } from '../../../src/store/db';
import { tempDir } from '../../helpers/tmp';

const DB_TS = join(process.cwd(), 'src/store/db.ts');

/** A pid that was a real process and is gone now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}
const staleRecord = (pid: number) => `${pid}\n2020-01-01T00:00:00.000Z\nstale${pid}\n0\n`;

// Each child answers "R won|busy|error ..." for each "R T" line on stdin, trying the lock at time T
// (all children get the same T, so they race). A winner keeps its lock, alive, until the test
// plants the next round's stale lock in its place: a loser can never see the lock free.
const CHILD = (dir: string) => `
  import { WriterLock } from ${JSON.stringify(DB_TS)};
  import { createInterface } from 'node:readline';
  const now = () => performance.timeOrigin + performance.now();
  const pause = (ms) => ms > 0 && Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const kept = [];
  console.log('ready');
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [r, t] = line.split(' ').map(Number);
    pause(t - now() - 2);
    while (now() < t);
    const lock = new WriterLock(${JSON.stringify(dir)}, 'import');
    try {
      lock.acquire();
      kept.push(lock);
      console.log(r + ' won');
    } catch (e) {
      console.log(r + (/is busy: /.test(e.message) ? ' busy' : ' error ' + e.message));
    }
  }).on('close', () => process.exit(0));`;

interface Child {
  next: () => Promise<string>;
  send: (line: string) => void;
  end: () => Promise<void>;
}

function startChild(code: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let err = '';
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const closed = new Promise<void>((ok, fail) => child.on('close', (c) => (c === 0 ? ok() : fail(new Error(`child exited ${c}: ${err}`)))));
  return {
    next: () =>
      lines.length ? Promise.resolve(lines.shift()!) : Promise.race([new Promise<string>((ok) => waiting.push(ok)), closed.then(() => '')]),
    send: (line) => child.stdin.write(`${line}\n`),
    end: () => (child.stdin.end(), closed),
  };
}

describe('WriterLock', () => {
  it('of several processes racing for a stale lock (dead pid), exactly one wins, every round', async () => {
    const dir = tempDir();
    const lockFile = join(dir, '.concord-import.lock');
    const dead = deadPid();
    const children = Array.from({ length: 4 }, () => startChild(CHILD(dir)));
    expect(await Promise.all(children.map((c) => c.next()))).toEqual(['ready', 'ready', 'ready', 'ready']);
    for (let r = 0; r < 20; r++) {
      writeFileSync(lockFile, staleRecord(dead)); // the last winner "died"
      const t = performance.timeOrigin + performance.now() + 40;
      for (const c of children) c.send(`${r} ${t}`);
      const answers = await Promise.all(children.map((c) => c.next()));
      expect(answers.map((a) => a.replace(/^\d+ /, '')).sort(), `round ${r}: ${answers.join('; ')}`).toEqual([
        'busy',
        'busy',
        'busy',
        'won',
      ]);
    }
    await Promise.all(children.map((c) => c.end()));
    // nothing but the lock itself is left behind (no temp, takeover or renamed files)
    expect(readdirSync(dir).filter((f) => f.startsWith('.concord-import'))).toEqual(['.concord-import.lock']);
  }, 60_000);

  it('treats a live pid that started after the lock was taken as a reused pid: the lock is stale', () => {
    const dir = tempDir();
    const file = join(dir, '.concord-import.lock');
    // pid 1 is alive, but it did not start at the epoch's first second
    writeFileSync(file, `1\n2020-01-01T00:00:00.000Z\nreused\n1000\n`);
    const lock = new WriterLock(dir, 'import');
    if (process.platform === 'linux') {
      expect(lock.holder()).toBeNull();
      lock.acquire();
      expect(readFileSync(file, 'utf8').split('\n')[0]).toBe(String(process.pid));
      lock.release();
      expect(existsSync(file)).toBe(false);
    }
  });

  it("refuses a second lock of the same purpose within one process, and release never removes another holder's lock", () => {
    const dir = tempDir();
    const a = new WriterLock(dir, 'import');
    a.acquire();
    expect(() => new WriterLock(dir, 'import').acquire()).toThrow(new RegExp(`is busy: process ${process.pid} started a import`));
    const other = `${process.pid + 1}\n2020-01-01T00:00:00.000Z\nsomeone-else\n0\n`;
    writeFileSync(a.file, other); // as if another owner had taken it over
    a.release();
    expect(readFileSync(a.file, 'utf8')).toBe(other);
  });
});
