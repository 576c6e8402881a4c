import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countVideoFrames,
  DemoDataError,
  defaultFfmpegPath,
  generateDemoData,
  normalizeDemoOptions,
  type DemoProgress,
  type DemoSummary,
} from '../../../../src/main/core/demo/generate';
import { ABAW7_HEADER } from '../../../../src/shared/labels';

const root = mkdtempSync(join(tmpdir(), 'concord demo-data '));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface GtRow {
  video: string;
  frame: number;
  trueLabel: number;
  given: number;
}

function readGroundTruth(dir: string): GtRow[] {
  const lines = readFileSync(join(dir, 'ground_truth.csv'), 'utf8').trimEnd().split('\n');
  expect(lines[0]).toBe('video,frame,true_label,given_label');
  return lines.slice(1).map((l) => {
    const [video, frame, t, g] = l.split(',');
    return { video, frame: Number(frame), trueLabel: Number(t), given: Number(g) };
  });
}

function readAnnotation(file: string): number[] {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  expect(lines[0]).toBe(ABAW7_HEADER);
  return lines.slice(1).map((l) => {
    expect(l).toMatch(/^(-1|[0-6])$/);
    return Number(l);
  });
}

describe('generateDemoData (small run with videos)', () => {
  // Spaces and non-ASCII in the path on purpose.
  const dir = join(root, 'démo données 1');
  let summary: DemoSummary;
  const progress: DemoProgress[] = [];

  beforeAll(async () => {
    summary = await generateDemoData({ outDir: dir, videos: 4, frames: 40, seed: 11, onProgress: (p) => progress.push(p) });
  });

  it('writes the ABAW layout: annotations per split, crops per track, one mp4 per video', () => {
    expect(readdirSync(dir).sort()).toEqual(['annotations', 'cropped_aligned', 'demo.json', 'ground_truth.csv', 'videos']);
    const train = readdirSync(join(dir, 'annotations', 'Train_Set')).sort();
    const val = readdirSync(join(dir, 'annotations', 'Validation_Set')).sort();
    expect(val.length).toBeGreaterThanOrEqual(1);
    expect(train.length + val.length).toBe(summary.tracks.length);
    expect(summary.videos).toHaveLength(4);
    const crops = readdirSync(join(dir, 'cropped_aligned')).sort();
    expect(crops).toEqual(summary.tracks.map((t) => t.name).sort());
    expect(readdirSync(join(dir, 'videos')).sort()).toEqual(summary.videos.map((v) => `${v.name}.mp4`).sort());
    expect(JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8'))).toEqual({ ...summary, outDir: undefined });
    expect(summary.outDir).toBe(dir);
  });

  it('annotation files have the header and one line per frame; crops exist except the recorded missing ones', async () => {
    const missing = new Set(summary.missingCrops.map((m) => `${m.video}/${m.frame}`));
    expect(missing.size).toBeGreaterThan(0);
    for (const t of summary.tracks) {
      const labels = readAnnotation(join(dir, 'annotations', t.split, `${t.name}.txt`));
      expect(labels).toHaveLength(t.frames);
      expect(t.frames).toBeGreaterThanOrEqual(34);
      expect(t.frames).toBeLessThanOrEqual(46);
      const files = readdirSync(join(dir, 'cropped_aligned', t.name)).sort();
      const expected = Array.from({ length: t.frames }, (_, k) => k + 1)
        .filter((f) => !missing.has(`${t.name}/${f}`))
        .map((f) => `${String(f).padStart(5, '0')}.jpg`);
      expect(files).toEqual(expected);
    }
    const first = summary.tracks[0];
    const meta = await sharp(join(dir, 'cropped_aligned', first.name, '00001.jpg')).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['jpeg', 112, 112, 3]);
  });

  it('ground_truth.csv has every annotation line; files carry the given labels; validation is clean', () => {
    const gt = readGroundTruth(dir);
    expect(gt).toHaveLength(summary.tracks.reduce((n, t) => n + t.frames, 0));
    for (const t of summary.tracks) {
      const labels = readAnnotation(join(dir, 'annotations', t.split, `${t.name}.txt`));
      const rows = gt.filter((r) => r.video === t.name);
      expect(rows.map((r) => r.frame)).toEqual(labels.map((_, k) => k + 1));
      expect(rows.map((r) => r.given)).toEqual(labels);
      for (const r of rows) {
        if (r.trueLabel === -1 || r.given === -1) expect([r.trueLabel, r.given]).toEqual([-1, -1]);
        if (t.split === 'Validation_Set') expect(r.given).toBe(r.trueLabel);
      }
    }
    expect(gt.some((r) => r.trueLabel === -1)).toBe(true);
    const train = gt.filter((r) => summary.tracks.find((t) => t.name === r.video)!.split === 'Train_Set' && r.trueLabel >= 0);
    const wrong = train.filter((r) => r.given !== r.trueLabel).length;
    expect(wrong).toBe(summary.noisy);
    expect(Math.abs(wrong / train.length - 0.3)).toBeLessThan(0.01);
  });

  it('the two-face video has _left and _right tracks sharing one mp4 twice as wide', async () => {
    const two = summary.videos.find((v) => v.tracks.length === 2)!;
    expect(two.split).toBe('Train_Set');
    expect(two.tracks).toEqual([`${two.name}_left`, `${two.name}_right`]);
    for (const t of two.tracks) expect(existsSync(join(dir, 'annotations', 'Train_Set', `${t}.txt`))).toBe(true);
    expect(existsSync(join(dir, 'videos', `${two.name}_left.mp4`))).toBe(false);
    expect(two.width).toBe(224);
    const left = readAnnotation(join(dir, 'annotations', 'Train_Set', `${two.name}_left.txt`));
    const right = readAnnotation(join(dir, 'annotations', 'Train_Set', `${two.name}_right.txt`));
    expect(left).toHaveLength(right.length);
    expect(await countVideoFrames(defaultFfmpegPath(), join(dir, 'videos', `${two.name}.mp4`))).toBe(two.frames);
  });

  it('each mp4 has one frame per annotation line', async () => {
    for (const v of summary.videos) {
      expect(await countVideoFrames(defaultFfmpegPath(), join(dir, 'videos', `${v.name}.mp4`))).toBe(v.frames);
    }
  });

  it('reports progress for frames, videos and label files', () => {
    const last = (phase: string) => progress.filter((p) => p.phase === phase).at(-1)!;
    expect(last('frames').done).toBe(last('frames').total);
    expect(last('videos')).toEqual({ phase: 'videos', done: 4, total: 4 });
    expect(last('labels').done).toBe(last('labels').total);
  });

  it('summary counts match the files', () => {
    const gt = readGroundTruth(dir);
    const trueCounts = new Array(7).fill(0);
    const givenCounts = new Array(7).fill(0);
    for (const r of gt) {
      if (r.trueLabel >= 0) trueCounts[r.trueLabel]++;
      if (r.given >= 0) givenCounts[r.given]++;
    }
    expect(summary.perClass.true).toEqual(trueCounts);
    expect(summary.perClass.given).toEqual(givenCounts);
    expect(summary.unlabelled).toBe(gt.filter((r) => r.trueLabel === -1).length);
    expect(summary.splits.Validation_Set.noisy).toBe(0);
    expect(summary.codec === 'libx264' || summary.codec === 'mpeg4').toBe(true);
  });
});

