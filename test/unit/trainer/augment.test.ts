import { describe, expect, it } from 'vitest';
import {
  AUTHORS_CODE_AUGMENT,
  DEFAULT_AUGMENT,
  IMAGENET_MEAN,
  IMAGENET_STD,
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  affine,
  augment,
  colorJitter,
  eraseRect,
  hflip,
  normalize,
  randomAffine,
  randomErasing,
  randomHorizontalFlip,
  resolveAugmentConfig,
  sampleAffine,
  sampleErase,
  type Image,
} from '../../../src/trainer/augment';
import { createRng } from '../../../src/trainer/rng';

/** A w×h RGB image whose values depend on position, all in [0.05, 0.95]. */
function gradientImage(w: number, h: number): Image {
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      data[i] = 0.05 + (0.9 * x) / Math.max(1, w - 1);
      data[i + 1] = 0.05 + (0.9 * y) / Math.max(1, h - 1);
      data[i + 2] = 0.05 + (0.9 * ((x + y) % 5)) / 4;
    }
  return { data, width: w, height: h, channels: 3 };
}

const px = (img: Image, x: number, y: number) => [...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];
const solid = (rgb: number[], w = 2, h = 2): Image => ({
  data: Float32Array.from({ length: w * h * 3 }, (_, i) => rgb[i % 3]),
  width: w,
  height: h,
  channels: 3,
});

