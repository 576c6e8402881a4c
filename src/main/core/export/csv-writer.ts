// The change list as CSV: video,frame,original,cleaned,action,score,time.
// One row per frame that a reviewer decided on (its newest decision that is not undone, skip
// included) or whose label differs from the imported one; rows by video and frame.
//   frame     1-based index (the annotation line after the header)
//   original  the imported label; cleaned = the current label (-1 = not annotated or excluded)
//   action    accept | relabel | keep | exclude | skip; empty when the label changed without a
//             decision in the audit trail
//   score     the flag's ranking score when the decision was made (empty without a flag)
//   time      ISO time of the decision
import { join } from 'node:path';
import type { Db } from '../../../store/db';
import { changedFrames, effectiveDecisions } from '../../../store/exports';
import { ensureOutputDir, writeFileAtomic, type AtomicOptions } from './atomic';

export const CSV_FILE = 'label-changes.csv';
export const CSV_HEADER = 'video,frame,original,cleaned,action,score,time';

export interface CsvRow {
  video: string;
  frame: number;
  original: number;
  cleaned: number;
  action: string;
  score: number | null;
  time: string;
}

/** A text cell a spreadsheet would run as a formula (OWASP: = + - @, tab, CR) gets a leading `'`. */
export function defuseFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** One CSV cell: numbers stay numbers (a -1 label, a negative score); text is defused, then quoted as needed. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const s = defuseFormula(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function changeRows(db: Db): CsvRow[] {
  const rows = new Map<number, CsvRow & { videoId: number }>();
  for (const d of effectiveDecisions(db)) {
    rows.set(d.frameId, {
      videoId: d.videoId,
      video: d.video,
      frame: d.idx,
      original: d.original,
      cleaned: d.current,
      action: d.action,
      score: d.score,
      time: d.createdAt,
    });
  }
  for (const c of changedFrames(db)) {
    if (!rows.has(c.frameId))
      rows.set(c.frameId, {
        videoId: c.videoId,
        video: c.video,
        frame: c.idx,
        original: c.original,
        cleaned: c.current,
        action: '',
        score: null,
        time: '',
      });
  }
  return [...rows.values()].sort((a, b) => a.videoId - b.videoId || a.frame - b.frame).map(({ videoId: _videoId, ...r }) => r);
}

export function csvText(rows: CsvRow[]): string {
  const out = [CSV_HEADER];
  for (const r of rows) out.push([r.video, r.frame, r.original, r.cleaned, r.action, r.score, r.time].map(csvField).join(','));
  return out.join('\n') + '\n';
}

export function writeCsvExport(db: Db, outDir: string, opts: AtomicOptions = {}): { rows: number; files: string[] } {
  const root = ensureOutputDir(outDir);
  const rows = changeRows(db);
  const file = join(root, CSV_FILE);
  writeFileAtomic(file, csvText(rows), opts);
  return { rows: rows.length, files: [file] };
}