describe('generateDemoData determinism and noise kinds', () => {
  it('gives identical labels and JPEG bytes for the same seed, different ones for another', async () => {
    const a = join(root, 'det-a');
    const b = join(root, 'det-b');
    const c = join(root, 'det-c');
    const opts = { videos: 3, frames: 20, seed: 5, encodeVideos: false };
    const sa = await generateDemoData({ outDir: a, ...opts });
    await generateDemoData({ outDir: b, ...opts });
    await generateDemoData({ outDir: c, ...opts, seed: 6 });
    expect(readFileSync(join(b, 'ground_truth.csv'))).toEqual(readFileSync(join(a, 'ground_truth.csv')));
    expect(readFileSync(join(b, 'demo.json'))).toEqual(readFileSync(join(a, 'demo.json')));
    const t = sa.tracks[0].name;
    const jpg = (d: string) => readFileSync(join(d, 'cropped_aligned', t, '00003.jpg'));
    expect(jpg(b).equals(jpg(a))).toBe(true);
    expect(readFileSync(join(c, 'ground_truth.csv')).equals(readFileSync(join(a, 'ground_truth.csv')))).toBe(false);
    expect(sa.codec).toBeNull();
    expect(existsSync(join(a, 'videos'))).toBe(false);
  });

  for (const kind of ['symmetric', 'pairflip', 'segment'] as const) {
    it(`${kind} noise: ground truth shows the requested rate on train only`, async () => {
      const dir = join(root, `noise-${kind}`);
      const s = await generateDemoData({ outDir: dir, videos: 4, frames: 60, noise: 0.2, noiseKind: kind, encodeVideos: false });
      const split = new Map(s.tracks.map((t) => [t.name, t.split]));
      const gt = readGroundTruth(dir).filter((r) => r.trueLabel >= 0);
      const train = gt.filter((r) => split.get(r.video) === 'Train_Set');
      const wrong = train.filter((r) => r.given !== r.trueLabel);
      expect(Math.abs(wrong.length / train.length - 0.2)).toBeLessThan(0.01);
      expect(s.noiseRate).toBeCloseTo(wrong.length / train.length, 10);
      expect(gt.filter((r) => split.get(r.video) === 'Validation_Set').every((r) => r.given === r.trueLabel)).toBe(true);
      if (kind === 'pairflip') for (const r of wrong) expect(r.given).toBe((r.trueLabel + 1) % 7);
      expect(s.noiseModel.startsWith(kind)).toBe(true);
    });
  }

  it('the mean image of each class differs from every other class', async () => {
    const dir = join(root, 'classes');
    const s = await generateDemoData({ outDir: dir, videos: 8, frames: 60, noise: 0, seed: 3, encodeVideos: false });
    const missing = new Set(s.missingCrops.map((m) => `${m.video}/${m.frame}`));
    const sums = Array.from({ length: 7 }, () => new Float64Array(112 * 112 * 3));
    const counts = new Array(7).fill(0);
    for (const r of readGroundTruth(dir)) {
      if (r.trueLabel < 0 || missing.has(`${r.video}/${r.frame}`)) continue;
      const file = join(dir, 'cropped_aligned', r.video, `${String(r.frame).padStart(5, '0')}.jpg`);
      const px = await sharp(file).raw().toBuffer();
      const sum = sums[r.trueLabel];
      for (let i = 0; i < px.length; i++) sum[i] += px[i];
      counts[r.trueLabel]++;
    }
    expect(counts.every((n) => n > 0)).toBe(true);
    const means = sums.map((sum, c) => sum.map((v) => v / counts[c]));
    for (let a = 0; a < 7; a++) {
      for (let b = a + 1; b < 7; b++) {
        let d = 0;
        for (let i = 0; i < means[a].length; i++) d += Math.abs(means[a][i] - means[b][i]);
        expect(d / means[a].length, `classes ${a} vs ${b}`).toBeGreaterThan(2);
      }
    }
  });
});

