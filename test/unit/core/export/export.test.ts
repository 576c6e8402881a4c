import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../../../src/store/db';
import { importAbaw } from '../../../../src/main/core/ingest/abaw';
import { decide, undo } from '../../../../src/main/core/review/decisions';
import { scoreRun } from '../../../../src/main/core/review/flags';
import { exportPreview, exportProject } from '../../../../src/main/core/export/export';
import { CSV_HEADER } from '../../../../src/main/core/export/csv-writer';
import { listExports } from '../../../../src/store/exports';
import { addRun, nets, peaked } from '../../store/fixtures';

const ABAW7 = 'Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise';
const ABAW8 = ABAW7 + ',Other';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** An ABAW-style tree: annotations/<split>/<video>.txt and cropped_aligned/<video>/NNNNN.jpg. */
function abawTree(videos: { split: string; name: string; header: string; labels: number[]; crops: number[] }[]): {
  ann: string;
  frames: string;
} {
  const ann = join(root, 'annotations');
  const frames = join(root, 'cropped_aligned');
  for (const v of videos) {
    mkdirSync(join(ann, v.split), { recursive: true });
    writeFileSync(join(ann, v.split, `${v.name}.txt`), [v.header, ...v.labels.map(String)].join('\n') + '\n');
    mkdirSync(join(frames, v.name), { recursive: true });
    for (const i of v.crops) writeFileSync(join(frames, v.name, `${String(i).padStart(5, '0')}.jpg`), 'x');
  }
  return { ann, frames };
}

function labelsOf(db: Db, column: 'current_label' | 'original_label'): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const r of db
    .prepare(
      `SELECT v.name AS name, l.${column} AS l FROM frames f JOIN videos v ON v.id = f.video_id JOIN labels l ON l.frame_id = f.id ORDER BY v.name, f.idx`,
    )
    .all() as {
    name: string;
    l: number;
  }[])
    (out[r.name] ??= []).push(r.l);
  return out;
}

function project(): { db: Db; frame: (video: string, idx: number) => number; tree: { ann: string; frames: string } } {
  root = mkdtempSync(join(tmpdir(), 'concord-export-'));
  const tree = abawTree([
    // frame 3 has no crop, frame 5 is not annotated
    { split: 'Train_Set', name: 'a_left', header: ABAW7, labels: [0, 0, 1, 1, -1, 2, 2], crops: [1, 2, 4, 5, 6, 7] },
    { split: 'Validation_Set', name: 'b', header: ABAW8, labels: [7, 3, 3, 3], crops: [1, 2, 3, 4] },
  ]);
  const db = openDb(join(root, 'proj'), { create: true });
  const r = importAbaw(db, { annotations: tree.ann, frames: tree.frames });
  expect(r.errors).toEqual([]);
  const frame = (video: string, idx: number) =>
    (
      db.prepare('SELECT f.id FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = ? AND f.idx = ?').get(video, idx) as {
        id: number;
      }
    ).id;
  return { db, frame, tree };
}

describe('ABAW export', () => {
  it('writes the header and one line per original frame, and re-imports to exactly the cleaned labels', () => {
    const { db, frame, tree } = project();
    const runId = addRun(db, 2, [
      [frame('a_left', 2), nets(peaked(4), peaked(4))],
      [frame('b', 2), nets(peaked(6), peaked(6))],
    ]);
    scoreRun(db, { runId });
    decide(db, { frameIds: [frame('a_left', 2), frame('b', 2)], action: 'accept' });
    decide(db, { frameIds: [frame('a_left', 6)], action: 'exclude' });
    decide(db, { frameIds: [frame('b', 4)], action: 'relabel', label: 7 });
    decide(db, { frameIds: [frame('a_left', 3)], action: 'relabel', label: 5 }); // a frame without a crop
    decide(db, { frameIds: [frame('b', 3)], action: 'relabel', label: 0 });
    undo(db); // the last one does not count
    const cleaned = labelsOf(db, 'current_label');
    expect(cleaned).toEqual({ a_left: [0, 4, 5, 1, -1, -1, 2], b: [7, 6, 3, 7] });

    const out = join(root, 'cleaned');
    const r = exportProject(db, { format: 'abaw', outDir: out });
    expect(r.files.map((f) => f.slice(out.length + 1)).sort()).toEqual(['Train_Set/a_left.txt', 'Validation_Set/b.txt']);
    expect(readFileSync(join(out, 'Train_Set', 'a_left.txt'), 'utf8')).toBe(`${ABAW7}\n0\n4\n5\n1\n-1\n-1\n2\n`);
    expect(readFileSync(join(out, 'Validation_Set', 'b.txt'), 'utf8').split('\n')[0]).toBe(ABAW8);
    expect(r.summary).toMatchObject({ videos: 2, lines: 11, changed: 5 });
    // no temp files left behind
    expect(readdirSync(join(out, 'Train_Set'))).toEqual(['a_left.txt']);

    const db2 = openDb(join(root, 'proj2'), { create: true });
    try {
      const re = importAbaw(db2, { annotations: out, frames: tree.frames });
      expect(re.errors).toEqual([]);
      expect(labelsOf(db2, 'original_label')).toEqual(cleaned);
      const crops = db2
        .prepare("SELECT f.has_face AS h FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = 'a_left' ORDER BY f.idx")
        .all() as { h: number }[];
      expect(crops.map((c) => c.h)).toEqual([1, 1, 0, 1, 1, 1, 1]);
    } finally {
      db2.close();
      db.close();
    }
  });

  it('replaces the previous export and records every export', () => {
    const { db, frame } = project();
    const out = join(root, 'cleaned');
    exportProject(db, { format: 'abaw', outDir: out });
    decide(db, { frameIds: [frame('b', 1)], action: 'exclude' });
    exportProject(db, { format: 'abaw', outDir: out });
    expect(readFileSync(join(out, 'Validation_Set', 'b.txt'), 'utf8')).toBe(`${ABAW8}\n-1\n3\n3\n3\n`);
    const ex = listExports(db);
    expect(ex.map((e) => e.format)).toEqual(['abaw', 'abaw']);
    expect(JSON.parse(ex[0]!.summary!)).toMatchObject({ videos: 2, changed: 1, files: 2 });
    db.close();
  });
});

