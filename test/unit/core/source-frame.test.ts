import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { openDb } from '../../../src/store/db';
import { upsertVideo } from '../../../src/store/dataset';
import { runFfmpeg } from '../../../src/main/core/ingest/ffmpeg';
import {
  frameSeconds,
  sourceFrame,
  sourceFrameArgs,
  sourceFrameCachePath,
  sourceFrameDepsOf,
  videoAllowed,
} from '../../../src/main/core/source-frame';
import { tempDir, writeFile } from '../../helpers/tmp';

const require = createRequire(import.meta.url);
const FFMPEG: string = require('@ffmpeg-installer/ffmpeg').path;

describe('source frame arguments', () => {
  it('seeks a quarter frame before the frame, 1-based like the annotation file', () => {
    expect(frameSeconds(1, 30)).toBe(0);
    expect(frameSeconds(2, 10)).toBeCloseTo(0.075, 9);
    expect(frameSeconds(301, 30)).toBeCloseTo(299.75 / 30, 9);
    expect(() => frameSeconds(0, 30)).toThrow(/idx/);
    expect(() => frameSeconds(3, 0)).toThrow(/fps/);
  });

  it('builds one input-seeking, one-frame, best-quality extraction', () => {
    const args = sourceFrameArgs({ input: '/v/clip %d.mp4', seconds: 1.5, output: '/c/7.jpg' });
    expect(args.indexOf('-ss')).toBeLessThan(args.indexOf('-i'));
    expect(args[args.indexOf('-ss') + 1]).toBe('1.500000');
    expect(args[args.indexOf('-i') + 1]).toBe('/v/clip %d.mp4');
    expect(args[args.indexOf('-frames:v') + 1]).toBe('1');
    expect(args[args.indexOf('-q:v') + 1]).toBe('2');
    expect(args.at(-1)).toBe('/c/7.jpg');
    expect(() => sourceFrameArgs({ input: 'a', seconds: -1, output: 'b' })).toThrow(/seconds/);
    expect(() => sourceFrameArgs({ input: 'a', seconds: 1, output: 'b', quality: 1 })).toThrow(/quality/);
  });
});

describe('containment', () => {
  it('keeps the cached file inside the project cache', () => {
    const p = sourceFrameCachePath('/proj', 3, 17)!;
    expect(p).toBe(resolve('/proj/cache/source-frames/3/17.jpg'));
    expect(sourceFrameCachePath('/proj', -1, 3)).toBeNull();
    expect(sourceFrameCachePath('/proj', 1.5, 3)).toBeNull();
    expect(sourceFrameCachePath('/proj', Number.NaN, 3)).toBeNull();
  });

  it('refuses a video outside the allowed roots, symlinks resolved', () => {
    const inside = tempDir();
    const outside = tempDir();
    const real = writeFile(join(outside, 'v.mp4'), 'x');
    const ok = writeFile(join(inside, 'ok.mp4'), 'x');
    const link = join(inside, 'link.mp4');
    symlinkSync(real, link);
    expect(videoAllowed(ok, [inside])).not.toBeNull();
    expect(videoAllowed(link, [inside])).toBeNull();
    expect(videoAllowed(real, [inside])).toBeNull();
    expect(videoAllowed(join(inside, 'missing.mp4'), [inside])).toBeNull();
    expect(videoAllowed(inside, null)).toBeNull(); // a folder is not a video
    expect(videoAllowed(real, null)).not.toBeNull(); // unrestricted (desktop)
  });

  it('finds no deps on a core without a database', () => {
    expect(
      sourceFrameDepsOf({ request: async () => null, on: () => () => {}, framePath: () => null, close: async () => {} } as never),
    ).toBeNull();
  });
});

describe('extraction from a generated video', () => {
  async function project(withVideo: boolean) {
    const root = tempDir();
    const projectDir = join(root, 'project');
    mkdirSync(projectDir);
    const video = join(root, 'videos', 'clip.mp4');
    mkdirSync(join(root, 'videos'));
    // frame n (0-based) is grey level n*12, so the extracted frame's mean tells which it is
    await runFfmpeg(
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        "color=c=black:s=96x64:r=10:d=2,format=gray,geq=lum='N*12'",
        '-c:v',
        'libx264',
        '-g',
        '5',
        '-pix_fmt',
        'yuv420p',
        video,
      ],
      { ffmpegPath: FFMPEG },
    );
    const db = openDb(projectDir, { create: true });
    upsertVideo(
      db,
      {
        name: 'clip',
        split: 'Train_Set',
        source: 'abaw',
        labelSet: 'abaw7',
        header: null,
        annotationFile: null,
        framesDir: null,
        videoFile: withVideo ? video : null,
      },
      { labels: Array.from({ length: 20 }, () => 0), hasFace: Array.from({ length: 20 }, () => 1) },
    );
    const frameId = (idx: number) => (db.prepare('SELECT id FROM frames WHERE idx = ?').get(idx) as { id: number }).id;
    return { root, projectDir, db, frameId };
  }

  it('extracts the exact frame at source resolution, into the cache, and serves it again from there', async () => {
    const { root, projectDir, db, frameId } = await project(true);
    const deps = { db, projectDir, roots: [projectDir, root], ffmpegPath: FFMPEG };
    for (const idx of [1, 8, 20]) {
      const r = await sourceFrame(deps, frameId(idx));
      expect(r.ok, JSON.stringify(r)).toBe(true);
      if (!r.ok) continue;
      expect(r.image.type).toBe('image/jpeg');
      expect(r.image.file).toBe(sourceFrameCachePath(projectDir, 1, idx));
      const meta = await sharp(r.image.file).metadata();
      expect([meta.width, meta.height]).toEqual([96, 64]);
      const mean = (await sharp(r.image.file).stats()).channels[0].mean;
      expect(Math.round(mean / 12)).toBe(idx - 1);
    }
    const again = await sourceFrame({ ...deps, ffmpegPath: '/nonexistent/ffmpeg' }, frameId(8));
    expect(again.ok).toBe(true);
    db.close();
  });

  it('says the source video is not available when the import recorded none, or it lies outside the roots', async () => {
    const a = await project(false);
    const r = await sourceFrame({ db: a.db, projectDir: a.projectDir, roots: [a.projectDir, a.root], ffmpegPath: FFMPEG }, a.frameId(3));
    expect(r).toMatchObject({ ok: false, status: 404 });
    expect(!r.ok && r.reason).toMatch(/source video not available/);
    a.db.close();
    const b = await project(true);
    const out = await sourceFrame({ db: b.db, projectDir: b.projectDir, roots: [b.projectDir], ffmpegPath: FFMPEG }, b.frameId(3));
    expect(!out.ok && out.reason).toMatch(/outside the allowed folders/);
    expect(existsSync(join(b.projectDir, 'cache', 'source-frames'))).toBe(false);
    expect(await sourceFrame({ db: b.db, projectDir: b.projectDir, roots: null }, 999_999)).toMatchObject({ ok: false, status: 404 });
    b.db.close();
  });
});
