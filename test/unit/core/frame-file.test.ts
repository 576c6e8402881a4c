// Frame images are served only from the project's data folders and only when they are images:
// the /etc/passwd image list and the symlinked crop of issue 11, through the real core and server.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { request as httpRequest } from 'node:http';
import { mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createCore, type Core } from '../../../src/main/core/app';
import { checkFrameFile, imageTypeOf, insideDir } from '../../../src/main/core/frame-file';
import { startServer, type RunningServer } from '../../../src/main/server/http';
import { listFrames, upsertVideo } from '../../../src/store/dataset';
import type { JobInfo } from '../../../src/shared/api';
import { FAKE_JPEG, makeAbaw, tempDir, writeFile } from '../../helpers/tmp';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([4, 0, 0, 0]), Buffer.from('WEBPVP8 ')]);

let core: Core | null = null;
let server: RunningServer | null = null;
afterEach(async () => {
  await server?.close();
  await core?.close();
  server = core = null;
  vi.restoreAllMocks();
});

/** The result of a job the request starts (job.done), or its error message (job.error). */
function finished(c: Core, start: () => Promise<JobInfo>): Promise<any> {
  let id: string | null = null;
  const end = new Promise((ok, fail) => {
    c.on('job.done', (e) => e.jobId === id && ok(e.result));
    c.on('job.error', (e) => e.jobId === id && fail(new Error(e.error)));
  });
  return start().then((j) => ((id = j.jobId), end));
}

