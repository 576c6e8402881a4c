// Which file may be served as a frame's image. Trust boundary: frame paths come from the database,
// which imports fill from list files and folders a user (or an attacker) wrote; a path such as
// `../../etc/passwd` or a crop symlinked to /etc/shadow must never reach a host's response.
// Plain Node, no electron: the HTTP host and the desktop shell's concord:// both use it.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import type { Db } from '../../store/db';
import { frameFileOf } from '../../store/dataset';

/** The image types a frame may be (the trainer decodes these with sharp; imports accept them). */
export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp';

export interface FrameImage {
  /** The resolved file (no symlinks), which the host reads. */
  file: string;
  type: ImageType;
  size: number;
}

/** Where a refusal is reported: one line, the frame id and the reason, never the file's contents. */
export type FrameLog = (line: string) => void;

const defaultLog: FrameLog = (line) => console.warn(`[concord] ${line}`);

/** Whether `p` is `root` or lies below it (both absolute and already resolved). */
export function insideDir(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (r !== '..' && !r.startsWith('..' + sep) && !isAbsolute(r));
}

/** The image type that a file's first bytes announce, or null (JPEG SOI, PNG signature, RIFF....WEBP). */
export function imageTypeOf(head: Uint8Array): ImageType | null {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (head.length >= 8 && png.every((b, i) => head[i] === b)) return 'image/png';
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return null;
}

/** A regular file that starts like an image: its type and size, or why not. */
export function inspectImage(file: string): { type: ImageType; size: number } | { reason: string } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { reason: 'missing on disk or unreadable' };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { reason: 'not a regular file' };
    const head = Buffer.alloc(12);
    const n = readSync(fd, head, 0, head.length, 0);
    const type = imageTypeOf(head.subarray(0, n));
    return type ? { type, size: st.size } : { reason: 'not a JPEG, PNG or WebP image (magic bytes)' };
  } finally {
    closeSync(fd);
  }
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/**
 * The checked image of `file`: its realpath must lie inside one of `roots` (each resolved here, so
 * a symlinked data folder still counts) and it must start with image magic bytes. Anything else
 * is null and one log line.
 */
export function checkFrameFile(frameId: number, file: string, roots: readonly string[], log: FrameLog = defaultLog): FrameImage | null {
  const refuse = (reason: string) => {
    log(`frame ${frameId}: image refused (${reason})`);
    return null;
  };
  const real = realOrNull(file);
  if (!real) return refuse('missing on disk');
  const allowed = roots.map(realOrNull).filter((r): r is string => r !== null);
  if (!allowed.some((r) => insideDir(r, real))) return refuse(`${JSON.stringify(real)} is outside the project's data folders`);
  const img = inspectImage(real);
  return 'reason' in img ? refuse(img.reason) : { file: real, ...img };
}

/**
 * The image to serve for a frame of this project, or null: unknown frames and frames without a
 * crop quietly; a file outside the project, its allowed roots and the frame's own recorded frames
 * folder, or one that is not an image, with a log line.
 */
export function servableFrame(db: Db, frameId: number, roots: readonly string[], log: FrameLog = defaultLog): FrameImage | null {
  const f = frameFileOf(db, frameId);
  if (!f) return null;
  return checkFrameFile(frameId, f.path, f.framesDir ? [...roots, f.framesDir] : roots, log);
}

/**
 * What a host sends for the path a core's framePath gave: checked again for image magic bytes
 * (a core other than ours, or a file swapped since), with the type to announce. null is a 404.
 */
export function frameImageOf(frameId: number, file: string | null | undefined, log: FrameLog = defaultLog): FrameImage | null {
  if (!file) return null;
  const img = inspectImage(file);
  if ('reason' in img) {
    log(`frame ${frameId}: image refused (${img.reason})`);
    return null;
  }
  return { file, ...img };
}
