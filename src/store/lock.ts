// The writer lock of a project: one long writer (import, training) per purpose at a time, across
// processes. A lock file holds its owner's pid, the owner process's start time and a random token.
//
// Why files and not a row in the database: taking the lock must never wait on SQLite (a busy
// database would stall the host thread), and a crashed owner must be recognisable without SQLite.
// Why this shape: every step that could race is atomic in the file system.
//   - create:  write the record to a private temp file, then link() it to the lock name; link fails
//              with EEXIST when a lock exists, so a lock is never seen half written.
//   - stale:   the owner's pid is dead, or alive but started after the lock was taken (pid reuse).
//   - takeover of a stale lock: only the holder of a second exclusive file (NAME.takeover) may
//              remove a lock; it re-reads the lock while holding it and removes it only if it
//              still holds the same stale token (rename away, check the token, unlink), so two
//              takers can never both replace one stale lock. Then it competes with link() again.
//   - ownership is verified by re-reading the token after creating, and release removes the file
//              only while it still holds our token.
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A lock some live process holds (the message names it). */
export class LockBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockBusyError';
  }
}

interface LockRecord {
  pid: number;
  /** when the lock was taken (ISO) */
  startedAt: string;
  /** when the owning process started (ms since the epoch; 0 when unknown) */
  processStart: number;
  token: string;
}

/** Tokens of the locks this process holds now: the same pid with another token is a live lock. */
const heldHere = new Set<string>();
/** An unreadable lock younger than this is taken to be live (a non-link file system writing it). */
const YOUNG_MS = 10_000;
const TAKEOVER_WAIT_MS = 2_000;

export class WriterLock {
  private mine: LockRecord | null = null;
  constructor(
    private readonly projectDir: string,
    private readonly purpose: string,
  ) {}

  get file(): string {
    return join(this.projectDir, `.concord-${this.purpose}.lock`);
  }

  /** The live process holding this lock, or null when it is free or its holder is gone. */
  holder(): { pid: number; startedAt: string } | null {
    const r = readRecord(this.file);
    return r && r !== 'unreadable' && isLive(r, this.file) ? { pid: r.pid, startedAt: r.startedAt } : null;
  }

  acquire(): void {
    if (this.mine) return;
    const mine: LockRecord = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      processStart: ownStart(),
      token: randomBytes(12).toString('hex'),
    };
    const giveUp = Date.now() + TAKEOVER_WAIT_MS;
    for (;;) {
      if (createExclusive(this.file, mine)) {
        const now = readRecord(this.file);
        // someone removed ours and put theirs in its place: theirs stands
        if (!now || now === 'unreadable' || now.token !== mine.token) throw this.busy(now);
        heldHere.add(mine.token);
        this.mine = mine;
        return;
      }
      const current = readRecord(this.file);
      if (current === null) continue; // released between our try and the read
      if (current === 'unreadable' ? young(this.file) : isLive(current, this.file)) throw this.busy(current);
      const stale = current === 'unreadable' ? null : current.token;
      if (!this.breakStale(mine, stale) && Date.now() > giveUp) throw this.busy(null);
    }
  }

  release(): void {
    const mine = this.mine;
    if (!mine) return;
    this.mine = null;
    heldHere.delete(mine.token);
    removeIfToken(this.file, mine.token);
  }

  /** Remove the stale lock (still holding token `stale`) under the takeover file; false when another taker is at it. */
  private breakStale(mine: LockRecord, stale: string | null): boolean {
    const takeover = `${this.file}.takeover`;
    if (!createExclusive(takeover, mine)) {
      const t = readRecord(takeover);
      // a taker that died inside its few microseconds of takeover leaves the file behind
      if (t && t !== 'unreadable' && !isLive(t, takeover)) removeIfToken(takeover, t.token);
      else if (t === 'unreadable' && !young(takeover)) removeIfToken(takeover, null);
      else sleep(2);
      return false;
    }
    try {
      const again = readRecord(this.file);
      if (again && (again === 'unreadable' ? stale === null && !young(this.file) : again.token === stale && !isLive(again, this.file)))
        removeIfToken(this.file, stale);
      return true;
    } finally {
      removeIfToken(takeover, mine.token);
    }
  }

  private busy(r: LockRecord | 'unreadable' | null): LockBusyError {
    const who =
      r && r !== 'unreadable'
        ? `process ${r.pid} started a ${this.purpose} at ${r.startedAt}`
        : `another process is starting a ${this.purpose}`;
    return new LockBusyError(`${this.projectDir} is busy: ${who}; wait for it or stop it`);
  }
}

function serialise(r: LockRecord): string {
  // pid and start on the first two lines, as older versions wrote them
  return `${r.pid}\n${r.startedAt}\n${r.token}\n${r.processStart}\n`;
}

/** The lock's record; null when there is no file; 'unreadable' when it is empty or garbled. */
function readRecord(file: string): LockRecord | 'unreadable' | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const [pidText, startedAt = '', token = '', start = '0'] = text.split('\n');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return 'unreadable';
  // an older version's lock has no token: its pid and time stand in for one
  return { pid, startedAt, token: token || `legacy:${pid}:${startedAt}`, processStart: Number(start) || 0 };
}

/** Atomically create `file` holding the whole record; false when it exists. */
function createExclusive(file: string, r: LockRecord): boolean {
  const tmp = `${file}.${r.token}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, serialise(r), { flag: 'wx' });
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw e;
    // no hard links here (some network or FAT file systems): O_EXCL create, then write
    return createWithOpenExclusive(file, r);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
}

function createWithOpenExclusive(file: string, r: LockRecord): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, serialise(r));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Remove `file` only if it holds `token` (null: an unreadable file): rename it to a private name,
 * check what was moved, and put it back when it was someone else's.
 */
function removeIfToken(file: string, token: string | null): boolean {
  const moved = `${file}.${randomBytes(6).toString('hex')}.gone`;
  try {
    renameSync(file, moved);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  const r = readRecord(moved);
  const ours = token === null ? r === 'unreadable' : r !== null && r !== 'unreadable' && r.token === token;
  if (!ours) {
    try {
      linkSync(moved, file); // fails only when a new lock was created meanwhile: that one stands
    } catch {
      /* EEXIST */
    }
  }
  unlinkSync(moved);
  return ours;
}

function isLive(r: LockRecord, file: string): boolean {
  if (r.pid === process.pid) return heldHere.has(r.token) || (r.token.startsWith('legacy:') && young(file));
  if (!processAlive(r.pid)) return false;
  const start = processStartMs(r.pid);
  // the pid was reused: the process now behind it started after the lock's owner did
  return !(start && r.processStart && Math.abs(start - r.processStart) > 2_000);
}

function young(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < YOUNG_MS;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let bootMs: number | null | undefined;

/** When process `pid` started (ms since the epoch), from /proc on Linux; 0 elsewhere or when unreadable. */
function processStartMs(pid: number): number {
  if (process.platform !== 'linux') return 0;
  try {
    if (bootMs === undefined) {
      const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
      bootMs = btime ? Number(btime) * 1000 : null;
    }
    if (bootMs === null) return 0;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // field 22, counted after the parenthesised command name (which may hold spaces); USER_HZ is 100
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(ticks) ? bootMs + ticks * 10 : 0;
  } catch {
    return 0;
  }
}

function ownStart(): number {
  return processStartMs(process.pid) || Math.round(Date.now() - process.uptime() * 1000);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
