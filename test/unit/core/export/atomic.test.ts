import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureOutputDir,
  processAlive,
  removeStaleTemps,
  writeFileAtomic,
  writeFilesAtomic,
  type AtomicFs,
} from '../../../../src/main/core/export/atomic';
import { exportProject, exportProjectAsync } from '../../../../src/main/core/export/export';
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

/** A pid that is not running: the highest pid_max allows is 2^22, and this one is checked. */
function deadPid(): number {
  for (let pid = 4_194_000; ; pid++) if (!processAlive(pid)) return pid;
}

/** Every path under `root`, relative, folders with a trailing slash. */
function tree(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1) + (e.isDirectory() ? '/' : ''))
    .sort();
}

describe('temp files and folders of failed or killed exports', () => {
  const twoSplits = () =>
    makeProject([
      { name: 'a', labels: [0, 1, 2, 3] },
      { name: 'b', split: 'Validation_Set', labels: [4, 5, 6, 0] },
    ]);

  it('the next export removes the temp files of dead writers and keeps those of live ones', () => {
    const p = twoSplits();
    try {
      const out = join(dir, 'out');
      fs.mkdirSync(join(out, 'Train_Set'), { recursive: true });
      const dead = deadPid();
      const planted = {
        deadRoot: join(out, `.label-changes.csv.${dead}.5eed1e55.tmp`),
        deadSplit: join(out, 'Train_Set', `.a.txt.${dead}.0badcafe.tmp`),
        // the parent of this test process (vitest) is alive: an export running right now
        live: join(out, 'Train_Set', `.a.txt.${process.ppid}.1234abcd.tmp`),
        other: join(out, 'notes.tmp'),
        // not this writer's pattern (no 8-hex suffix): someone else's file, left alone
        foreign: join(out, `.cache.${dead}.tmp`),
      };
      for (const f of Object.values(planted)) fs.writeFileSync(f, 'partial');
      exportProject(p.db, { format: 'abaw', outDir: out });
      expect(fs.existsSync(planted.deadRoot)).toBe(false);
      expect(fs.existsSync(planted.deadSplit)).toBe(false);
      expect(fs.existsSync(planted.live)).toBe(true);
      expect(fs.existsSync(planted.other)).toBe(true);
      expect(fs.existsSync(planted.foreign)).toBe(true);
      expect(removeStaleTemps(out, () => false)).toEqual([planted.live]);
    } finally {
      p.cleanup();
    }
  });

  it('a failed export makes no split folders, and a new output folder is removed again', async () => {
    const p = twoSplits();
    try {
      // the second file cannot be opened: Validation_Set/b.txt after Train_Set/a.txt
      let opens = 0;
      const failSecond: Partial<AtomicFs> = {
        openSync(path, flags, mode) {
          if (++opens === 2) throw errno('EIO');
          return fs.openSync(path, flags, mode);
        },
      };
      const out = join(dir, 'out');
      fs.mkdirSync(out);
      fs.writeFileSync(join(out, 'keep.txt'), 'mine');
      expect(() => exportProject(p.db, { format: 'abaw', outDir: out, fs: failSecond })).toThrow(/b\.txt/);
      expect(tree(out)).toEqual(['keep.txt']);

      opens = 0;
      const fresh = join(dir, 'fresh');
      await expect(exportProjectAsync(p.db, { format: 'abaw', outDir: fresh, fs: failSecond })).rejects.toThrow(/b\.txt/);
      expect(fs.existsSync(fresh)).toBe(false);

      // the commit makes the folders: a failing rename of the last file takes back the empty ones
      const renameSync = (from: string, to: string) => {
        if (to.endsWith('b.txt')) throw errno('EIO');
        fs.renameSync(from, to);
      };
      expect(() => exportProject(p.db, { format: 'abaw', outDir: out, fs: { renameSync } })).toThrow(/b\.txt: /);
      expect(tree(out)).toEqual(['Train_Set/', 'Train_Set/a.txt', 'keep.txt']);

      // and the export that goes through leaves no temp file anywhere
      exportProject(p.db, { format: 'abaw', outDir: out });
      expect(tree(out)).toEqual(['Train_Set/', 'Train_Set/a.txt', 'Validation_Set/', 'Validation_Set/b.txt', 'keep.txt']);
    } finally {
      p.cleanup();
    }
  });
});
