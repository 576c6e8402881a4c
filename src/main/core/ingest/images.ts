// Importers for still-image datasets used for pretraining: RAF-DB lists, AffectNet CSVs, generic CSVs.
// Every label is mapped to ABAW-7 (src/shared/labels.ts has the tables); each split becomes one group.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { ABAW7_HEADER, AFFECTNET_TO_ABAW, RAFDB_TO_ABAW, abawFromName, ownLabel } from '../../../shared/labels';
import type { Db } from '../../../store/db';
import { ImportError, upsertVideoReportingOrphans, type ImportWarning } from './abaw';
import { insideDir } from '../frame-file';
import { ProgressTracker, throwIfAborted, type ProgressFn } from '../../../shared/progress';

export type ImageListFormat = 'rafdb' | 'affectnet' | 'csv';

export interface ImageItem {
  path: string;
  label: number; // ABAW-7
  split: string;
  line: number;
  /** Who the image shows (a person id, or the video it was cut from): a cross-fit folds by it. */
  subject?: string;
}

/** Split a CSV line with quotes ("a,b" and doubled quotes). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function lines(text: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return body.split(/\r?\n/);
}

/**
 * RAF-DB `list_patition_label.txt`: `train_00001.jpg 5` per line, labels 1..7 in RAF order.
 * Split from the name prefix (train_/test_). Images are looked up as the aligned `_aligned.jpg`
 * variant when the plain name is missing.
 */
export function parseRafdbList(text: string, file: string): ImageItem[] {
  const items: ImageItem[] = [];
  lines(text).forEach((raw, i) => {
    const t = raw.trim();
    if (!t) return;
    const parts = t.split(/\s+/);
    if (parts.length !== 2) throw new ImportError(file, i + 1, `expected "name label", got "${t.slice(0, 60)}"`);
    const raf = Number(parts[1]);
    const label = ownLabel(RAFDB_TO_ABAW, raf);
    if (!Number.isInteger(raf) || label === undefined) throw new ImportError(file, i + 1, `RAF-DB label "${parts[1]}" is not 1..7`);
    const name = parts[0]!;
    const split = name.startsWith('test') ? 'Validation_Set' : 'Train_Set';
    items.push({ path: name, label, split, line: i + 1 });
  });
  return items;
}

/**
 * AffectNet-style CSV with a header naming `subDirectory_filePath` (or `path`) and `expression`
 * columns. Contempt (7) and the non-expression codes (8-10) are skipped, as in the paper.
 */
export function parseAffectnetCsv(text: string, file: string, split = 'Train_Set'): { items: ImageItem[]; skipped: number } {
  const ls = lines(text);
  const head = splitCsvLine(ls[0] ?? '').map((h) => h.trim().toLowerCase());
  const pathCol = head.findIndex((h) => h === 'subdirectory_filepath' || h === 'path' || h === 'file' || h === 'image');
  const exprCol = head.findIndex((h) => h === 'expression' || h === 'label');
  if (pathCol < 0 || exprCol < 0)
    throw new ImportError(file, 1, 'header must name a path column (subDirectory_filePath) and an expression column');
  const items: ImageItem[] = [];
  let skipped = 0;
  for (let i = 1; i < ls.length; i++) {
    const t = ls[i]!;
    if (!t.trim()) continue;
    const cols = splitCsvLine(t);
    const code = Number(cols[exprCol]);
    if (!Number.isInteger(code) || !Object.hasOwn(AFFECTNET_TO_ABAW, code))
      throw new ImportError(file, i + 1, `expression "${cols[exprCol]}" is not an AffectNet code 0..10`);
    const label = ownLabel(AFFECTNET_TO_ABAW, code);
    if (label === null || label === undefined) {
      skipped++;
      continue;
    }
    items.push({ path: cols[pathCol]!.trim(), label, split, line: i + 1 });
  }
  return { items, skipped };
}

/**
 * Generic `path,label[,split[,subject]]` CSV (a header line is optional). Labels are ABAW-7
 * integers or class names; `labelMap` maps other names or numbers to ABAW-7. `subject` names who
 * the image shows (a person id, or the video a frame was cut from): a cross-fit then holds out
 * each subject's images together, as a video project's folds hold out whole videos.
 */
export function parseGenericCsv(text: string, file: string, labelMap: Record<string, number> = {}): ImageItem[] {
  const items: ImageItem[] = [];
  const ls = lines(text);
  ls.forEach((raw, i) => {
    if (!raw.trim()) return;
    const cols = splitCsvLine(raw).map((c) => c.trim());
    if (i === 0 && /^(path|file|image)/i.test(cols[0] ?? '')) return;
    if (cols.length < 2) throw new ImportError(file, i + 1, 'expected path,label');
    const key = cols[1]!;
    // own entries only: a file's "constructor" or "__proto__" is an unknown label, not Object's
    let label: number | null = ownLabel(labelMap, key) ?? null;
    if (label === null && /^\d+$/.test(key)) label = Number(key);
    if (label === null) label = abawFromName(key);
    if (label === null || !Number.isInteger(label) || label < 0 || label > 6)
      throw new ImportError(file, i + 1, `label "${key}" is not an ABAW-7 class (0..6 or a class name)`);
    const item: ImageItem = { path: cols[0]!, label, split: cols[2] || 'Train_Set', line: i + 1 };
    if (cols[3]) item.subject = cols[3];
    items.push(item);
  });
  return items;
}

