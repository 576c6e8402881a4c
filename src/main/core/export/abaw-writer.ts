// Cleaned ABAW annotation files: outDir/<split>/<video>.txt, the imported header, then one line
// per original frame with its current label. Frames without a crop keep their line, -1 stays -1,
// excluded frames are -1. Importing the written folder with importAbaw gives the cleaned labels.
import { join } from 'node:path';
import type { Db } from '../../../store/db';
import { exportVideos, videoCurrentLabels, type ExportVideo } from '../../../store/exports';
import { ABAW7_HEADER, ABAW8_HEADER } from '../../../shared/labels';
import { ExportError, ensureOutputDir, writeFilesAtomic, writeFilesAtomicAsync, type AtomicOptions } from './atomic';
import { ProgressTracker, type ProgressFn } from '../../../shared/progress';

/** Still-image sets (one group per split) have no per-frame annotation file to write back. */
export const IMAGE_LIST_SOURCES = ['rafdb', 'affectnet', 'csv'];

export interface AbawExportSummary {
  videos: number;
  /** Image-list groups left out (use the CSV export for those). */
  skipped: string[];
  lines: number;
  files: string[];
}

function safeName(kind: string, name: string): string {
  // names come from file and folder names on import; refuse anything that would leave outDir
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name))
    throw new ExportError(`${kind} name "${name}" cannot be used as a file name`);
  return name;
}

/** The text of one video's cleaned annotation file. */
export function abawFileText(video: ExportVideo, rows: [number, number][]): string {
  const header = video.header ?? (video.labelSet === 'abaw8' ? ABAW8_HEADER : ABAW7_HEADER);
  const lines = new Array<string>(rows.length + 1);
  lines[0] = header;
  for (let i = 0; i < rows.length; i++) {
    const [idx, label] = rows[i]!;
    // upsertVideo stores every annotation line as a frame, so indices are exactly 1..n
    if (idx !== i + 1)
      throw new ExportError(`video ${video.name}: frame ${i + 1} is missing from the store (found frame ${idx}); re-import it`);
    lines[i + 1] = String(label);
  }
  return lines.join('\n') + '\n';
}

export function writeAbawExport(db: Db, outDir: string, opts: AtomicOptions = {}): AbawExportSummary {
  const plan = abawFiles(db, outDir);
  const written = writeFilesAtomic(plan.files(), opts);
  return { videos: plan.videos.length, skipped: plan.skipped, lines: plan.lines(), files: written };
}

/**
 * writeAbawExport as a job: the event loop gets a turn between videos, progress counts videos,
 * and a cancel between videos leaves the previous files as they were.
 */
export async function writeAbawExportAsync(
  db: Db,
  outDir: string,
  opts: AtomicOptions & { signal?: AbortSignal; onProgress?: ProgressFn } = {},
): Promise<AbawExportSummary> {
  const plan = abawFiles(db, outDir);
  const tracker = new ProgressTracker('write annotation files', plan.videos.length, opts.onProgress);
  tracker.emit();
  async function* paced() {
    for (const f of plan.files()) {
      yield f;
      tracker.add(1, f.path);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  const written = await writeFilesAtomicAsync(paced(), opts);
  return { videos: plan.videos.length, skipped: plan.skipped, lines: plan.lines(), files: written };
}

function abawFiles(db: Db, outDir: string) {
  const root = ensureOutputDir(outDir);
  const all = exportVideos(db);
  const videos = all.filter((v) => !IMAGE_LIST_SOURCES.includes(v.source));
  const skipped = all.filter((v) => IMAGE_LIST_SOURCES.includes(v.source)).map((v) => v.name);
  let lines = 0;
  function* files() {
    for (const v of videos) {
      // the split folder is made when the whole export commits (atomic.ts), not before
      const dir = join(root, safeName('split', v.split));
      const rows = videoCurrentLabels(db, v.id);
      lines += rows.length;
      yield { path: join(dir, `${safeName('video', v.name)}.txt`), data: abawFileText(v, rows) };
    }
  }
  return { videos, skipped, files, lines: () => lines };
}
