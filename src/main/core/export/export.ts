// Export entry points for the app, the server and the CLI: one format per call, each recorded in
// the exports table; and a preview of what an export would change.
import type { Db } from '../../../store/db';
import { changedFrames, labelChangeCounts, recordExport, type LabelPairCount } from '../../../store/exports';
import { writeAbawExport } from './abaw-writer';
import { writeCsvExport } from './csv-writer';
import { writeReport } from './report';
import { ExportError, ensureOutputDir, type AtomicOptions } from './atomic';

export type ExportFormat = 'abaw' | 'csv' | 'report';

export interface ExportResult {
  format: ExportFormat;
  outDir: string;
  files: string[];
  summary: Record<string, unknown>;
  exportId: number;
}

export function exportProject(db: Db, opts: { format: ExportFormat; outDir: string } & AtomicOptions): ExportResult {
  const outDir = ensureOutputDir(opts.outDir);
  const io: AtomicOptions = { fs: opts.fs, fsync: opts.fsync };
  let files: string[];
  let summary: Record<string, unknown>;
  switch (opts.format) {
    case 'abaw': {
      const r = writeAbawExport(db, outDir, io);
      files = r.files;
      summary = { videos: r.videos, lines: r.lines, skipped: r.skipped, changed: countChanged(db) };
      break;
    }
    case 'csv': {
      const r = writeCsvExport(db, outDir, io);
      files = r.files;
      summary = { rows: r.rows, changed: countChanged(db) };
      break;
    }
    case 'report': {
      const r = writeReport(db, outDir, io);
      files = r.files;
      summary = { changed: r.report.changes.total, reviewed: r.report.flags.reviewed, confirmedShare: r.report.flags.confirmedShare };
      break;
    }
    default:
      throw new ExportError(`unknown export format "${String(opts.format)}" (expected abaw, csv or report)`);
  }
  const exportId = recordExport(db, opts.format, outDir, { ...summary, files: files.length });
  return { format: opts.format, outDir, files, summary, exportId };
}

function countChanged(db: Db): number {
  return labelChangeCounts(db).reduce((s, p) => s + p.n, 0);
}

export interface ExportPreview {
  changed: number;
  pairs: LabelPairCount[];
  first: { video: string; frame: number; original: number; cleaned: number }[];
}

/** What an export would change: counts per label pair and the first `limit` changed frames. */
export function exportPreview(db: Db, opts: { limit?: number } = {}): ExportPreview {
  const pairs = labelChangeCounts(db);
  return {
    changed: pairs.reduce((s, p) => s + p.n, 0),
    pairs,
    first: changedFrames(db, opts.limit ?? 20).map((c) => ({ video: c.video, frame: c.idx, original: c.original, cleaned: c.current })),
  };
}
