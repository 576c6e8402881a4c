import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { importImages, parseAffectnetCsv, parseGenericCsv, parseRafdbList, splitCsvLine } from '../../../../src/main/core/ingest/images';
import { openDb } from '../../../../src/store/db';
import { datasetInfo, imageSubjectCount, listFrames } from '../../../../src/store/dataset';
import { FAKE_JPEG, tempDir, writeFile } from '../../../helpers/tmp';

describe('image list parsers', () => {
  it('maps RAF-DB labels (1 Surprise .. 7 Neutral) to ABAW-7 and splits by name', () => {
    const items = parseRafdbList('train_00001.jpg 1\ntrain_00002.jpg 7\r\ntest_0001.jpg 4\n', 'list.txt');
    expect(items.map((i) => [i.label, i.split])).toEqual([
      [6, 'Train_Set'],
      [0, 'Train_Set'],
      [4, 'Validation_Set'],
    ]);
  });

  it('names the line of a bad RAF-DB label', () => {
    expect(() => parseRafdbList('a.jpg 1\nb.jpg 8\n', 'list.txt')).toThrow('list.txt:2: RAF-DB label "8" is not 1..7');
  });

  it('maps AffectNet codes, dropping contempt and non-expressions', () => {
    const { items, skipped } = parseAffectnetCsv(
      'subDirectory_filePath,face_x,expression\n1/a.jpg,0,1\n1/b.jpg,0,7\n1/c.jpg,0,6\n1/d.jpg,0,10\n',
      'a.csv',
    );
    expect(items.map((i) => [i.path, i.label])).toEqual([
      ['1/a.jpg', 4],
      ['1/c.jpg', 1],
    ]);
    expect(skipped).toBe(2);
  });

  it('rejects an AffectNet CSV without the needed columns', () => {
    expect(() => parseAffectnetCsv('a,b\n1,2\n', 'a.csv')).toThrow(/a.csv:1: header must name/);
  });

  it('reads a generic CSV with names, numbers, a label map and quoted paths', () => {
    const items = parseGenericCsv('path,label\n"x, y.jpg",happy\nb.jpg,3\nc.jpg,joyful\n', 'g.csv', { joyful: 4 });
    expect(items.map((i) => [i.path, i.label])).toEqual([
      ['x, y.jpg', 4],
      ['b.jpg', 3],
      ['c.jpg', 4],
    ]);
    expect(() => parseGenericCsv('a.jpg,contempt\n', 'g.csv')).toThrow('g.csv:1: label "contempt"');
  });

  it('reports prototype names (constructor, toString, __proto__) as unknown labels, naming file, line and label', () => {
    for (const [i, name] of ['constructor', 'toString', '__proto__', 'hasOwnProperty'].entries()) {
      const text = `path,label\na.jpg,happy\n${'x.jpg,sad\n'.repeat(i)}b.jpg,${name}\n`;
      expect(() => parseGenericCsv(text, 'g.csv')).toThrow(`g.csv:${i + 3}: label "${name}" is not an ABAW-7 class`);
      expect(() => parseGenericCsv(text, 'g.csv', { joyful: 4 })).toThrow(`g.csv:${i + 3}: label "${name}"`);
    }
    expect(() => parseRafdbList('a.jpg constructor\n', 'l.txt')).toThrow('l.txt:1: RAF-DB label "constructor"');
    expect(() => parseAffectnetCsv('path,expression\na.jpg,constructor\n', 'a.csv')).toThrow('a.csv:2: expression "constructor"');
  });

  it('splits CSV lines with doubled quotes', () => {
    expect(splitCsvLine('"a ""q""",b')).toEqual(['a "q"', 'b']);
  });
});

