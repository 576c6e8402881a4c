// The run session every trainer job (train, infer, crossfit) works in: the project's database and
// its writer lock, taken and given back in one place.
import { resolve } from 'node:path';
import { openDb, WriterLock, type Db } from '../store/db';
import { markInterruptedRuns } from '../store/runs';

export interface RunSessionOptions {
  /** An open database whose opener already holds the writer lock (crossfit's fold runs): used as is, not closed. */
  db?: Db;
  /** Once the lock is ours, runs left 'running' or 'paused' by a dead trainer are marked failed (default true). */
  markInterrupted?: boolean;
}

export interface RunSession {
  db: Db;
  /** Releases the lock and closes the database, when this session took them. */
  close(): void;
}

export function openRunSession(projectDir: string, o: RunSessionOptions = {}): RunSession {
  if (o.db) return { db: o.db, close: () => {} };
  const db = openDb(projectDir);
  const lock = new WriterLock(resolve(projectDir), 'train');
  try {
    lock.acquire();
    if (o.markInterrupted ?? true) markInterruptedRuns(db, resolve(projectDir), { holdingLock: true });
  } catch (e) {
    lock.release();
    db.close();
    throw e;
  }
  return {
    db,
    close: () => {
      lock.release();
      db.close();
    },
  };
}

/** Runs `work` in a session and closes it afterwards, whatever happens. */
export async function withRunSession<T>(projectDir: string, o: RunSessionOptions, work: (db: Db) => Promise<T>): Promise<T> {
  const session = openRunSession(projectDir, o);
  try {
    return await work(session.db);
  } finally {
    session.close();
  }
}
