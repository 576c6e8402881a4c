import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { listFolder, MAX_ENTRIES, refusedPathMessage } from '../../../src/main/core/browse';
import { NotFoundError, PathRefusedError } from '../../../src/shared/errors';
import { tempDir, writeFile } from '../../helpers/tmp';
import { createCore } from '../../../src/main/core/app';
import { statusForError } from '../../../src/main/server/http';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** base/{project, data/{annotations/Train_Set/a.txt, b.txt, .hidden, Zeta/, alpha/}}, outside/secret.txt */
function layout() {
  dir = realpathSync(tempDir());
  const data = join(dir, 'data');
  const project = join(dir, 'project');
  mkdirSync(project);
  writeFile(join(data, 'annotations', 'Train_Set', 'a.txt'), 'x');
  writeFile(join(data, 'b.txt'), 'hello');
  writeFile(join(data, '.hidden'), '');
  mkdirSync(join(data, 'Zeta'));
  mkdirSync(join(data, 'alpha'));
  writeFile(join(dir, 'outside', 'secret.txt'), 's');
  return { data, project, roots: [project, data] };
}

describe('listFolder', () => {
  it('lists the roots when no path is given', () => {
    const { roots, project } = layout();
    const r = listFolder(roots, undefined, { base: project });
    expect(r).toEqual({ path: null, parent: null, roots, entries: roots.map((name) => ({ name, kind: 'dir' })), truncated: false });
  });

  it('lists a folder: folders first, then files, by name; hidden entries only on request, last', () => {
    const { roots, data, project } = layout();
    const r = listFolder(roots, data, { base: project });
    expect(r.path).toBe(data);
    expect(r.parent).toBeNull(); // a root's top: up is the roots list
    expect(r.entries).toEqual([
      { name: 'alpha', kind: 'dir' },
      { name: 'annotations', kind: 'dir' },
      { name: 'Zeta', kind: 'dir' },
      { name: 'b.txt', kind: 'file', size: 5 },
    ]);
    expect(r.truncated).toBe(false);
    const all = listFolder(roots, data, { base: project, hidden: true });
    expect(all.entries.at(-1)).toEqual({ name: '.hidden', kind: 'file', size: 0 });
    const sub = listFolder(roots, join(data, 'annotations', 'Train_Set'), { base: project });
    expect(sub.parent).toBe(join(data, 'annotations'));
    expect(sub.entries).toEqual([{ name: 'a.txt', kind: 'file', size: 1 }]);
  });

  it('resolves relative paths against the project, and refuses `..` out of the roots', () => {
    const { roots, data, project } = layout();
    expect(listFolder(roots, '../data/annotations', { base: project }).path).toBe(join(data, 'annotations'));
    expect(() => listFolder(roots, '..', { base: project })).toThrow(PathRefusedError);
    expect(() => listFolder(roots, join(data, '..', 'outside'), { base: project })).toThrow(
      /outside the project and the allowed data folders/,
    );
  });

  it('refuses an absolute path outside the roots, naming the roots and how to allow another', () => {
    const { roots, project } = layout();
    let err: unknown;
    try {
      listFolder(roots, join(dir, 'outside'), { base: project });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PathRefusedError);
    expect((err as PathRefusedError).status).toBe(403);
    expect((err as Error).message).toBe(refusedPathMessage(join(dir, 'outside'), roots));
    expect((err as Error).message).toContain(roots.join(', '));
    expect((err as Error).message).toContain('concord serve PROJECT --data DIR');
    expect(() => listFolder(roots, '/', { base: project })).toThrow(PathRefusedError);
  });

  it('refuses a symlink inside a root that points out of it, and does not list it as a way out', () => {
    const { roots, data, project } = layout();
    symlinkSync(join(dir, 'outside'), join(data, 'link-out'));
    expect(() => listFolder(roots, join(data, 'link-out'), { base: project })).toThrow(PathRefusedError);
    // a link that stays inside is followed
    symlinkSync(join(data, 'annotations'), join(data, 'link-in'));
    expect(listFolder(roots, join(data, 'link-in'), { base: project }).path).toBe(join(data, 'annotations'));
  });

  it('says when a folder does not exist or is a file', () => {
    const { roots, data, project } = layout();
    expect(() => listFolder(roots, join(data, 'nope'), { base: project })).toThrow(NotFoundError);
    expect(() => listFolder(roots, join(data, 'b.txt'), { base: project })).toThrow(/is a file/);
  });

  it('cuts a huge folder at the limit and says so', () => {
    const { roots, data, project } = layout();
    for (let i = 0; i < 12; i++) writeFile(join(data, 'many', `f${String(i).padStart(2, '0')}.jpg`), '');
    const r = listFolder(roots, join(data, 'many'), { base: project, max: 10 });
    expect(r.entries).toHaveLength(10);
    expect(r.entries[0]!.name).toBe('f00.jpg');
    expect(r.truncated).toBe(true);
    expect(MAX_ENTRIES).toBeGreaterThanOrEqual(1000);
  });
});

describe("the core's fs.list", () => {
  it('lists the project and the allowed roots, and refuses the rest with 403 and the hint', async () => {
    const { data, project } = layout();
    const core = await createCore(project, { allowedRoots: [data] });
    try {
      const roots = await core.request('fs.list', {});
      expect(roots.roots).toEqual([project, data]);
      expect((await core.request('fs.list', { path: join(data, 'annotations') })).entries).toEqual([{ name: 'Train_Set', kind: 'dir' }]);
      const err = await core.request('fs.list', { path: '/' }).catch((e: unknown) => e);
      expect(statusForError(err)).toBe(403);
      expect((err as Error).message).toMatch(/outside the project and the allowed data folders \(.+\); start the host with/);
      // the imports' refusal says the same
      const imp = await core.request('import.abaw', { annotations: '/etc', frames: '/etc' }).catch((e: unknown) => e);
      expect((imp as Error).message).toBe(refusedPathMessage('/etc', [project, data]));
    } finally {
      await core.close();
    }
  });
});
