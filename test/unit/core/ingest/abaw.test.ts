import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { ImportError, importAbaw, parseAbawAnnotation } from '../../../../src/main/core/ingest/abaw';
import { decide } from '../../../../src/main/core/review/decisions';
import { openDb } from '../../../../src/store/db';
import { datasetInfo, listFrames, getVideo } from '../../../../src/store/dataset';
import { HEADER7, makeAbaw, tempDir, writeFile } from '../../../helpers/tmp';

function errorOf(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (e) {
    return e as ImportError;
  }
  throw new Error('expected an error');
}

describe('parseAbawAnnotation', () => {
  it('parses the 7-class header and labels, -1 included', () => {
    const p = parseAbawAnnotation(`${HEADER7}\n0\n4\n-1\n6\n`, 'a.txt');
    expect(p.labelSet).toBe('abaw7');
    expect(Array.from(p.labels)).toEqual([0, 4, -1, 6]);
  });

  it('accepts the 8-class header with Other', () => {
    const p = parseAbawAnnotation(`${HEADER7},Other\n7\n0\n`, 'a.txt');
    expect(p.labelSet).toBe('abaw8');
    expect(Array.from(p.labels)).toEqual([7, 0]);
  });

  it('accepts CRLF line ends and a BOM', () => {
    const p = parseAbawAnnotation(`\uFEFF${HEADER7}\r\n1\r\n2\r\n`, 'a.txt');
    expect(Array.from(p.labels)).toEqual([1, 2]);
  });

  it('names file and line for an unknown header', () => {
    const e = errorOf(() => parseAbawAnnotation('Happy,Sad\n1\n', 'x.txt'));
    expect(e.file).toBe('x.txt');
    expect(e.line).toBe(1);
    expect(e.message).toMatch(/unknown header/);
  });

  it('rejects an empty file', () => {
    expect(errorOf(() => parseAbawAnnotation('', 'x.txt')).message).toMatch(/empty file/);
  });

  it.each([
    ['a non-integer label', `${HEADER7}\n0\nhappy\n`, 3, /not an integer/],
    ['a fractional label', `${HEADER7}\n0\n1.5\n`, 3, /not an integer/],
    ['an out-of-range label', `${HEADER7}\n0\n1\n7\n`, 4, /out of range/],
    ['a label below -1', `${HEADER7}\n-2\n`, 2, /out of range/],
    ['a blank line', `${HEADER7}\n0\n\n1\n`, 3, /blank label line/],
  ])('names the line of %s', (_what, text, line, re) => {
    const e = errorOf(() => parseAbawAnnotation(text, 'v.txt'));
    expect(e.line).toBe(line);
    expect(e.message).toMatch(re);
    expect(e.message).toContain(`v.txt:${line}`);
  });
});

