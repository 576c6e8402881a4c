import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureOutputDir, writeFileAtomic, writeFilesAtomic, type AtomicFs } from '../../../../src/main/core/export/atomic';
import { exportProject } from '../../../../src/main/core/export/export';
import { decide } from '../../../../src/main/core/review/decisions';
import { makeProject } from '../../store/fixtures';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'concord-atomic-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

/** Writes go through for `okBytes` bytes, then the disk is full. */
function diskFullAfter(okBytes: number): Partial<AtomicFs> {
  let left = okBytes;
  return {
    writeSync(fd, buf, off, len) {
      if (left <= 0) throw errno('ENOSPC');
      const n = Math.min(len, left);
      left -= n;
      return fs.writeSync(fd, buf, off, n);
    },
  };
}

describe('atomic writes', () => {
  it('replaces a file and leaves no temp file', () => {
    const f = join(dir, 'a.txt');
    fs.writeFileSync(f, 'old');
    writeFileAtomic(f, 'new');
    expect(fs.readFileSync(f, 'utf8')).toBe('new');
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
  });

  it('a disk full mid-write keeps the old file and removes the temp file', () => {
    const f = join(dir, 'a.txt');
    fs.writeFileSync(f, 'old');
    expect(() => writeFileAtomic(f, 'x'.repeat(5000), { fs: diskFullAfter(1000) })).toThrow(
      /a\.txt: disk full while writing \(ENOSPC\); the previous file is unchanged/,
    );
    expect(fs.readFileSync(f, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
  });

  it('a batch renames nothing when a later file fails', () => {
    const a = join(dir, 'a.txt');
    const b = join(dir, 'b.txt');
    fs.writeFileSync(a, 'old a');
    fs.writeFileSync(b, 'old b');
    // the first file fits, the second runs out of space
    expect(() =>
      writeFilesAtomic(
        [
          { path: a, data: 'new a' },
          { path: b, data: 'new b, longer' },
        ],
        { fs: diskFullAfter(8) },
      ),
    ).toThrow(/b\.txt: disk full/);
    expect(fs.readFileSync(a, 'utf8')).toBe('old a');
    expect(fs.readFileSync(b, 'utf8')).toBe('old b');
    expect(fs.readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('a failing rename removes the remaining temp files', () => {
    const a = join(dir, 'a.txt');
    const renameSync = () => {
      throw errno('EXDEV');
    };
    expect(() => writeFilesAtomic([{ path: a, data: 'x' }], { fs: { renameSync } })).toThrow(/a\.txt: EXDEV/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('names the folder when it is missing, a file, or read-only', () => {
    const file = join(dir, 'plain');
    fs.writeFileSync(file, 'x');
    expect(() => ensureOutputDir(join(dir, 'no', 'such'))).toThrow(/does not exist, nor does its parent .*no/);
    expect(() => ensureOutputDir(file)).toThrow(/plain is a file, not a folder/);
    expect(() => ensureOutputDir(join(file, 'out'))).toThrow(/its parent .*plain is a file, not a folder/);
    // created when only the last level is missing
    expect(fs.statSync(ensureOutputDir(join(dir, 'fresh'))).isDirectory()).toBe(true);
    // a read-only file system (tests run as root, so chmod would not stop the write): injected
    const openSync = () => {
      throw errno('EROFS');
    };
    expect(() => writeFileAtomic(join(dir, 'fresh', 'a.txt'), 'x', { fs: { openSync } })).toThrow(
      /a\.txt: folder is not writable \(EROFS\)/,
    );
    // a write into a path under a regular file fails with a readable reason, no crash
    expect(() => writeFileAtomic(join(file, 'a.txt'), 'x')).toThrow(/a parent path is a file|folder does not exist/);
  });
});

describe('export under failure', () => {
  it('a disk full during an ABAW export leaves every previous file intact', () => {
    const p = makeProject([
      { name: 'a', labels: [0, 1, 2, 3] },
      { name: 'b', labels: [4, 5, 6, 0] },
    ]);
    try {
      const out = join(dir, 'out');
      exportProject(p.db, { format: 'abaw', outDir: out });
      const before = ['a', 'b'].map((v) => fs.readFileSync(join(out, 'Train_Set', `${v}.txt`), 'utf8'));
      decide(p.db, { frameIds: [p.frame('a', 1), p.frame('b', 1)], action: 'exclude' });
      // 'a' (66 bytes) fits, 'b' runs out half-way
      expect(() => exportProject(p.db, { format: 'abaw', outDir: out, fs: diskFullAfter(90) })).toThrow(/b\.txt: disk full/);
      expect(['a', 'b'].map((v) => fs.readFileSync(join(out, 'Train_Set', `${v}.txt`), 'utf8'))).toEqual(before);
      expect(fs.readdirSync(join(out, 'Train_Set')).sort()).toEqual(['a.txt', 'b.txt']);
      // CSV and report go through the same writer
      expect(() => exportProject(p.db, { format: 'csv', outDir: out, fs: diskFullAfter(10) })).toThrow(/label-changes\.csv: disk full/);
      expect(fs.existsSync(join(out, 'label-changes.csv'))).toBe(false);
      // the failed exports are not recorded
      expect((p.db.prepare('SELECT COUNT(*) AS n FROM exports').get() as { n: number }).n).toBe(1);
    } finally {
      p.cleanup();
    }
  });
});
