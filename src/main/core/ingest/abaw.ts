// Importer for ABAW expression annotations: one .txt per video in split folders, plus cropped_aligned/.
import { createHash } from 'node:crypto';
import { existsSync, openSync, readSync, closeSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { classCount, labelSetFromHeader, type LabelSetId } from '../../../shared/labels';
import type { Db } from '../../../store/db';
import { upsertVideo, type UpsertOutcome } from '../../../store/dataset';
import { orphanedDecisions } from '../../../store/decisions';
import { ProgressTracker, throwIfAborted, type ProgressFn } from '../../../shared/progress';

export class ImportError extends Error {
  constructor(
    public readonly file: string,
    public readonly line: number | null,
    public readonly reason: string,
  ) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${reason}`);
    this.name = 'ImportError';
  }
}

export interface ParsedAnnotation {
  header: string;
  labelSet: LabelSetId;
  labels: Int8Array;
}

/**
 * Parse one ABAW expression file. Accepts a BOM, CRLF and one trailing newline; anything else
 * that is not an integer label in range is an error naming the line (1-based, header = line 1).
 */
export function parseAbawAnnotation(text: string, file: string): ParsedAnnotation {
  if (text.length === 0) throw new ImportError(file, null, 'empty file (expected a header line)');
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const header = lines[0]!.replace(/\r$/, '');
  const labelSet = labelSetFromHeader(header);
  if (!labelSet) {
    throw new ImportError(
      file,
      1,
      `unknown header "${header.slice(0, 80)}" (expected Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise[,Other])`,
    );
  }
  const max = classCount(labelSet) - 1;
  const labels = new Int8Array(lines.length - 1);
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!;
    const s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const t = s.trim();
    if (t === '') throw new ImportError(file, i + 1, 'blank label line');
    if (!/^-?\d+$/.test(t)) throw new ImportError(file, i + 1, `"${t.slice(0, 20)}" is not an integer label`);
    const v = Number(t);
    if (v !== -1 && (v < 0 || v > max)) throw new ImportError(file, i + 1, `label ${v} is out of range (-1 or 0..${max} for ${labelSet})`);
    labels[i - 1] = v;
  }
  return { header, labelSet, labels };
}

export interface AnnotationFile {
  split: string;
  name: string; // file stem, e.g. 12-24-1920x1080_left
  file: string;
}

/** Annotation files under an ABAW annotations folder: split subfolders (any name), or .txt files at the top level. */
export function findAnnotationFiles(annotationsDir: string): AnnotationFile[] {
  const root = resolve(annotationsDir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new ImportError(root, null, 'annotations folder not found');
  const out: AnnotationFile[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(root, entry.name);
    if (entry.isDirectory()) {
      for (const f of readdirSync(p).sort()) {
        if (f.toLowerCase().endsWith('.txt')) out.push({ split: entry.name, name: f.slice(0, -4), file: join(p, f) });
      }
    } else if (entry.name.toLowerCase().endsWith('.txt')) {
      out.push({ split: basename(root), name: entry.name.slice(0, -4), file: p });
    }
  }
  return out;
}

/** 1-based indices of crops present in a cropped_aligned/<video>/ folder, as a membership bitmap. */
export function listCrops(dir: string, lines: number): { has: Uint8Array; count: number; maxIndex: number } {
  const has = new Uint8Array(lines);
  let count = 0;
  let maxIndex = 0;
  for (const f of readdirSync(dir)) {
    const m = /^(\d+)\.jpe?g$/i.exec(f);
    if (!m) continue;
    const idx = Number(m[1]);
    if (idx > maxIndex) maxIndex = idx;
    if (idx >= 1 && idx <= lines && !has[idx - 1]) {
      has[idx - 1] = 1;
      count++;
    }
  }
  return { has, count, maxIndex };
}

/** Cheap JPEG check: non-empty, starts with SOI and ends with EOI (allowing trailing padding). */
export function checkJpeg(file: string): string | null {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return 'cannot be read';
  }
  if (size === 0) return 'zero-byte JPEG';
  if (size < 4) return 'truncated JPEG';
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    readSync(fd, head, 0, 2, 0);
    if (head[0] !== 0xff || head[1] !== 0xd8) return 'not a JPEG (no SOI marker)';
    const tailLen = Math.min(size, 64);
    const tail = Buffer.alloc(tailLen);
    readSync(fd, tail, 0, tailLen, size - tailLen);
    for (let i = tailLen - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return null;
    return 'truncated JPEG (no EOI marker)';
  } finally {
    closeSync(fd);
  }
}

export interface ImportWarning {
  file: string;
  line: number | null;
  reason: string;
}

export interface AnnotationImportResult {
  name: string;
  split: string;
  outcome: UpsertOutcome | 'failed';
  lines: number;
  crops: number;
  error?: string;
}

export interface AbawImportOptions {
  annotations: string;
  frames: string;
  /** Folder of source videos; when given, video files are matched by stem (without _left/_right). */
  videos?: string;
  /** Check every crop's JPEG markers; bad ones are indexed as missing with a warning. */
  verify?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

export interface AbawImportResult {
  videos: AnnotationImportResult[];
  warnings: ImportWarning[];
  errors: ImportWarning[];
  frames: number;
}

const VIDEO_EXTS = ['.mp4', '.avi', '.mkv', '.webm', '.MP4', '.AVI'];

/**
 * Write one video and say, as a warning, how many review decisions it left orphaned: a shorter
 * file removes the frames past its end, but their audit rows are kept (never deleted).
 */
export function upsertVideoReportingOrphans(
  db: Db,
  v: Parameters<typeof upsertVideo>[1],
  f: Parameters<typeof upsertVideo>[2],
  warnings: ImportWarning[],
): UpsertOutcome {
  const before = orphanedDecisions(db, v.name);
  const outcome = upsertVideo(db, v, f);
  const orphaned = outcome === 'updated' ? orphanedDecisions(db, v.name) - before : 0;
  if (orphaned > 0)
    warnings.push({
      file: v.annotationFile ?? v.name,
      line: null,
      reason: `${orphaned} review decision${orphaned === 1 ? ' is' : 's are'} about frames past this file's ${f.labels.length} lines; kept in the audit trail as orphaned`,
    });
  return outcome;
}