describe('importAbaw', () => {
  it('indexes videos, frames, labels and missing crops per split', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [
      { split: 'Train_Set', name: 'vid one', labels: [0, 0, 4, -1, 5], missing: [2] },
      { split: 'Train_Set', name: '10-60-1280x720_left', labels: [1, 1, 1] },
      { split: 'Train_Set', name: '10-60-1280x720_right', labels: [2, 2, -1] },
      { split: 'Validation_Set', name: 'vidé', labels: [6, 6] },
    ]);
    const db = openDb(join(root, 'proj'), { create: true });
    const r = importAbaw(db, { annotations, frames });
    expect(r.errors).toEqual([]);
    expect(r.frames).toBe(13);
    const info = datasetInfo(db);
    expect(info.videos).toBe(4);
    expect(info.frames).toBe(13);
    expect(info.labelledFrames).toBe(11);
    expect(info.missingCrops).toBe(1);
    expect(info.trainableFrames).toBe(10);
    expect(info.splits['Train_Set']!.frames).toBe(11);
    expect(info.splits['Validation_Set']!.perClass[6]).toBe(2);
    expect(info.perClass).toEqual([2, 3, 2, 0, 1, 1, 2]);
    const f = listFrames(db, { splits: ['Train_Set'], labelledOnly: true });
    expect(f.find((x) => x.video === 'vid one' && x.idx === 3)!.imagePath).toBe(join(frames, 'vid one', '00003.jpg'));
    expect(f.some((x) => x.video === 'vid one' && x.idx === 2)).toBe(false);
  });

  it('is idempotent: the same import twice adds no rows', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [{ split: 'Train_Set', name: 'a', labels: [0, 1, 2] }]);
    const db = openDb(join(root, 'proj'), { create: true });
    importAbaw(db, { annotations, frames });
    const again = importAbaw(db, { annotations, frames });
    expect(again.videos[0]!.outcome).toBe('unchanged');
    expect((db.prepare('SELECT COUNT(*) n FROM frames').get() as { n: number }).n).toBe(3);
    expect((db.prepare('SELECT COUNT(*) n FROM labels').get() as { n: number }).n).toBe(3);
  });

  it('re-import of a changed file updates labels in place and keeps reviewed labels', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [{ split: 'Train_Set', name: 'a', labels: [0, 1, 2] }]);
    const db = openDb(join(root, 'proj'), { create: true });
    importAbaw(db, { annotations, frames });
    const frame1 = (db.prepare('SELECT id FROM frames WHERE idx = 1').get() as { id: number }).id;
    db.prepare('UPDATE labels SET current_label = 5 WHERE frame_id = ?').run(frame1); // a reviewed label
    writeFile(join(annotations, 'Train_Set', 'a.txt'), `${HEADER7}\n3\n3\n`);
    const r = importAbaw(db, { annotations, frames });
    expect(r.videos[0]!.outcome).toBe('updated');
    const rows = db
      .prepare('SELECT f.idx, l.original_label o, l.current_label c FROM frames f JOIN labels l ON l.frame_id=f.id ORDER BY idx')
      .all();
    expect(rows).toEqual([
      { idx: 1, o: 3, c: 5 },
      { idx: 2, o: 3, c: 3 },
    ]);
    expect((db.prepare('SELECT id FROM frames WHERE idx = 1').get() as { id: number }).id).toBe(frame1);
  });

  it('reports a bad file with file and line, imports the good ones, and leaves no partial video', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [
      { split: 'Train_Set', name: 'good', labels: [0, 1] },
      { split: 'Train_Set', name: 'bad', labels: [], raw: `${HEADER7}\n0\n1\n9\n2\n` },
    ]);
    const db = openDb(join(root, 'proj'), { create: true });
    const r = importAbaw(db, { annotations, frames });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.file).toBe(join(annotations, 'Train_Set', 'bad.txt'));
    expect(r.errors[0]!.line).toBe(4);
    expect(getVideo(db, 'bad')).toBeUndefined();
    expect((db.prepare('SELECT COUNT(*) n FROM frames').get() as { n: number }).n).toBe(2);
  });

  it('reports a missing frames folder for that video', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [{ split: 'Train_Set', name: 'a', labels: [0, 1] }]);
    rmSync(join(frames, 'a'), { recursive: true });
    const db = openDb(join(root, 'proj'), { create: true });
    const r = importAbaw(db, { annotations, frames });
    expect(r.errors[0]!.reason).toMatch(/frames folder .* is missing/);
  });

  it('refuses a missing cropped_aligned root and a missing annotations folder', () => {
    const root = tempDir();
    const db = openDb(join(root, 'proj'), { create: true });
    expect(() => importAbaw(db, { annotations: join(root, 'nope'), frames: root })).toThrow(/annotations folder not found/);
    const { annotations } = makeAbaw(root, [{ split: 'Train_Set', name: 'a', labels: [0] }]);
    expect(() => importAbaw(db, { annotations, frames: join(root, 'none') })).toThrow(/frames folder .* not found/);
  });

  it('warns with both counts when crops go past the annotation lines', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [{ split: 'Train_Set', name: 'a', labels: [0, 1] }]);
    writeFileSync(join(frames, 'a', '00007.jpg'), 'x');
    const db = openDb(join(root, 'proj'), { create: true });
    const r = importAbaw(db, { annotations, frames });
    expect(r.warnings[0]!.reason).toMatch(/2 frame lines .* up to frame 7/);
  });

  it('with verify, indexes zero-byte and corrupt JPEGs as missing crops, naming each file', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [{ split: 'Train_Set', name: 'a', labels: [0, 1, 2, 3] }]);
    writeFileSync(join(frames, 'a', '00002.jpg'), '');
    writeFileSync(join(frames, 'a', '00003.jpg'), Buffer.from([0xff, 0xd8, 1, 2, 3, 4, 5]));
    const db = openDb(join(root, 'proj'), { create: true });
    const r = importAbaw(db, { annotations, frames, verify: true });
    expect(r.warnings.map((w) => [w.file.slice(-9), w.reason.split(';')[0]])).toEqual([
      ['00002.jpg', 'zero-byte JPEG'],
      ['00003.jpg', 'truncated JPEG (no EOI marker)'],
    ]);
    expect(datasetInfo(db).missingCrops).toBe(2);
  });

  it('cancels between videos; a second run completes without duplicates', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [
      { split: 'Train_Set', name: 'a', labels: [0, 1] },
      { split: 'Train_Set', name: 'b', labels: [2, 3] },
    ]);
    const db = openDb(join(root, 'proj'), { create: true });
    const ac = new AbortController();
    expect(() =>
      importAbaw(db, {
        annotations,
        frames,
        signal: ac.signal,
        onProgress: () => ac.abort(),
      }),
    ).toThrow(/cancelled/);
    const partial = datasetInfo(db).videos;
    expect(partial).toBe(1);
    importAbaw(db, { annotations, frames });
    expect(datasetInfo(db).frames).toBe(4);
  });

  it('matches _left/_right annotation files to one shared video file', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [
      { split: 'Train_Set', name: 'v_left', labels: [0] },
      { split: 'Train_Set', name: 'v_right', labels: [1] },
    ]);
    mkdirSync(join(root, 'videos'));
    writeFileSync(join(root, 'videos', 'v.mp4'), 'x');
    const db = openDb(join(root, 'proj'), { create: true });
    importAbaw(db, { annotations, frames, videos: join(root, 'videos') });
    expect(getVideo(db, 'v_left')!.video_file).toBe(join(root, 'videos', 'v.mp4'));
    expect(getVideo(db, 'v_right')!.video_file).toBe(join(root, 'videos', 'v.mp4'));
  });

  it('refuses the same video name in two splits, naming both files, and stays put on every re-import', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [
      { split: 'Train_Set', name: 'x', labels: [0, 1, 2] },
      { split: 'Validation_Set', name: 'x', labels: [4] },
    ]);
    const db = openDb(join(root, 'proj'), { create: true });
    for (let run = 0; run < 2; run++) {
      const r = importAbaw(db, { annotations, frames });
      expect(r.videos.map((v) => [v.split, v.outcome])).toEqual([
        ['Train_Set', run === 0 ? 'inserted' : 'unchanged'],
        ['Validation_Set', 'failed'],
      ]);
      expect(r.errors).toEqual([
        {
          file: join(annotations, 'Validation_Set', 'x.txt'),
          line: null,
          reason: expect.stringContaining(
            `video name "x" is already imported from ${join(annotations, 'Train_Set', 'x.txt')} (split Train_Set)`,
          ),
        },
      ]);
      expect(getVideo(db, 'x')).toMatchObject({ split: 'Train_Set', frame_count: 3 });
    }
  });

  it('a shorter re-import keeps the decisions on removed frames and warns that they are orphaned', () => {
    const root = tempDir();
    const { annotations, frames } = makeAbaw(root, [{ split: 'Train_Set', name: 'a', labels: [0, 1, 2, 3] }]);
    const db = openDb(join(root, 'proj'), { create: true });
    importAbaw(db, { annotations, frames });
    const frameId = (idx: number) => (db.prepare('SELECT id FROM frames WHERE idx = ?').get(idx) as { id: number }).id;
    decide(db, { frameIds: [frameId(1), frameId(3), frameId(4)], action: 'relabel', label: 5 });
    writeFile(join(annotations, 'Train_Set', 'a.txt'), `${HEADER7}\n0\n1\n`);
    const r = importAbaw(db, { annotations, frames });
    expect(r.videos[0]!.outcome).toBe('updated');
    expect(r.warnings).toContainEqual({
      file: join(annotations, 'Train_Set', 'a.txt'),
      line: null,
      reason: "2 review decisions are about frames past this file's 2 lines; kept in the audit trail as orphaned",
    });
    expect((db.prepare('SELECT COUNT(*) n FROM decisions').get() as { n: number }).n).toBe(3);
    expect(datasetInfo(db).orphanedDecisions).toBe(2);
  });
});