describe('CSV, report and preview', () => {
  it('lists changed and decided frames; the report counts pairs, confirmations and distributions', () => {
    const { db, frame } = project();
    const runId = addRun(db, 2, [
      [frame('a_left', 1), nets(peaked(4), peaked(4))],
      [frame('a_left', 2), nets(peaked(4), peaked(4))],
      [frame('a_left', 4), nets(peaked(6), peaked(6))],
      [frame('b', 2), nets(peaked(6), peaked(6))],
    ]);
    expect(scoreRun(db, { runId }).flagged).toBe(4);
    decide(db, { frameIds: [frame('a_left', 1)], action: 'accept', actor: 'x' }); // confirmed
    decide(db, { frameIds: [frame('a_left', 2)], action: 'relabel', label: 4 }); // relabel to the suggestion: confirmed
    decide(db, { frameIds: [frame('a_left', 4)], action: 'keep' }); // rejected
    decide(db, { frameIds: [frame('b', 2)], action: 'skip' }); // looked at, not a decision: stays open
    decide(db, { frameIds: [frame('b', 3)], action: 'relabel', label: 5 }); // no flag

    const out = join(root, 'out');
    const csv = exportProject(db, { format: 'csv', outDir: out });
    const lines = readFileSync(csv.files[0]!, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_HEADER);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => r.slice(0, 5))).toEqual([
      ['a_left', '1', '0', '4', 'accept'],
      ['a_left', '2', '0', '4', 'relabel'],
      ['a_left', '4', '1', '1', 'keep'],
      ['b', '2', '3', '3', 'skip'],
      ['b', '3', '3', '5', 'relabel'],
    ]);
    expect(Number(rows[0]![5])).toBeGreaterThan(0.5);
    expect(rows[4]![5]).toBe(''); // no flag, no score
    expect(rows[0]![6]).toMatch(/^\d{4}-\d\d-\d\dT/);

    const rep = exportProject(db, { format: 'report', outDir: out });
    const report = JSON.parse(readFileSync(rep.files[0]!, 'utf8'));
    expect(report.changes.total).toBe(3);
    expect(report.changes.perPair).toEqual([
      { from: 0, to: 4, fromName: 'Neutral', toName: 'Happiness', n: 2 },
      { from: 3, to: 5, fromName: 'Fear', toName: 'Sadness', n: 1 },
    ]);
    // review.counts' names and numbers: 4 frames decided (the skip is not a decision), one flag open
    expect(report.flags).toMatchObject({ flagged: 4, open: 1, decided: 4, changed: 3, confirmed: 2 });
    // of the 3 decided flagged frames, 2 agreed with the flag
    expect(report.flags.confirmedShare).toBeCloseTo(2 / 3, 9);
    expect(report.flags.byAction).toEqual({ accept: 1, relabel: 2, keep: 1, exclude: 0 });
    const dist = Object.fromEntries(
      report.labelDistribution.map((d: { label: number; before: number; after: number }) => [d.label, [d.before, d.after]]),
    );
    expect(dist[0]).toEqual([2, 0]);
    expect(dist[4]).toEqual([0, 2]);
    expect(dist[3]).toEqual([3, 2]);
    expect(dist[-1]).toEqual([1, 1]);
    expect(report.perVideo).toEqual([
      { video: 'a_left', split: 'Train_Set', changed: 2, decided: 3 },
      { video: 'b', split: 'Validation_Set', changed: 1, decided: 1 },
    ]);

    const preview = exportPreview(db, { limit: 2 });
    expect(preview.changed).toBe(3);
    expect(preview.pairs[0]).toEqual({ from: 0, to: 4, n: 2 });
    expect(preview.first).toEqual([
      { video: 'a_left', frame: 1, original: 0, cleaned: 4, action: 'accept' },
      { video: 'a_left', frame: 2, original: 0, cleaned: 4, action: 'relabel' },
    ]);
    expect(listExports(db).map((e) => e.format)).toEqual(['report', 'csv']);
    expect(existsSync(join(out, 'review-report.json'))).toBe(true);
    db.close();
  });

  it('refuses an unknown format', () => {
    const { db } = project();
    expect(() => exportProject(db, { format: 'xml' as never, outDir: join(root, 'o') })).toThrow(/unknown export format "xml"/);
    db.close();
  });
});
