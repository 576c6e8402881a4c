// Atomic file replacement: write a temp file in the target folder, then rename it over the target.
// On any error the temp files are removed and the previous files stay as they were. A batch
// writes every temp file before renaming any, so a failure half-way (disk full) changes nothing.
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
}

const realFs: AtomicFs = {
  openSync: (p, f, m) => nodeFs.openSync(p, f, m),
  writeSync: (fd, b, o, l) => nodeFs.writeSync(fd, b, o, l),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (a, b) => nodeFs.renameSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
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

/** Create a subfolder of an output folder (e.g. the split folder), with a readable error. */
export function ensureSubdir(dir: string): void {
  try {
    nodeFs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw describeFsError(e, dir);
  }
}

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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

function renameStaged(fs: AtomicFs, staged: { tmp: string; target: string }[]): string[] {
  const done: string[] = [];
  try {
    for (const s of staged) {
      fs.renameSync(s.tmp, s.target);
      done.push(s.target);
    }
  } catch (e) {
    for (const s of staged.slice(done.length)) removeQuietly(fs, s.tmp);
    throw describeFsError(e, staged[done.length]?.target ?? '');
  }
  return done;
}
