// What an export does when its folder already holds files: ask (refuse with a ConflictError that
// says when the previous export was written), overwrite, or write to a fresh sibling folder.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Db } from '../../../store/db';
import { lastExportTo } from '../../../store/exports';
import { ConflictError } from '../../../shared/errors';

export type IfExists = 'ask' | 'overwrite' | 'new';

/** `.NAME.PID.RANDOM.tmp`: a temp file a killed export left (atomic.ts cleans them), not content. */
const TEMP_RE = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;

/** The entries of `dir` that an export would overwrite or mix with (none when it does not exist). */
export function folderContents(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir).filter((n) => !TEMP_RE.test(n));
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `<dir>-YYYYMMDD-HHMMSS` (UTC) for `at`; `-2`, `-3` … appended while that name is taken. */
export function newFolderName(dir: string, at: Date, taken: (p: string) => boolean = existsSync): string {
  const stamp =
    `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}-` +
    `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  const base = `${resolve(dir)}-${stamp}`;
  let p = base;
  for (let n = 2; taken(p); n++) p = `${base}-${n}`;
  return p;
}

/** '2026-12-02T03:04:05.678Z' → '2026-12-02 03:04:05 UTC'. */
export function describeWhen(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

/** The sentence that ends a conflict's message; the UI shows the text before it. */
export const CONFLICT_CHOICES = '; export again with ifExists';

/**
 * The folder an export writes to, given what the folder holds and `ifExists`. 'ask' with files
 * there throws a ConflictError naming the folder and the newest export recorded into it.
 */
export function exportTarget(db: Db, outDir: string, ifExists: IfExists = 'ask', now: Date = new Date()): string {
  const dir = resolve(outDir);
  const contents = folderContents(dir);
  if (contents.length === 0 || ifExists === 'overwrite') return dir;
  const fresh = newFolderName(dir, now);
  if (ifExists === 'new') return fresh;
  const last = lastExportTo(db, dir);
  const what = last
    ? `an export written ${describeWhen(last.createdAt)} (${last.format})`
    : `${contents.length} file(s) that no export of this project wrote`;
  throw new ConflictError(
    `${dir} already holds ${what}${CONFLICT_CHOICES} 'overwrite' to replace its files or 'new' to write to ${basename(fresh)}`,
  );
}
