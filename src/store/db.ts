// The one module that opens a project's SQLite file: WAL, numbered migrations, a writer lock.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
}

export function isProjectDir(dir: string): boolean {
  return existsSync(join(dir, DB_FILE));
}

/** Open (or create) a project folder's database. */
export function openDb(projectDir: string, opts: OpenOptions = {}): Db {
  const dir = resolve(projectDir);
  const file = join(dir, DB_FILE);
  if (!existsSync(file)) {
    if (!opts.create) {
      throw new ProjectError(`${dir} is not a Concord project (no ${DB_FILE}); run \`concord init ${projectDir}\` first`);
    }
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ProjectError(`${dir} exists and is not a folder`);
    mkdirSync(join(dir, CACHE_DIR), { recursive: true });
  }
  const db = new Database(file, { readonly: opts.readonly ?? false });
  db.pragma('busy_timeout = 10000');
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

export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * An advisory lock for long writers (imports, training): a second process gets a clear refusal
 * instead of interleaving. SQLite's own locking still keeps every transaction whole.
 */
export class WriterLock {
  private held = false;
  constructor(
    private readonly projectDir: string,
    private readonly purpose: string,
  ) {}

  get file(): string {
    return join(this.projectDir, `.concord-${this.purpose}.lock`);
  }

  /** The live process holding this lock, or null when it is free or its holder is gone. */
  holder(): { pid: number; startedAt: string } | null {
    const f = this.file;
    if (!existsSync(f)) return null;
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      return null; // released between the check and the read
    }
    const [pidText, startedAt] = text.split('\n');
    const pid = Number(pidText);
    return pid && processAlive(pid) ? { pid, startedAt: startedAt ?? '' } : null;
  }

  acquire(): void {
    const f = this.file;
    if (existsSync(f)) {
      const [pidText, startedAt] = readFileSync(f, 'utf8').split('\n');
      const pid = Number(pidText);
      if (pid && pid !== process.pid && processAlive(pid)) {
        throw new ProjectError(
          `${this.projectDir} is busy: process ${pid} started a ${this.purpose} at ${startedAt}; wait for it or stop it`,
        );
      }
      unlinkSync(f); // stale: its process is gone (killed, crashed)
    }
    writeFileSync(f, `${process.pid}\n${nowIso()}\n`, { flag: 'wx' });
    this.held = true;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      unlinkSync(this.file);
    } catch {
      /* already gone */
    }
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