export interface ImagesImportOptions {
  list: string;
  root: string;
  format: ImageListFormat;
  labelMap?: Record<string, number>;
  /** Name prefix of the groups this import creates (default: the list file's stem). */
  name?: string;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

export interface ImagesImportResult {
  groups: { name: string; split: string; images: number; missing: number }[];
  skipped: number;
  warnings: ImportWarning[];
  /** List entries not imported because their path leaves the image root (file, line, reason). */
  refused: ImportWarning[];
}

function resolveImage(root: string, p: string, format: ImageListFormat): string | null {
  const abs = isAbsolute(p) ? p : join(root, p);
  if (existsSync(abs)) return abs;
  if (format === 'rafdb') {
    const aligned = join(root, p.replace(/\.jpg$/i, '_aligned.jpg'));
    if (existsSync(aligned)) return aligned;
  }
  return null;
}

/**
 * Why a list entry may not be imported, or null: its path (relative, or absolute) must stay
 * inside the image root, also once symlinks are resolved, so a list cannot point frames at
 * /etc/passwd. `rootReal` is the root's realpath.
 */
export function escapesRoot(root: string, rootReal: string, entry: string, format: ImageListFormat = 'csv'): string | null {
  if (entry.includes('\0')) return `path ${JSON.stringify(entry)} contains a NUL byte`;
  const abs = resolve(root, entry);
  if (!insideDir(root, abs)) return `path ${JSON.stringify(entry)} leaves the image root ${root}`;
  // The file resolveImage would pick (RAF-DB's _aligned variant too) must not lead out through a symlink.
  const candidates = format === 'rafdb' ? [abs, abs.replace(/\.jpg$/i, '_aligned.jpg')] : [abs];
  for (const c of candidates) {
    let real: string;
    try {
      real = realpathSync(c);
    } catch {
      continue; // missing: reported as a missing image
    }
    if (!insideDir(rootReal, real)) return `path ${JSON.stringify(entry)} resolves (through a symlink) outside the image root ${root}`;
  }
  return null;
}

/** Import an image list; one group ("video") per split, written in one transaction each. */
export function importImages(db: Db, opts: ImagesImportOptions): ImagesImportResult {
  const file = resolve(opts.list);
  if (!existsSync(file)) throw new ImportError(file, null, 'list file not found');
  const root = resolve(opts.root);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new ImportError(root, null, 'image root folder not found');
  const bytes = readFileSync(file);
  const text = bytes.toString('utf8');
  let items: ImageItem[];
  let skipped = 0;
  if (opts.format === 'rafdb') items = parseRafdbList(text, file);
  else if (opts.format === 'affectnet') ({ items, skipped } = parseAffectnetCsv(text, file));
  else items = parseGenericCsv(text, file, opts.labelMap);
  const prefix = opts.name ?? `${opts.format}:${basename(file).replace(/\.[^.]+$/, '')}`;
  const rootReal = realpathSync(root);
  const refused: ImportWarning[] = [];
  items = items.filter((it) => {
    const reason = escapesRoot(root, rootReal, it.path, opts.format);
    if (reason) refused.push({ file, line: it.line, reason: `${reason}; entry not imported` });
    return !reason;
  });
  const bySplit = new Map<string, ImageItem[]>();
  for (const it of items) {
    const arr = bySplit.get(it.split) ?? [];
    arr.push(it);
    bySplit.set(it.split, arr);
  }
  const tracker = new ProgressTracker('import images', items.length, opts.onProgress);
  const result: ImagesImportResult = { groups: [], skipped, warnings: [], refused };
  for (const [split, group] of bySplit) {
    throwIfAborted(opts.signal, 'import');
    const labels = new Int8Array(group.length);
    const hasFace = new Uint8Array(group.length);
    const paths: (string | null)[] = [];
    const subjects = group.map((it) => it.subject ?? null);
    let missing = 0;
    group.forEach((it, i) => {
      labels[i] = it.label;
      const p = resolveImage(root, it.path, opts.format);
      paths.push(p ?? join(root, it.path));
      if (p) hasFace[i] = 1;
      else {
        missing++;
        if (missing <= 20) result.warnings.push({ file, line: it.line, reason: `image ${it.path} not found under ${root}` });
      }
      tracker.add(1);
    });
    const name = `${prefix}:${split}`;
    const hash = createHash('sha1').update(bytes).update(root).update(split).digest('hex');
    upsertVideoReportingOrphans(
      db,
      {
        name,
        split,
        source: opts.format,
        labelSet: 'abaw7',
        header: ABAW7_HEADER,
        annotationFile: file,
        framesDir: root,
        contentHash: hash,
      },
      { labels, hasFace, imagePaths: paths, subjects: subjects.some((x) => x !== null) ? subjects : undefined },
      result.warnings,
    );
    result.groups.push({ name, split, images: group.length, missing });
  }
  if (result.warnings.length === 20) result.warnings.push({ file, line: null, reason: 'more images are missing (first 20 listed)' });
  // Refusals come first and are all listed: each is a list line that points outside the data.
  result.warnings.unshift(...refused);
  return result;
}
