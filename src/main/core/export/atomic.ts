// Atomic file replacement: write a temp file in the target folder, then rename it over the target.
// On any error the temp files are removed and the previous files stay as they were. A batch
// writes every temp file before renaming any, so a failure half-way (disk full) changes nothing:
// a target folder that does not exist yet is made only at the commit (its temp files wait in the
// nearest existing folder), and the temp files a killed writer left are cleaned by the next export.
import * as nodeFs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { throwIfAborted } from '../../../shared/progress';

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/** The file-system calls the writer uses; tests inject failing ones (disk full, read-only). */
export interface AtomicFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string): void;
}

const realFs: AtomicFs = {
  openSync: (p, f, m) => nodeFs.openSync(p, f, m),
  writeSync: (fd, b, o, l) => nodeFs.writeSync(fd, b, o, l),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (a, b) => nodeFs.renameSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
  mkdirSync: (p) => nodeFs.mkdirSync(p),
};

export interface AtomicOptions {
  fs?: Partial<AtomicFs>;
  /** fsync each file before the rename (default true): a crash never leaves a half-written file. */
  fsync?: boolean;
}

const CHUNK = 1 << 20;

/** A readable reason for a failed write, naming the path. */
export function describeFsError(e: unknown, path: string): ExportError {
  if (e instanceof ExportError) return e;
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return new ExportError(`${path}: folder does not exist`);
    case 'ENOTDIR':
    case 'EEXIST':
      return new ExportError(`${path}: a parent path is a file, not a folder`);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new ExportError(`${path}: folder is not writable (${err.code})`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new ExportError(`${path}: disk full while writing (${err.code}); the previous file is unchanged`);
    default:
      return new ExportError(`${path}: ${err?.message ?? String(e)}`);
  }
}

/**
 * Make sure outDir is a writable folder. It is created when its parent exists; a missing parent,
 * a path that is a file, or a read-only folder is an error that names the path.
 */
export function ensureOutputDir(outDir: string): string {
  const dir = resolve(outDir);
  if (nodeFs.existsSync(dir)) {
    if (!nodeFs.statSync(dir).isDirectory()) throw new ExportError(`output folder ${dir} is a file, not a folder`);
  } else {
    const parent = dirname(dir);
    if (!nodeFs.existsSync(parent)) throw new ExportError(`output folder ${dir} does not exist, nor does its parent ${parent}`);
    if (!nodeFs.statSync(parent).isDirectory()) throw new ExportError(`output folder ${dir}: its parent ${parent} is a file, not a folder`);
    try {
      nodeFs.mkdirSync(dir);
    } catch (e) {
      throw describeFsError(e, dir);
    }
  }
  try {
    nodeFs.accessSync(dir, nodeFs.constants.W_OK);
  } catch (e) {
    throw describeFsError(e, dir);
  }
  return dir;
}

/** `.NAME.PID.RANDOM.tmp`, RANDOM 8 hex digits: a temp file of this writer (tempPathFor), nobody else's. */
const TEMP_RE = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Whether process `pid` is running: signal 0 checks without sending (EPERM: alive, another user's). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Remove the temp files that writers killed mid-export left in `outDir` and its subfolders (one
 * level: the split folders). Temp files of a writer still running are kept. Returns the removed paths.
 */
export function removeStaleTemps(outDir: string, isAlive: (pid: number) => boolean = processAlive): string[] {
  const removed: string[] = [];
  const scan = (dir: string, depth: number) => {
    let entries: nodeFs.Dirent[];
    try {
      entries = nodeFs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (depth > 0) scan(p, depth - 1);
        continue;
      }
      const m = e.isFile() ? TEMP_RE.exec(e.name) : null;
      if (!m || isAlive(Number(m[1]))) continue;
      try {
        nodeFs.unlinkSync(p);
        removed.push(p);
      } catch {
        /* another export cleaned it first */
      }
    }
  };
  scan(resolve(outDir), 1);
  return removed;
}