export function stripFaceSuffix(name: string): string {
  return name.replace(/_(left|right)$/, '');
}

/**
 * Import an ABAW annotation set. Each video is one transaction, so the store holds whole videos
 * only; a bad file is reported (file, line, reason) and the others still import. Re-importing
 * is idempotent; after a kill, running it again completes the missing videos.
 */
export function importAbaw(db: Db, opts: AbawImportOptions): AbawImportResult {
  const steps = importAbawSteps(db, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** The same import, yielding to the event loop between videos so a host stays responsive. */
export async function importAbawAsync(db: Db, opts: AbawImportOptions): Promise<AbawImportResult> {
  const steps = importAbawSteps(db, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise((res) => setImmediate(res));
  }
}

function* importAbawSteps(db: Db, opts: AbawImportOptions): Generator<void, AbawImportResult> {
  const files = findAnnotationFiles(opts.annotations);
  const framesRoot = resolve(opts.frames);
  if (!existsSync(framesRoot)) throw new ImportError(framesRoot, null, 'frames folder (cropped_aligned) not found');
  const tracker = new ProgressTracker('import abaw', files.length, opts.onProgress);
  const result: AbawImportResult = { videos: [], warnings: [], errors: [], frames: 0 };
  for (const a of files) {
    throwIfAborted(opts.signal, 'import');
    try {
      const r = importOne(db, a, framesRoot, opts, result.warnings);
      result.videos.push(r);
      result.frames += r.lines;
    } catch (e) {
      const err = e instanceof ImportError ? e : new ImportError(a.file, null, (e as Error).message);
      result.errors.push({ file: err.file, line: err.line, reason: err.reason });
      result.videos.push({ name: a.name, split: a.split, outcome: 'failed', lines: 0, crops: 0, error: err.message });
    }
    tracker.add(1, a.name);
    yield;
  }
  return result;
}

function importOne(
  db: Db,
  a: AnnotationFile,
  framesRoot: string,
  opts: AbawImportOptions,
  warnings: ImportWarning[],
): AnnotationImportResult {
  const bytes = readFileSync(a.file);
  const parsed = parseAbawAnnotation(bytes.toString('utf8'), a.file);
  const framesDir = join(framesRoot, a.name);
  if (!existsSync(framesDir) || !statSync(framesDir).isDirectory()) {
    throw new ImportError(a.file, null, `frames folder ${framesDir} is missing`);
  }
  const n = parsed.labels.length;
  const crops = listCrops(framesDir, n);
  if (crops.maxIndex > n) {
    warnings.push({
      file: a.file,
      line: null,
      reason: `annotation has ${n} frame lines but ${framesDir} has crops up to frame ${crops.maxIndex}`,
    });
  }
  if (opts.verify) {
    for (let i = 0; i < n; i++) {
      if (!crops.has[i]) continue;
      const f = join(framesDir, `${String(i + 1).padStart(5, '0')}.jpg`);
      const bad = existsSync(f) ? checkJpeg(f) : null;
      if (bad) {
        crops.has[i] = 0;
        crops.count--;
        warnings.push({ file: f, line: i + 2, reason: `${bad}; frame indexed as having no crop` });
      }
    }
  }
  let videoFile: string | null = null;
  if (opts.videos) {
    const stem = stripFaceSuffix(a.name);
    for (const ext of VIDEO_EXTS) {
      const p = join(resolve(opts.videos), stem + ext);
      if (existsSync(p)) {
        videoFile = p;
        break;
      }
    }
    if (!videoFile) warnings.push({ file: a.file, line: null, reason: `no video file for ${stem} in ${opts.videos}` });
  }
  const hash = createHash('sha1').update(bytes).update(crops.has).digest('hex');
  const outcome = upsertVideoReportingOrphans(
    db,
    {
      name: a.name,
      split: a.split,
      source: 'abaw',
      labelSet: parsed.labelSet,
      header: parsed.header,
      annotationFile: a.file,
      framesDir,
      videoFile,
      contentHash: hash,
    },
    { labels: parsed.labels, hasFace: crops.has },
    warnings,
  );
  return { name: a.name, split: a.split, outcome, lines: n, crops: crops.count };
}
