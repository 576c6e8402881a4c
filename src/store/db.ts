// The one module that opens a project's SQLite file: WAL, numbered migrations, a writer lock.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { closest } from '../shared/text';
import { fileURLToPath } from 'node:url';
import { LockBusyError, WriterLock as FileWriterLock } from './lock';
import { BusyError } from '../shared/errors';

export type Db = Database.Database;

export const DB_FILE = 'concord.sqlite';
export const CACHE_DIR = 'cache';

export class ProjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectError';
  }
}

function migrationsDir(): string {
  // Source tree (tsx, vitest) keeps them beside this file; the Electron bundle copies them next to
  // its output (see electron.vite.config.ts). CONCORD_MIGRATIONS overrides both.
  const candidates = [
    process.env.CONCORD_MIGRATIONS,
    join(dirname(fileURLToPath(import.meta.url)), 'migrations'),
    join(dirname(fileURLToPath(import.meta.url)), 'store', 'migrations'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new ProjectError('migrations folder not found (looked beside db.ts)');
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}-.+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

export function migrate(db: Db, migrations = loadMigrations()): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return db.pragma('user_version', { simple: true }) as number;
}

export interface OpenOptions {
  create?: boolean;
  readonly?: boolean;
  /**
   * How long a statement waits for another connection's lock before SQLITE_BUSY. better-sqlite3 is
   * synchronous, so the wait blocks the whole thread: hosts keep it short (HOST_BUSY_TIMEOUT_MS).
   */
  busyTimeoutMs?: number;
}

/** The default wait: the trainer, importers and one-shot tools, where nothing else runs on the thread. */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
/** The wait of a host's connections (UI requests queue behind it): about a second, then BusyError. */
export const HOST_BUSY_TIMEOUT_MS = 800;

/** "; did you mean …?" naming the one project folder beside `dir` whose name is within two edits, or "". */
function siblingHint(dir: string): string {
  const parent = dirname(dir);
  let names: string[];
  try {
    names = readdirSync(parent).filter((n) => existsSync(join(parent, n, DB_FILE)));
  } catch {
    return '';
  }
  const near = closest(basename(dir), names);
  return near ? `; did you mean ${join(parent, near)}?` : '';
}

/** Throws the ProjectError a command prints when `projectDir` is not a Concord project (without opening it). */
export function assertProject(projectDir: string): void {
  const dir = resolve(projectDir);
  if (existsSync(join(dir, DB_FILE))) return;
  // a folder that does not exist is most likely a typo: say so rather than suggest creating it
  if (!existsSync(dir)) throw new ProjectError(`${dir} does not exist${siblingHint(dir)}`);
  throw new ProjectError(`${dir} is not a Concord project (no ${DB_FILE}); run \`concord init ${projectDir}\` first`);
}

export function isProjectDir(dir: string): boolean {
  return existsSync(join(dir, DB_FILE));
}

/** Open (or create) a project folder's database. */
export function openDb(projectDir: string, opts: OpenOptions = {}): Db {
  const dir = resolve(projectDir);
  const file = join(dir, DB_FILE);
  if (!existsSync(file)) {
    if (!opts.create) assertProject(projectDir);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ProjectError(`${dir} exists and is not a folder`);
    mkdirSync(join(dir, CACHE_DIR), { recursive: true });
  }
  const db = new Database(file, { readonly: opts.readonly ?? false });
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  }
  return db;
}

// One prepared statement per SQL string per connection: preparing is most of the cost of a small query.
const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/** The connection's prepared statement for sql, prepared on first use. */
export function stmt(db: Db, sql: string): Database.Statement {
  let m = statements.get(db);
  if (!m) statements.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare(sql)));
  // a statement still being iterated (an open generator) cannot run again: give this caller its own
  return s.busy ? db.prepare(sql) : s;
}

/** Drop a connection's cached statements (after it changed the schema they were prepared against). */
export function forgetStatements(db: Db): void {
  statements.delete(db);
}

/** Run fn in one IMMEDIATE transaction: concurrent writers (other hosts) queue behind it. */
export function writeTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** True for SQLite's "database is locked" (another connection held the lock past busy_timeout). */
export function isBusy(e: unknown): boolean {
  if (e instanceof BusyError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}

/** e as a BusyError (a message for people, mapped to 503) when it is SQLite's busy error, else e itself. */
export function asBusyError(e: unknown): unknown {
  return isBusy(e) && !(e instanceof BusyError) ? new BusyError() : e;
}

/** Run fn without waiting for another connection's lock: undefined when the lock is taken. */
export function tryWithoutWaiting<T>(db: Db, fn: () => T): T | undefined {
  const saved = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    return fn();
  } catch (e) {
    if (isBusy(e)) return undefined;
    throw e;
  } finally {
    db.pragma(`busy_timeout = ${saved}`);
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * An advisory lock for long writers (imports, training): a second process gets a clear refusal
 * instead of interleaving. SQLite's own locking still keeps every transaction whole. The atomic
 * file protocol is in ./lock.ts; here a held lock is reported as a ProjectError (one line, exit 1).
 */
export class WriterLock extends FileWriterLock {
  override acquire(): void {
    try {
      super.acquire();
    } catch (e) {
      throw e instanceof LockBusyError ? new ProjectError(e.message) : e;
    }
  }
}
