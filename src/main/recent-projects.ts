// Recently opened projects, kept as a small JSON file in the app's userData folder.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RecentProject } from '../preload/bridge';

const MAX = 12;

export function readRecent(file: string): RecentProject[] {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!Array.isArray(data)) return [];
    return data
      .filter((x): x is RecentProject => typeof x?.path === 'string' && typeof x?.openedAt === 'string')
      .filter((x) => existsSync(x.path));
  } catch {
    return [];
  }
}

/** Put `path` first and write the list atomically. */
export function addRecent(file: string, path: string, now = new Date()): RecentProject[] {
  const list = [{ path, openedAt: now.toISOString() }, ...readRecent(file).filter((r) => r.path !== path)].slice(0, MAX);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(list, null, 2));
  renameSync(tmp, file);
  return list;
}