describe('generateDemoData output folder and cancellation', () => {
  it('refuses a non-empty folder unless overwrite, and overwrite keeps unrelated files', async () => {
    const dir = join(root, 'busy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    await expect(generateDemoData({ outDir: dir, videos: 2, frames: 5, encodeVideos: false })).rejects.toThrow(/exists and is not empty/);
    mkdirSync(join(dir, 'cropped_aligned', 'stale-video'), { recursive: true });
    await generateDemoData({ outDir: dir, videos: 2, frames: 5, encodeVideos: false, overwrite: true });
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(existsSync(join(dir, 'cropped_aligned', 'stale-video'))).toBe(false);
    expect(existsSync(join(dir, 'demo.json'))).toBe(true);
  });

  it('accepts an existing empty folder and refuses a file', async () => {
    const dir = join(root, 'empty');
    mkdirSync(dir);
    await generateDemoData({ outDir: dir, videos: 2, frames: 3, encodeVideos: false });
    expect(existsSync(join(dir, 'ground_truth.csv'))).toBe(true);
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await expect(generateDemoData({ outDir: file, videos: 2, frames: 3 })).rejects.toThrow(/is not a folder/);
  });

  it('cancels cleanly: rejects with AbortError, stops ffmpeg and leaves nothing behind', async () => {
    const dir = join(root, 'cancelled');
    const ctrl = new AbortController();
    let seen = 0;
    const run = generateDemoData({
      outDir: dir,
      videos: 6,
      frames: 200,
      signal: ctrl.signal,
      onProgress: (p) => {
        if (p.phase === 'frames' && ++seen === 3) ctrl.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toBe(3);
    expect(existsSync(dir)).toBe(false);

    const pre = join(root, 'cancelled-existing');
    mkdirSync(pre);
    const ctrl2 = new AbortController();
    ctrl2.abort();
    await expect(generateDemoData({ outDir: pre, videos: 2, frames: 5, signal: ctrl2.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(readdirSync(pre)).toEqual([]);
  });

  it('reports a missing ffmpeg by path', async () => {
    const dir = join(root, 'no-ffmpeg');
    await expect(generateDemoData({ outDir: dir, videos: 2, frames: 3, ffmpegPath: join(root, 'no such ffmpeg') })).rejects.toThrow(
      /cannot run ffmpeg at ".*no such ffmpeg"/,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('validates options with the option name and value', () => {
    expect(() => normalizeDemoOptions({ outDir: 'x', videos: 1 })).toThrow(DemoDataError);
    expect(() => normalizeDemoOptions({ outDir: 'x', videos: 1 })).toThrow(/videos .* \(got 1\)/);
    expect(() => normalizeDemoOptions({ outDir: 'x', frames: Number('abc') })).toThrow(/frames .* \(got NaN\)/);
    expect(() => normalizeDemoOptions({ outDir: 'x', noise: 1.2 })).toThrow(/noise/);
    expect(() => normalizeDemoOptions({ outDir: 'x', noiseKind: 'flip' as never })).toThrow(
      /noiseKind must be one of symmetric, pairflip, segment/,
    );
    expect(() => normalizeDemoOptions({ outDir: 'x', seed: 1.5 })).toThrow(/seed/);
    expect(() => normalizeDemoOptions({ outDir: '' })).toThrow(/outDir/);
    const d = normalizeDemoOptions({ outDir: 'x', videos: undefined });
    expect([d.videos, d.frames, d.noise, d.noiseKind, d.seed, d.size, d.encodeVideos]).toEqual([12, 150, 0.3, 'symmetric', 1, 112, true]);
  });
});
