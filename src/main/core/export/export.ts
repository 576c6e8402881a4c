// Export entry points for the app, the server and the CLI: one format per call, each recorded in
// the exports table; and a preview of what an export would change. A failed export leaves the
// output folder as it was (one it had to create is removed again when it stayed empty).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Db } from '../../../store/db';
import { labelChangeCounts, previewFrames, recordExport, type LabelPairCount } from '../../../store/exports';
import type { ReviewAction } from '../../../shared/api';
import { writeAbawExport, writeAbawExportAsync, type AbawExportSummary } from './abaw-writer';
import { ProgressTracker, throwIfAborted, type ProgressFn } from '../../../shared/progress';
import { writeCsvExport } from './csv-writer';
import { writeReport } from './report';
import { ExportError, ensureOutputDir, removeEmptyDir, removeStaleTemps, type AtomicOptions } from './atomic';

export type ExportFormat = 'abaw' | 'csv' | 'report';

export interface ExportOutcome {
  format: ExportFormat;
  outDir: string;
  files: string[];
  summary: Record<string, unknown>;
  exportId: number;
}

/** The output folder made ready (stale temp files of killed exports removed), and how to undo its creation. */
function openOutputDir(path: string): { outDir: string; failed: () => void } {
  const existed = existsSync(resolve(path));
  const outDir = ensureOutputDir(path);
  removeStaleTemps(outDir);
  return { outDir, failed: () => (existed ? undefined : removeEmptyDir(outDir)) };
}

export function exportProject(db: Db, opts: { format: ExportFormat; outDir: string } & AtomicOptions): ExportOutcome {
  const { outDir, failed } = openOutputDir(opts.outDir);
  const io: AtomicOptions = { fs: opts.fs, fsync: opts.fsync };
  try {
    if (opts.format === 'abaw') {
      const r = writeAbawExport(db, outDir, io);
      return finish(db, opts.format, outDir, r.files, abawSummary(db, r));
    }
    return exportOneFile(db, opts.format, outDir, io);
  } catch (e) {
    failed();
    throw e;
  }
}

export interface ExportJobOptions extends AtomicOptions {
  format: ExportFormat;
  outDir: string;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  /** Where the export's own record is written when `db` is a read-only snapshot connection. */
  recordDb?: Db;
}

/**
 * exportProject as a job: ABAW files are written a video at a time with the event loop free in
 * between (progress in videos, cancel between videos changes nothing on disk); the CSV and the
 * report are one file each, read in one go. The result equals exportProject's.
 */
export async function exportProjectAsync(db: Db, opts: ExportJobOptions): Promise<ExportOutcome> {
  const { outDir, failed } = openOutputDir(opts.outDir);
  try {
    return await exportInto(db, outDir, opts);
  } catch (e) {
    failed();
    throw e;
  }
}

async function exportInto(db: Db, outDir: string, opts: ExportJobOptions): Promise<ExportOutcome> {
  const io: AtomicOptions = { fs: opts.fs, fsync: opts.fsync };
  if (opts.format === 'abaw') {
    const r = await writeAbawExportAsync(db, outDir, { ...io, signal: opts.signal, onProgress: opts.onProgress });
    throwIfAborted(opts.signal, 'export');
    return finish(db, opts.format, outDir, r.files, abawSummary(db, r), opts.recordDb);
  }
  const tracker = new ProgressTracker(`write ${opts.format}`, 1, opts.onProgress);
  tracker.emit();
  throwIfAborted(opts.signal, 'export');
  const r = exportOneFile(db, opts.format, outDir, io, opts.recordDb);
  tracker.add(1);
  return r;
}

function abawSummary(db: Db, r: AbawExportSummary): Record<string, unknown> {
  return { videos: r.videos, lines: r.lines, skipped: r.skipped, changed: countChanged(db) };
}

function finish(
  db: Db,
  format: ExportFormat,
  outDir: string,
  files: string[],
  summary: Record<string, unknown>,
  recordDb: Db = db,
): ExportOutcome {
  const exportId = recordExport(recordDb, format, outDir, { ...summary, files: files.length });
  return { format, outDir, files, summary, exportId };
}

function exportOneFile(db: Db, format: ExportFormat, outDir: string, io: AtomicOptions, recordDb: Db = db): ExportOutcome {
  let files: string[];
  let summary: Record<string, unknown>;
  switch (format) {
    case 'csv': {
      const r = writeCsvExport(db, outDir, io);
      files = r.files;
      summary = { rows: r.rows, changed: countChanged(db) };
      break;
    }
    case 'report': {
      const r = writeReport(db, outDir, io);
      files = r.files;
      summary = { changed: r.report.changes.total, decided: r.report.flags.decided, confirmedShare: r.report.flags.confirmedShare };
      break;
    }
    default:
      throw new ExportError(`unknown export format "${String(format)}" (expected abaw, csv or report)`);
  }
  return finish(db, format, outDir, files, summary, recordDb);
}

function countChanged(db: Db): number {
  return labelChangeCounts(db).reduce((s, p) => s + p.n, 0);
}

export interface ExportPreview {
  changed: number;
  pairs: LabelPairCount[];
  /** action: the standing decision that made the change (null when none did) */
  first: { video: string; frame: number; original: number; cleaned: number; action: ReviewAction | null }[];
}

/** What an export would change: counts per label pair and the first `limit` changed frames. */
export function exportPreview(db: Db, opts: { limit?: number } = {}): ExportPreview {
  const pairs = labelChangeCounts(db);
  return {
    changed: pairs.reduce((s, p) => s + p.n, 0),
    pairs,
    first: previewFrames(db, opts.limit ?? 20).map((c) => ({
      video: c.video,
      frame: c.idx,
      original: c.original,
      cleaned: c.current,
      action: c.action,
    })),
  };
}