describe('importImages', () => {
  it('imports a RAF-DB list into one group per split, resolving aligned names', () => {
    const root = tempDir();
    writeFile(join(root, 'img', 'train_00001_aligned.jpg'), FAKE_JPEG);
    writeFile(join(root, 'img', 'train_00002.jpg'), FAKE_JPEG);
    writeFile(join(root, 'img', 'test_0001.jpg'), FAKE_JPEG);
    const list = writeFile(
      join(root, 'list_patition_label.txt'),
      'train_00001.jpg 1\ntrain_00002.jpg 5\ntest_0001.jpg 7\ntrain_00003.jpg 2\n',
    );
    const db = openDb(join(root, 'p'), { create: true });
    const r = importImages(db, { list, root: join(root, 'img'), format: 'rafdb' });
    expect(r.groups.map((g) => [g.split, g.images, g.missing])).toEqual([
      ['Train_Set', 3, 1],
      ['Validation_Set', 1, 0],
    ]);
    expect(r.warnings[0]!.reason).toMatch(/train_00003.jpg not found/);
    const info = datasetInfo(db);
    expect(info.frames).toBe(4);
    expect(info.trainableFrames).toBe(3);
    const frames = listFrames(db, { splits: ['Train_Set'] });
    expect(frames.map((f) => f.imagePath)).toEqual([join(root, 'img', 'train_00001_aligned.jpg'), join(root, 'img', 'train_00002.jpg')]);
    // idempotent
    importImages(db, { list, root: join(root, 'img'), format: 'rafdb' });
    expect(datasetInfo(db).frames).toBe(4);
  });

  it("keeps a CSV's subject column with each image, and a re-import with new subjects updates them", () => {
    const root = tempDir();
    for (const n of ['a', 'b', 'c']) writeFile(join(root, 'img', `${n}.jpg`), FAKE_JPEG);
    const list = writeFile(
      join(root, 'list.csv'),
      'path,label,split,subject\na.jpg,1,Train_Set,p1\nb.jpg,2,Train_Set,p2\nc.jpg,3,Validation_Set,p1\n',
    );
    const db = openDb(join(root, 'p'), { create: true });
    importImages(db, { list, root: join(root, 'img'), format: 'csv' });
    expect(listFrames(db).map((f) => [f.imagePath.slice(-5), f.split, f.subject])).toEqual([
      ['a.jpg', 'Train_Set', 'p1'],
      ['b.jpg', 'Train_Set', 'p2'],
      ['c.jpg', 'Validation_Set', 'p1'],
    ]);
    expect(imageSubjectCount(db)).toBe(2);
    writeFile(list, 'a.jpg,1,Train_Set,p7\nb.jpg,2,Train_Set\nc.jpg,3,Validation_Set,p1\n');
    importImages(db, { list, root: join(root, 'img'), format: 'csv' });
    expect(listFrames(db).map((f) => f.subject)).toEqual(['p7', null, 'p1']);
    // a list without the column names none
    const plain = openDb(join(root, 'q'), { create: true });
    importImages(plain, { list: writeFile(join(root, 'plain.csv'), 'a.jpg,1\nb.jpg,2\n'), root: join(root, 'img'), format: 'csv' });
    expect(listFrames(plain).map((f) => f.subject)).toEqual([null, null]);
    expect(imageSubjectCount(plain)).toBe(0);
  });

  it('refuses a missing list file or root', () => {
    const root = tempDir();
    const db = openDb(join(root, 'p'), { create: true });
    expect(() => importImages(db, { list: join(root, 'none.txt'), root, format: 'csv' })).toThrow(/list file not found/);
    const list = writeFile(join(root, 'l.csv'), 'a.jpg,1\n');
    expect(() => importImages(db, { list, root: join(root, 'nope'), format: 'csv' })).toThrow(/image root folder not found/);
  });

  it('imports nothing from a list whose label is a prototype name', () => {
    const root = tempDir();
    writeFile(join(root, 'img', 'a.jpg'), FAKE_JPEG);
    writeFile(join(root, 'img', 'b.jpg'), FAKE_JPEG);
    const list = writeFile(join(root, 'list.csv'), 'path,label\na.jpg,happy\nb.jpg,constructor\n');
    const db = openDb(join(root, 'proj'), { create: true });
    expect(() => importImages(db, { list, root: join(root, 'img'), format: 'csv' })).toThrow(`${list}:3: label "constructor"`);
    expect(datasetInfo(db).frames).toBe(0);
  });
});