/** The folder a temp file for `target` goes in: its own folder, or the nearest one that exists. */
function stagingDir(target: string): string {
  let dir = dirname(target);
  while (!nodeFs.existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function tempPathFor(target: string): string {
  return join(stagingDir(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function writeTemp(fs: AtomicFs, target: string, data: string | Uint8Array, doSync: boolean): string {
  const tmp = tempPathFor(target);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw describeFsError(e, target);
  }
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length;) {
      const n = fs.writeSync(fd, buf, off, Math.min(CHUNK, buf.length - off));
      if (!(n > 0)) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
      off += n;
    }
    if (doSync) fs.fsyncSync(fd);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already failing */
    }
    removeQuietly(fs, tmp);
    throw describeFsError(e, target);
  }
  fs.closeSync(fd);
  return tmp;
}

function removeQuietly(fs: AtomicFs, path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    /* gone already */
  }
}

export function writeFileAtomic(target: string, data: string | Uint8Array, opts: AtomicOptions = {}): void {
  writeFilesAtomic([{ path: target, data }], opts);
}

/**
 * Write several files all-or-nothing (as far as the file system allows): every temp file first,
 * then the renames. `files` may be a generator, so contents are built one at a time.
 */
export function writeFilesAtomic(files: Iterable<{ path: string; data: string | Uint8Array }>, opts: AtomicOptions = {}): string[] {
  const fs: AtomicFs = { ...realFs, ...opts.fs };
  const doSync = opts.fsync ?? true;
  const staged: { tmp: string; target: string }[] = [];
  try {
    for (const f of files) {
      const target = resolve(f.path);
      staged.push({ tmp: writeTemp(fs, target, f.data, doSync), target });
    }
  } catch (e) {
    for (const s of staged) removeQuietly(fs, s.tmp);
    throw e;
  }
  return renameStaged(fs, staged);
}

/**
 * writeFilesAtomic for long exports: `files` may be an async generator (which can give the event
 * loop a turn between files), and a cancelled `signal` between files removes every temp file.
 */
export async function writeFilesAtomicAsync(
  files: AsyncIterable<{ path: string; data: string | Uint8Array }> | Iterable<{ path: string; data: string | Uint8Array }>,
  opts: AtomicOptions & { signal?: AbortSignal } = {},
): Promise<string[]> {
  const fs: AtomicFs = { ...realFs, ...opts.fs };
  const doSync = opts.fsync ?? true;
  const staged: { tmp: string; target: string }[] = [];
  try {
    for await (const f of files) {
      throwIfAborted(opts.signal, 'export');
      const target = resolve(f.path);
      staged.push({ tmp: writeTemp(fs, target, f.data, doSync), target });
    }
    throwIfAborted(opts.signal, 'export');
  } catch (e) {
    for (const s of staged) removeQuietly(fs, s.tmp);
    throw e;
  }
  return renameStaged(fs, staged);
}

/** The commit: the missing target folders first (a failure there renames nothing), then the renames. */
function renameStaged(fs: AtomicFs, staged: { tmp: string; target: string }[]): string[] {
  const done: string[] = [];
  const made: string[] = [];
  let current = '';
  try {
    for (const s of staged) {
      current = s.target;
      makeDirs(fs, dirname(s.target), made);
    }
    for (const s of staged) {
      current = s.target;
      fs.renameSync(s.tmp, s.target);
      done.push(s.target);
    }
  } catch (e) {
    for (const s of staged.slice(done.length)) removeQuietly(fs, s.tmp);
    // the folders this commit made and left empty go too (deepest first; rmdir keeps non-empty ones)
    for (const d of made.reverse()) removeEmptyDir(d);
    throw describeFsError(e, current);
  }
  return done;
}

function makeDirs(fs: AtomicFs, dir: string, made: string[]): void {
  if (nodeFs.existsSync(dir)) return;
  makeDirs(fs, dirname(dir), made);
  fs.mkdirSync(dir);
  made.push(dir);
}

/** rmdir `dir` when it is empty; anything else (not empty, gone) is left as it is. */
export function removeEmptyDir(dir: string): void {
  try {
    nodeFs.rmdirSync(dir);
  } catch {
    /* not empty or already gone */
  }
}