describe('deterministic transforms', () => {
  it('hflip mirrors columns and twice is the identity', () => {
    const img = gradientImage(5, 3);
    const f = hflip(img);
    expect(px(f, 0, 1)).toEqual(px(img, 4, 1));
    expect(px(f, 4, 2)).toEqual(px(img, 0, 2));
    expect(px(f, 2, 0)).toEqual(px(img, 2, 0));
    expect([...hflip(f).data]).toEqual([...img.data]);
    expect(f.data).not.toBe(img.data);
  });

  it('normalize uses ImageNet mean/std', () => {
    const img = solid([IMAGENET_MEAN[0], IMAGENET_MEAN[1], IMAGENET_MEAN[2]], 1, 1);
    for (const v of normalize(img).data) expect(v).toBeCloseTo(0, 6);
    const white = normalize(solid([1, 1, 1], 1, 1)).data;
    expect(white[0]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(white[1]).toBeCloseTo((1 - 0.456) / 0.224, 5);
    expect(white[2]).toBeCloseTo((1 - 0.406) / 0.225, 5);
    expect(IMAGENET_STD).toEqual([0.229, 0.224, 0.225]);
  });

  it('eraseRect fills exactly the rectangle', () => {
    const img = gradientImage(6, 5);
    const e = eraseRect(img, { top: 1, left: 2, height: 2, width: 3 }, 0);
    for (let y = 0; y < 5; y++)
      for (let x = 0; x < 6; x++) {
        const inside = y >= 1 && y < 3 && x >= 2 && x < 5;
        expect(px(e, x, y)).toEqual(inside ? [0, 0, 0] : px(img, x, y));
      }
    const noisy = eraseRect(img, { top: 0, left: 0, height: 1, width: 1 }, 'random', createRng(1));
    expect(px(noisy, 0, 0)).not.toEqual(px(img, 0, 0));
  });

  it('brightness, contrast and saturation follow torchvision', () => {
    const img = gradientImage(4, 4);
    expect([...adjustBrightness(img, 1).data]).toEqual([...img.data]);
    expect(adjustBrightness(img, 0).data.every((v) => v === 0)).toBe(true);
    expect(px(adjustBrightness(solid([0.6, 0.2, 0.1]), 2), 0, 0).map((v) => +v.toFixed(6))).toEqual([1, 0.4, 0.2]);
    // contrast 0 → every channel becomes the image's mean grey level
    const c0 = adjustContrast(solid([0.6, 0.2, 0.1]), 0);
    const grey = 0.2989 * 0.6 + 0.587 * 0.2 + 0.114 * 0.1;
    for (const v of c0.data) expect(v).toBeCloseTo(grey, 6);
    // saturation 0 → per-pixel greyscale
    const s0 = adjustSaturation(img, 0);
    const [r, g, b] = px(img, 3, 1);
    for (const v of px(s0, 3, 1)) expect(v).toBeCloseTo(0.2989 * r + 0.587 * g + 0.114 * b, 6);
    const s1 = adjustSaturation(img, 1);
    s1.data.forEach((v, i) => expect(v).toBeCloseTo(img.data[i], 6));
  });

  it('hue rotates colours around the HSV circle', () => {
    const red = solid([1, 0, 0], 1, 1);
    expect(px(adjustHue(red, 1 / 3), 0, 0).map((v) => +v.toFixed(5))).toEqual([0, 1, 0]);
    expect(px(adjustHue(red, -1 / 3), 0, 0).map((v) => +v.toFixed(5))).toEqual([0, 0, 1]);
    const img = gradientImage(5, 5);
    adjustHue(img, 0).data.forEach((v, i) => expect(v).toBeCloseTo(img.data[i], 5));
    // grey has no hue
    const greyPx = solid([0.4, 0.4, 0.4], 1, 1);
    expect(px(adjustHue(greyPx, 0.25), 0, 0).map((v) => +v.toFixed(6))).toEqual([0.4, 0.4, 0.4]);
    expect(() => adjustHue(red, 0.7)).toThrow(RangeError);
  });

  it('affine: identity, integer shift with fill, zoom about the centre', () => {
    const img = gradientImage(5, 5);
    for (const interp of ['nearest', 'bilinear'] as const) {
      affine(img, { tx: 0, ty: 0, scale: 1 }, interp).data.forEach((v, i) => expect(v).toBeCloseTo(img.data[i], 6));
      const shifted = affine(img, { tx: 1, ty: 0, scale: 1 }, interp, 0);
      expect(px(shifted, 0, 2)).toEqual([0, 0, 0]);
      px(shifted, 3, 2).forEach((v, k) => expect(v).toBeCloseTo(px(img, 2, 2)[k], 6));
    }
    const zoom = affine(img, { tx: 0, ty: 0, scale: 2 }, 'nearest');
    expect(px(zoom, 2, 2)).toEqual(px(img, 2, 2)); // centre stays
    expect(px(zoom, 4, 2)).toEqual(px(img, 3, 2)); // (4-2)/2 + 2 = 3
  });
});

describe('random transforms', () => {
  it('are reproducible from the rng state', () => {
    const img = gradientImage(16, 16);
    const a = augment(img, createRng(5));
    const b = augment(img, createRng(5));
    expect([...a.data]).toEqual([...b.data]);
    const outputs = new Set([1, 2, 3, 4, 5, 6].map((s) => augment(img, createRng(s)).data.join(',')));
    expect(outputs.size).toBeGreaterThan(1);
  });

  it('flip with p=1 / p=0', () => {
    const img = gradientImage(4, 3);
    expect([...randomHorizontalFlip(img, createRng(1), { p: 1 }).data]).toEqual([...hflip(img).data]);
    expect(randomHorizontalFlip(img, createRng(1), { p: 0 })).toBe(img);
  });

  it('random erasing picks a rectangle of 2-25 % of the area that fits, as torchvision', () => {
    const rng = createRng(3);
    for (let i = 0; i < 200; i++) {
      const r = sampleErase(32, 24, rng, DEFAULT_AUGMENT.erase)!;
      expect(r).not.toBeNull();
      expect(r.top + r.height).toBeLessThanOrEqual(24);
      expect(r.left + r.width).toBeLessThanOrEqual(32);
      const frac = (r.height * r.width) / (32 * 24);
      expect(frac).toBeGreaterThan(0.01);
      expect(frac).toBeLessThan(0.3);
      const aspect = r.height / r.width;
      expect(aspect).toBeGreaterThan(0.2);
      expect(aspect).toBeLessThan(4.5);
    }
    const img = normalize(gradientImage(32, 24));
    const erased = randomErasing(img, createRng(4), { ...DEFAULT_AUGMENT.erase, p: 1 });
    const zeros = erased.data.filter((v, i) => v === 0 && img.data[i] !== 0).length / 3;
    expect(zeros).toBeGreaterThanOrEqual(0.015 * 32 * 24);
    expect(zeros).toBeLessThanOrEqual(0.3 * 32 * 24);
    expect(randomErasing(img, createRng(4), { ...DEFAULT_AUGMENT.erase, p: 0 })).toBe(img);
    // scale so large no rectangle fits: image unchanged
    expect(sampleErase(4, 4, createRng(1), { scale: [0.99, 0.99], ratio: [3.3, 3.3] })).toBeNull();
  });

  it('colour jitter with zero strength is the identity; with strength it changes the image', () => {
    const img = gradientImage(8, 8);
    const none = colorJitter(img, createRng(1), { brightness: 0, contrast: 0, saturation: 0, hue: 0 });
    expect([...none.data]).toEqual([...img.data]);
    const some = colorJitter(img, createRng(1), DEFAULT_AUGMENT.jitter);
    expect([...some.data]).not.toEqual([...img.data]);
    expect(some.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('random affine shifts by at most 10 % and zooms 1.0-1.25', () => {
    const rng = createRng(8);
    for (let i = 0; i < 100; i++) {
      const p = sampleAffine(112, 112, rng, DEFAULT_AUGMENT.affine);
      expect(Math.abs(p.tx)).toBeLessThanOrEqual(11.2);
      expect(Number.isInteger(p.tx) && Number.isInteger(p.ty)).toBe(true);
      expect(p.scale).toBeGreaterThanOrEqual(1);
      expect(p.scale).toBeLessThan(1.25);
    }
    const img = gradientImage(8, 8);
    expect(randomAffine(img, createRng(1), { ...DEFAULT_AUGMENT.affine, p: 0 })).toBe(img);
  });

  it('augment with every probability 0 is plain normalisation', () => {
    const img = gradientImage(8, 8);
    const cfg = resolveAugmentConfig({ flip: { p: 0 }, jitter: { p: 0 }, affine: { p: 0 }, erase: { p: 0 } });
    expect([...augment(img, createRng(1), cfg).data]).toEqual([...normalize(img).data]);
    const joint = resolveAugmentConfig({ flip: { p: 0 }, affine: { p: 0 }, erase: { p: 0 } }, AUTHORS_CODE_AUGMENT);
    // authors' mode: jitter rides on the affine coin, so p(affine) = 0 also turns jitter off
    expect([...augment(img, createRng(1), joint).data]).toEqual([...normalize(img).data]);
  });

  it('validates its config', () => {
    expect(() => resolveAugmentConfig({ erase: { scale: [0.3, 0.1] } })).toThrow(/erase\.scale/);
    expect(() => resolveAugmentConfig({ flip: { p: 2 } })).toThrow(/flip\.p/);
    expect(() => resolveAugmentConfig({ jitter: { hue: 0.6 } })).toThrow(/jitter\.hue/);
    expect(() => hflip({ data: new Float32Array(5), width: 2, height: 2, channels: 3 })).toThrow(/5 values for a 2x2x3 image/);
  });
});
