// Export at Aff-Wild2 scale: 548 videos, 2.6 million annotation lines (synthetic store, crops not
// on disk), 20,000 reviewed frames; times the ABAW export (target < 10 s), the CSV and the report,
// and the preview. Prints one JSON line. Usage: npx tsx bench/export.ts [videos] [lines]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src/store/db';
import { upsertVideo } from '../src/store/dataset';
import { decide } from '../src/main/core/review/decisions';
import { exportPreview, exportProject } from '../src/main/core/export/export';
import { ABAW7_HEADER } from '../src/shared/labels';

const VIDEOS = Number(process.argv[2] ?? 548);
const LINES = Number(process.argv[3] ?? 2_600_000);

let seed = 1;
const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;

const dir = mkdtempSync(join(tmpdir(), 'concord-bench-export-'));
const db = openDb(join(dir, 'proj'), { create: true });
try {
  const t0 = performance.now();
  const per = Math.floor(LINES / VIDEOS);
  for (let v = 0; v < VIDEOS; v++) {
    const n = v === VIDEOS - 1 ? LINES - per * (VIDEOS - 1) : per;
    const labels = new Int8Array(n);
    const hasFace = new Uint8Array(n);
    let l = 0;
    for (let i = 0; i < n; i++) {
      if (rand() < 0.01) l = Math.floor(rand() * 8) - 1; // segments of one label, some -1
      labels[i] = l;
      hasFace[i] = rand() < 0.97 ? 1 : 0;
    }
    upsertVideo(
      db,
      {
        name: `video-${v}`,
        split: v % 4 === 0 ? 'Validation_Set' : 'Train_Set',
        source: 'abaw',
        labelSet: 'abaw7',
        header: ABAW7_HEADER,
        annotationFile: null,
        framesDir: join(dir, 'crops', `video-${v}`),
      },
      { labels, hasFace },
    );
  }
  const buildMs = performance.now() - t0;
  const maxId = (db.prepare('SELECT MAX(id) AS m FROM frames').get() as { m: number }).m;
  const picks = new Set<number>();
  while (picks.size < 20_000) picks.add(1 + Math.floor(rand() * maxId));
  const ids = [...picks];
  decide(db, { frameIds: ids.slice(0, 10_000), action: 'relabel', label: 3 });
  decide(db, { frameIds: ids.slice(10_000, 15_000), action: 'exclude' });
  decide(db, { frameIds: ids.slice(15_000), action: 'keep' });

  const time = <T>(fn: () => T) => {
    const t = performance.now();
    const r = fn();
    return { ms: Math.round(performance.now() - t), r };
  };
  const abaw = time(() => exportProject(db, { format: 'abaw', outDir: join(dir, 'abaw') }));
  const abawAgain = time(() => exportProject(db, { format: 'abaw', outDir: join(dir, 'abaw') }));
  const csv = time(() => exportProject(db, { format: 'csv', outDir: join(dir, 'out') }));
  const report = time(() => exportProject(db, { format: 'report', outDir: join(dir, 'out') }));
  const preview = time(() => exportPreview(db));
  const s = abaw.r.summary as { videos: number; lines: number; changed: number };
  console.log(
    JSON.stringify({
      bench: 'export',
      videos: s.videos,
      lines: s.lines,
      changed: s.changed,
      abawMs: abaw.ms,
      abawOverwriteMs: abawAgain.ms,
      csvMs: csv.ms,
      csvRows: (csv.r.summary as { rows: number }).rows,
      reportMs: report.ms,
      previewMs: preview.ms,
      buildMs: Math.round(buildMs),
    }),
  );
} finally {
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