function get(port: number, path: string, token: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((ok, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks).toString('latin1') }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

async function serve(c: Core, dir: string): Promise<RunningServer> {
  const web = join(dir, 'web');
  writeFile(join(web, 'index.html'), '<!doctype html>');
  return (server = await startServer({ core: c, staticDir: web }));
}

describe('frame images', () => {
  it('refuses image-list entries that leave the root (file, line, reason) and never serves /etc/passwd', async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    writeFile(join(data, 'good.jpg'), FAKE_JPEG);
    const secret = writeFile(join(dir, 'secret.jpg'), Buffer.concat([FAKE_JPEG, Buffer.from('TOP SECRET')]));
    const list = writeFile(
      join(data, 'list.csv'),
      `path,label\n../../../../../../etc/passwd,0\n../secret.jpg,1\n${secret},2\ngood.jpg,3\n`,
    );
    core = await createCore(join(dir, 'p'), { allowedRoots: [data] });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const r = await finished(core, () => core!.request('import.images', { list, root: data, format: 'csv' }));
    const refused = r.warnings.filter((w: { reason: string }) => /leaves the image root/.test(w.reason));
    expect(refused.map((w: { file: string; line: number }) => [w.file, w.line])).toEqual([
      [list, 2],
      [list, 3],
      [list, 4],
    ]);
    expect(refused[0].reason).toContain('../../../../../../etc/passwd');
    expect(refused[0].reason).toContain('entry not imported');
    const frames = listFrames(core.db, { withFaceOnly: false });
    expect(frames.map((f) => f.imagePath)).toEqual([join(data, 'good.jpg')]);

    const s = await serve(core, dir);
    for (let id = 1; id <= 5; id++) {
      const res = await get(s.port, `/frames/${id}.jpg`, s.token);
      expect(res.body).not.toMatch(/root:|TOP SECRET/);
      expect(res.status, `frame ${id}`).toBe(id === frames[0]!.frameId ? 200 : 404);
    }
    expect(warn).not.toHaveBeenCalled(); // nothing was refused at serving time: the import kept them out
  });

  it('answers 404 for a crop symlinked outside the data folders (import.abaw without verify), and logs it', async () => {
    const dir = tempDir();
    const { annotations, frames } = makeAbaw(join(dir, 'data'), [{ split: 'Train_Set', name: 'v', labels: [0, 1, 2] }]);
    const outside = writeFile(join(dir, 'elsewhere', 'shadow.jpg'), Buffer.concat([FAKE_JPEG, Buffer.from('SHADOW')]));
    unlinkSync(join(frames, 'v', '00002.jpg'));
    symlinkSync(outside, join(frames, 'v', '00002.jpg'));
    unlinkSync(join(frames, 'v', '00003.jpg'));
    symlinkSync('/etc/passwd', join(frames, 'v', '00003.jpg'));
    core = await createCore(join(dir, 'p')); // the desktop app's core: no allowedRoots
    await finished(core, () => core!.request('import.abaw', { annotations, frames }));
    const ids = listFrames(core.db).map((f) => f.frameId);
    expect(ids).toHaveLength(3); // without --verify every crop was indexed
    const lines: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: string) => void lines.push(line));
    const s = await serve(core, dir);
    expect((await get(s.port, `/frames/${ids[0]}.jpg`, s.token)).status).toBe(200);
    for (const id of ids.slice(1)) {
      const res = await get(s.port, `/frames/${id}.jpg`, s.token);
      expect(res.status).toBe(404);
      expect(res.body).not.toMatch(/SHADOW|root:/);
    }
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`frame ${ids[1]}: image refused .*outside the project's data folders`));
    expect(lines.join('\n')).not.toMatch(/SHADOW|root:/);
  });

  it("serves only images inside the project, an allowed root or the frame's recorded folder, with the right type", async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    mkdirSync(data, { recursive: true });
    const files = [
      writeFile(join(dir, 'outside.jpg'), FAKE_JPEG), // a real JPEG, but outside every root
      writeFile(join(data, 'notes.jpg'), 'password=hunter2\n'), // inside, but not an image
      writeFile(join(data, 'a.png'), PNG),
      writeFile(join(data, 'b.webp'), WEBP),
      join(data, 'gone.jpg'),
    ];
    core = await createCore(join(dir, 'p'));
    upsertVideo(
      core.db,
      { name: 'old', split: 'Train_Set', source: 'csv', labelSet: 'abaw7', header: null, annotationFile: null, framesDir: data },
      { labels: [0, 1, 2, 3, 4], hasFace: [1, 1, 1, 1, 1], imagePaths: files },
    );
    const ids = listFrames(core.db).map((f) => f.frameId);
    const lines: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: string) => void lines.push(line));
    expect(ids.map((id) => core!.framePath(id))).toEqual([null, null, files[2], files[3], null]);
    expect(core.framePath(999)).toBeNull();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`frame ${ids[0]}: .*outside`));
    expect(lines[1]).toMatch(new RegExp(`frame ${ids[1]}: .*magic bytes`));
    expect(lines.join('\n')).not.toContain('hunter2');
    const s = await serve(core, dir);
    expect((await get(s.port, `/frames/${ids[2]}.jpg`, s.token)).type).toBe('image/png');
    expect((await get(s.port, `/frames/${ids[3]}.jpg`, s.token)).type).toBe('image/webp');
    expect((await get(s.port, `/frames/${ids[1]}.jpg`, s.token)).status).toBe(404);
  });

  it('follows a symlinked data folder: the crop counts as inside its realpath', () => {
    const dir = tempDir();
    const real = join(dir, 'disk');
    writeFile(join(real, 'x.jpg'), FAKE_JPEG);
    symlinkSync(real, join(dir, 'link'));
    const log = vi.fn();
    expect(checkFrameFile(1, join(dir, 'link', 'x.jpg'), [join(dir, 'link')], log)?.file).toBe(join(real, 'x.jpg'));
    expect(checkFrameFile(2, join(dir, 'link', 'x.jpg'), [join(dir, 'other')], log)).toBeNull();
    expect(log).toHaveBeenCalledTimes(1);
  });

  it('recognises JPEG, PNG and WebP magic bytes and nothing else; insideDir is not fooled by prefixes', () => {
    expect(imageTypeOf(FAKE_JPEG)).toBe('image/jpeg');
    expect(imageTypeOf(PNG)).toBe('image/png');
    expect(imageTypeOf(WEBP)).toBe('image/webp');
    for (const b of ['root:x:0:0', 'RIFF0000WAVE', '', 'GIF89a', '<svg']) expect(imageTypeOf(Buffer.from(b)), b).toBeNull();
    expect(insideDir('/a/b', '/a/b/c.jpg')).toBe(true);
    expect(insideDir('/a/b', '/a/bc/d.jpg')).toBe(false);
    expect(insideDir('/a/b', '/a')).toBe(false);
    expect(insideDir('/a/b', '/a/b/..x/y')).toBe(true);
  });
});
