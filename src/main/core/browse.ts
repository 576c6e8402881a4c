// The server-side folder browser behind 'fs.list': lists folders inside the allowed roots only, so
// a browser can pick data folders without being able to look anywhere else on the machine.
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { FsEntry, FsListing } from '../../shared/api';
import { NotFoundError, PathRefusedError } from '../../shared/errors';

/** At most this many entries per listing (the rest is cut, with `truncated`). */
export const MAX_ENTRIES = 5000;

export function insideDir(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/** The refusal of a request path: names the allowed folders and how to allow another. */
export function refusedPathMessage(p: string, roots: readonly string[]): string {
  return (
    `path ${p} is outside the project and the allowed data folders (${roots.join(', ')}); ` +
    'start the host with `concord serve PROJECT --data DIR` to allow another folder'
  );
}

export interface ListOptions {
  /** Relative paths resolve against this folder (the project). */
  base: string;
  /** Include entries whose name starts with a dot (listed after the others); default false. */
  hidden?: boolean;
  max?: number;
}

function canonicalExisting(p: string): string {
  try {
    return realpathSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`folder ${p} does not exist`);
    throw e;
  }
}

/** Entry order: visible before hidden, folders before files, then by name (case-insensitive). */
function compareEntries(a: FsEntry, b: FsEntry): number {
  const ha = a.name.startsWith('.') ? 1 : 0;
  const hb = b.name.startsWith('.') ? 1 : 0;
  if (ha !== hb) return ha - hb;
  if (a.kind !== b.kind) return a.kind === 'dir' ? -1 : 1;
  const x = a.name.toLowerCase();
  const y = b.name.toLowerCase();
  return x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function entryOf(dir: string, d: Dirent): FsEntry | null {
  let isDir = d.isDirectory();
  let isFile = d.isFile();
  let size: number | undefined;
  if (d.isSymbolicLink() || isFile) {
    try {
      const st = statSync(join(dir, d.name)); // follows the link: what it points at
      isDir = st.isDirectory();
      isFile = st.isFile();
      if (isFile) size = st.size;
    } catch {
      return null; // a dangling link
    }
  }
  if (isDir) return { name: d.name, kind: 'dir' };
  if (isFile) return { name: d.name, kind: 'file', size };
  return null; // sockets, devices, fifos
}

/**
 * One folder's listing, or (no path) the roots themselves. `roots` are canonical (symlinks
 * resolved); the path is resolved through its symlinks before the containment check, so a link
 * inside a root that points out of it is refused like the outside path itself.
 */
export function listFolder(roots: readonly string[], path: string | undefined, opts: ListOptions): FsListing {
  const rootList = [...new Set(roots)];
  if (path === undefined || path.trim() === '') {
    return {
      path: null,
      parent: null,
      roots: rootList,
      entries: rootList.map((r) => ({ name: r, kind: 'dir' as const })),
      truncated: false,
    };
  }
  const abs = resolve(opts.base, path);
  const real = canonicalExisting(abs);
  if (!rootList.some((r) => insideDir(r, real))) throw new PathRefusedError(refusedPathMessage(path, rootList));
  if (!statSync(real).isDirectory()) throw new NotFoundError(`${path} is a file, not a folder`);
  const max = opts.max ?? MAX_ENTRIES;
  const entries: FsEntry[] = [];
  for (const d of readdirSync(real, { withFileTypes: true })) {
    if (!opts.hidden && d.name.startsWith('.')) continue;
    const e = entryOf(real, d);
    if (e) entries.push(e);
  }
  entries.sort(compareEntries);
  const up = dirname(real);
  // the parent only while it is still inside a root; at a root's top, "up" is the roots list (null)
  const parent = up !== real && rootList.some((r) => insideDir(r, up)) ? up : null;
  return { path: real, parent, roots: rootList, entries: entries.slice(0, max), truncated: entries.length > max };
}
