// Image lists may only point inside their image root: `../` entries, absolute paths elsewhere and
// symlinks that lead out are refused (file, line, reason) and not imported; the others still are.
import { describe, expect, it } from 'vitest';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { importImages } from '../../../../src/main/core/ingest/images';
import { openDb } from '../../../../src/store/db';
import { listFrames } from '../../../../src/store/dataset';
import { FAKE_JPEG, tempDir, writeFile } from '../../../helpers/tmp';

describe('importImages containment', () => {
  it('refuses RAF-DB and AffectNet entries that escape the root, naming the list line', () => {
    const dir = tempDir();
    const root = join(dir, 'img');
    writeFile(join(root, 'train_00001.jpg'), FAKE_JPEG);
    writeFile(join(root, 'sub', 'inside.jpg'), FAKE_JPEG);
    const secret = writeFile(join(dir, 'private', 'train_9.jpg'), FAKE_JPEG);
    symlinkSync(secret, join(root, 'train_link.jpg'));
    symlinkSync(join(dir, 'private'), join(root, 'dirlink'));
    symlinkSync(secret, join(root, 'train_00007_aligned.jpg')); // what RAF-DB's aligned fallback would pick
    const db = openDb(join(dir, 'p'), { create: true });

    const raf = writeFile(
      join(dir, 'raf.txt'),
      [
        'train_00001.jpg 1',
        '../private/train_9.jpg 2',
        'train_link.jpg 3',
        'dirlink/train_9.jpg 4',
        'sub/../sub/inside.jpg 5',
        'train_00007.jpg 6',
      ].join('\n'),
    );
    const r = importImages(db, { list: raf, root, format: 'rafdb' });
    expect(r.refused.map((w) => [w.file, w.line])).toEqual([
      [raf, 2],
      [raf, 3],
      [raf, 4],
      [raf, 6],
    ]);
    expect(r.refused[0]!.reason).toMatch(/path "..\/private\/train_9.jpg" leaves the image root .*; entry not imported/);
    expect(r.refused[1]!.reason).toMatch(/resolves \(through a symlink\) outside the image root/);
    expect(r.warnings.slice(0, r.refused.length)).toEqual(r.refused); // the CLI prints warnings: refusals are among them
    expect(listFrames(db, { withFaceOnly: false }).map((f) => f.imagePath)).toEqual([
      join(root, 'train_00001.jpg'),
      join(root, 'sub', 'inside.jpg'),
    ]);

    const aff = writeFile(join(dir, 'aff.csv'), `subDirectory_filePath,expression\n${secret},1\nsub/inside.jpg,1\n`);
    const a = importImages(db, { list: aff, root, format: 'affectnet' });
    expect(a.refused.map((w) => [w.line, w.reason.includes(secret)])).toEqual([[2, true]]);
    expect(a.groups.map((g) => g.images)).toEqual([1]);
  });
});
