// URL path → file inside a folder, refusing anything that would leave it. Shared by the headless
// host and the desktop shell's concord:// protocol.
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Map a URL path to a file inside `root`, or null when it would leave it. Checks the decoded
 * segments (so `%2e%2e` counts as `..`), backslashes, NUL bytes and symlinks.
 */
export function resolveStatic(root: string, rawPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const rel = decoded.replace(/^\/+/, '') || 'index.html';
  const rootReal = realpathSync(root);
  const candidate = resolve(rootReal, rel);
  if (!inside(rootReal, candidate)) return null;
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    return candidate; // does not exist: the caller answers 404
  }
  return inside(rootReal, real) ? real : null;
}

export function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..' + sep) && r !== '..' && !isAbsolute(r));
}
