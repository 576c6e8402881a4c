// Training augmentation over HWC float RGB images in [0, 1], following torchvision's tensor
// implementations (RandomHorizontalFlip, ColorJitter, RandomAffine, Normalize, RandomErasing) so
// results match the authors' PyTorch pipeline. Every random draw comes from the Rng passed in.
import type { Rng } from './rng';

/** Row-major height × width × channels image. */
export interface Image {
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

export interface FlipConfig {
  p: number;
}

export interface JitterConfig {
  /** Probability of applying the jitter at all. */
  p: number;
  /** Factor drawn from [max(0, 1 - b), 1 + b]; 0 disables. */
  brightness: number;
  contrast: number;
  saturation: number;
  /** Hue shift drawn from [-hue, hue] (fraction of the colour circle, at most 0.5). */
  hue: number;
}

export interface AffineConfig {
  p: number;
  /** Maximum shift as a fraction of width/height. */
  translate: number;
  /** Zoom range [min, max]. */
  scale: [number, number];
  interpolation: 'nearest' | 'bilinear';
  /** Value outside the source image (0: black, before normalisation). */
  fill: number;
}

export interface EraseConfig {
  p: number;
  /** Erased area as a fraction of the image, [min, max]. */
  scale: [number, number];
  /** Aspect ratio range (h / w), sampled log-uniformly. */
  ratio: [number, number];
  /** Fill value (after normalisation, so 0 is the mean colour) or 'random' for N(0, 1) noise. */
  value: number | 'random';
}

export interface NormalizeConfig {
  mean: [number, number, number];
  std: [number, number, number];
}

export interface AugmentConfig {
  flip: FlipConfig;
  jitter: JitterConfig;
  affine: AffineConfig;
  /**
   * One coin for jitter and affine together, with probability affine.p: the authors' code wraps both in
   * RandomApply([ColorJitter, RandomAffine], p=0.5). Default false: the paper lists colour jitter as
   * always on, the affine at p = 0.5.
   */
  jointJitterAffine: boolean;
  erase: EraseConfig;
  normalize: NormalizeConfig;
}

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

export const DEFAULT_AUGMENT: AugmentConfig = {
  flip: { p: 0.5 },
  jitter: { p: 1, brightness: 0.25, contrast: 0.25, saturation: 0.25, hue: 0.25 },
  affine: { p: 0.5, translate: 0.1, scale: [1.0, 1.25], interpolation: 'bilinear', fill: 0 },
  jointJitterAffine: false,
  erase: { p: 0.5, scale: [0.02, 0.25], ratio: [0.3, 3.3], value: 0 },
  normalize: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
};

/** The authors' code (1980x/CCT): jitter and affine applied together with p = 0.5. */
export const AUTHORS_CODE_AUGMENT: AugmentConfig = { ...DEFAULT_AUGMENT, jointJitterAffine: true };

export type AugmentOverrides = {
  [K in keyof AugmentConfig]?: AugmentConfig[K] extends object ? Partial<AugmentConfig[K]> : AugmentConfig[K];
};

export function resolveAugmentConfig(overrides: AugmentOverrides = {}, base: AugmentConfig = DEFAULT_AUGMENT): AugmentConfig {
  const cfg: AugmentConfig = {
    flip: { ...base.flip, ...overrides.flip },
    jitter: { ...base.jitter, ...overrides.jitter },
    affine: { ...base.affine, ...overrides.affine },
    jointJitterAffine: overrides.jointJitterAffine ?? base.jointJitterAffine,
    erase: { ...base.erase, ...overrides.erase },
    normalize: { ...base.normalize, ...overrides.normalize },
  };
  const prob = (name: string, p: number) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`augment: ${name} must be in [0, 1], got ${p}`);
  };
  prob('flip.p', cfg.flip.p);
  prob('jitter.p', cfg.jitter.p);
  prob('affine.p', cfg.affine.p);
  prob('erase.p', cfg.erase.p);
  if (!(cfg.jitter.hue >= 0 && cfg.jitter.hue <= 0.5))
    throw new RangeError(`augment: jitter.hue must be in [0, 0.5], got ${cfg.jitter.hue}`);
  for (const k of ['brightness', 'contrast', 'saturation'] as const) {
    if (!(cfg.jitter[k] >= 0)) throw new RangeError(`augment: jitter.${k} must be >= 0, got ${cfg.jitter[k]}`);
  }
  const [s0, s1] = cfg.erase.scale;
  if (!(s0 > 0 && s0 <= s1 && s1 < 1))
    throw new RangeError(`augment: erase.scale must satisfy 0 < min <= max < 1, got [${cfg.erase.scale}]`);
  const [r0, r1] = cfg.erase.ratio;
  if (!(r0 > 0 && r0 <= r1)) throw new RangeError(`augment: erase.ratio must satisfy 0 < min <= max, got [${cfg.erase.ratio}]`);
  const [z0, z1] = cfg.affine.scale;
  if (!(z0 > 0 && z0 <= z1)) throw new RangeError(`augment: affine.scale must satisfy 0 < min <= max, got [${cfg.affine.scale}]`);
  if (!(cfg.affine.translate >= 0 && cfg.affine.translate <= 1)) {
    throw new RangeError(`augment: affine.translate must be in [0, 1], got ${cfg.affine.translate}`);
  }
  if (!cfg.normalize.std.every((s) => s > 0)) throw new RangeError(`augment: normalize.std must be positive, got [${cfg.normalize.std}]`);
  return cfg;
}

function checkImage(img: Image, fn: string, rgb = false): void {
  if (img.data.length !== img.width * img.height * img.channels) {
    throw new RangeError(`${fn}: ${img.data.length} values for a ${img.width}x${img.height}x${img.channels} image`);
  }
  if (rgb && img.channels !== 3) throw new RangeError(`${fn}: needs an RGB image, got ${img.channels} channels`);
}

function like(img: Image, data: Float32Array): Image {
  return { data, width: img.width, height: img.height, channels: img.channels };
}

// ---- deterministic transforms ---------------------------------------------------------------------

export function hflip(img: Image): Image {
  checkImage(img, 'hflip');
  const { width: w, height: h, channels: c } = img;
  const out = new Float32Array(img.data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      const src = row + (w - 1 - x) * c;
      const dst = row + x * c;
      for (let k = 0; k < c; k++) out[dst + k] = img.data[src + k];
    }
  }
  return like(img, out);
}

/** (x - mean[c]) / std[c] per channel. */
export function normalize(img: Image, cfg: NormalizeConfig = DEFAULT_AUGMENT.normalize): Image {
  checkImage(img, 'normalize', true);
  const out = new Float32Array(img.data.length);
  const [m0, m1, m2] = cfg.mean;
  const [i0, i1, i2] = cfg.std.map((s) => 1 / s);
  for (let i = 0; i < out.length; i += 3) {
    out[i] = (img.data[i] - m0) * i0;
    out[i + 1] = (img.data[i + 1] - m1) * i1;
    out[i + 2] = (img.data[i + 2] - m2) * i2;
  }
  return like(img, out);
}

export interface EraseRect {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Fills a rectangle with a constant (or, with rng, N(0,1) noise). */
export function eraseRect(img: Image, rect: EraseRect, value: number | 'random' = 0, rng?: Rng): Image {
  checkImage(img, 'eraseRect');
  if (value === 'random' && !rng) throw new Error("eraseRect: value 'random' needs an rng");
  const out = img.data.slice();
  const { width: w, channels: c } = img;
  for (let y = rect.top; y < rect.top + rect.height; y++) {
    for (let x = rect.left; x < rect.left + rect.width; x++) {
      const base = (y * w + x) * c;
      for (let k = 0; k < c; k++) out[base + k] = value === 'random' ? rng!.normal() : value;
    }
  }
  return like(img, out);
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
const gray = (r: number, g: number, b: number) => 0.2989 * r + 0.587 * g + 0.114 * b;

/** torchvision adjust_brightness: clamp(x · f). */
export function adjustBrightness(img: Image, factor: number): Image {
  checkImage(img, 'adjustBrightness', true);
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = clamp01(img.data[i] * factor);
  return like(img, out);
}

/** torchvision adjust_contrast: blend with the mean grey level of the whole image. */
export function adjustContrast(img: Image, factor: number): Image {
  checkImage(img, 'adjustContrast', true);
  const d = img.data;
  let sum = 0;
  for (let i = 0; i < d.length; i += 3) sum += gray(d[i], d[i + 1], d[i + 2]);
  const mean = sum / (d.length / 3);
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = clamp01(factor * d[i] + (1 - factor) * mean);
  return like(img, out);
}

/** torchvision adjust_saturation: blend with the pixel's own grey level. */
export function adjustSaturation(img: Image, factor: number): Image {
  checkImage(img, 'adjustSaturation', true);
  const d = img.data;
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i += 3) {
    const g = (1 - factor) * gray(d[i], d[i + 1], d[i + 2]);
    out[i] = clamp01(factor * d[i] + g);
    out[i + 1] = clamp01(factor * d[i + 1] + g);
    out[i + 2] = clamp01(factor * d[i + 2] + g);
  }
  return like(img, out);
}

/** torchvision adjust_hue: rotate the hue by `shift` (fraction of a turn, in [-0.5, 0.5]) in HSV space. */
export function adjustHue(img: Image, shift: number): Image {
  checkImage(img, 'adjustHue', true);
  if (!(shift >= -0.5 && shift <= 0.5)) throw new RangeError(`adjustHue: shift must be in [-0.5, 0.5], got ${shift}`);
  const d = img.data;
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i];
    const g = d[i + 1];
    const b = d[i + 2];
    // rgb → hsv as torchvision's _rgb2hsv
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    const cr = maxc - minc;
    const eq = maxc === minc;
    const s = cr / (eq ? 1 : maxc);
    const div = eq ? 1 : cr;
    const rc = (maxc - r) / div;
    const gc = (maxc - g) / div;
    const bc = (maxc - b) / div;
    let h: number;
    if (maxc === r) h = bc - gc;
    else if (maxc === g) h = 2 + rc - bc;
    else h = 4 + gc - rc;
    h = (((h / 6 + 1) % 1) + shift + 1) % 1;
    // hsv → rgb as torchvision's _hsv2rgb
    const v = maxc;
    const h6 = h * 6;
    const sector = Math.floor(h6);
    const f = h6 - sector;
    const p = clamp01(v * (1 - s));
    const q = clamp01(v * (1 - s * f));
    const t = clamp01(v * (1 - s * (1 - f)));
    switch (sector % 6) {
      case 0:
        out[i] = v;
        out[i + 1] = t;
        out[i + 2] = p;
        break;
      case 1:
        out[i] = q;
        out[i + 1] = v;
        out[i + 2] = p;
        break;
      case 2:
        out[i] = p;
        out[i + 1] = v;
        out[i + 2] = t;
        break;
      case 3:
        out[i] = p;
        out[i + 1] = q;
        out[i + 2] = v;
        break;
      case 4:
        out[i] = t;
        out[i + 1] = p;
        out[i + 2] = v;
        break;
      default:
        out[i] = v;
        out[i + 1] = p;
        out[i + 2] = q;
        break;
    }
  }
  return like(img, out);
}

export interface AffineParams {
  /** Shift in pixels (positive: content moves right / down). */
  tx: number;
  ty: number;
  /** Zoom about the image centre (> 1 enlarges the content). */
  scale: number;
}

/** Translate + zoom about the centre, by inverse mapping each output pixel into the source. */
export function affine(img: Image, params: AffineParams, interpolation: 'nearest' | 'bilinear' = 'bilinear', fill = 0): Image {
  checkImage(img, 'affine');
  const { width: w, height: h, channels: c } = img;
  const src = img.data;
  const out = new Float32Array(src.length);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const inv = 1 / params.scale;
  for (let y = 0; y < h; y++) {
    const sy = cy + (y - cy - params.ty) * inv;
    for (let x = 0; x < w; x++) {
      const sx = cx + (x - cx - params.tx) * inv;
      const dst = (y * w + x) * c;
      if (interpolation === 'nearest') {
        const ix = Math.round(sx);
        const iy = Math.round(sy);
        const inside = ix >= 0 && ix < w && iy >= 0 && iy < h;
        for (let k = 0; k < c; k++) out[dst + k] = inside ? src[(iy * w + ix) * c + k] : fill;
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      // The four neighbours' offsets, -1 where outside (filled); computed once per pixel, not per channel.
      const inX0 = x0 >= 0 && x0 < w;
      const inX1 = x0 + 1 >= 0 && x0 + 1 < w;
      const inY0 = y0 >= 0 && y0 < h;
      const inY1 = y0 + 1 >= 0 && y0 + 1 < h;
      const o00 = inY0 && inX0 ? (y0 * w + x0) * c : -1;
      const o01 = inY0 && inX1 ? (y0 * w + x0 + 1) * c : -1;
      const o10 = inY1 && inX0 ? ((y0 + 1) * w + x0) * c : -1;
      const o11 = inY1 && inX1 ? ((y0 + 1) * w + x0 + 1) * c : -1;
      for (let k = 0; k < c; k++) {
        const a = o00 >= 0 ? src[o00 + k]! : fill;
        const b = o01 >= 0 ? src[o01 + k]! : fill;
        const d0 = o10 >= 0 ? src[o10 + k]! : fill;
        const d1 = o11 >= 0 ? src[o11 + k]! : fill;
        out[dst + k] = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d0 + fx * d1);
      }
    }
  }
  return like(img, out);
}

// ---- random transforms ----------------------------------------------------------------------------

export function randomHorizontalFlip(img: Image, rng: Rng, cfg: FlipConfig = DEFAULT_AUGMENT.flip): Image {
  return rng.next() < cfg.p ? hflip(img) : img;
}

/** torchvision ColorJitter: the four adjustments in a random order, each with a random factor. */
export function colorJitter(img: Image, rng: Rng, cfg: Omit<JitterConfig, 'p'> = DEFAULT_AUGMENT.jitter): Image {
  const order = rng.permutation(4);
  const range = (v: number) => [Math.max(0, 1 - v), 1 + v] as const;
  const b = cfg.brightness > 0 ? rng.uniform(...range(cfg.brightness)) : null;
  const c = cfg.contrast > 0 ? rng.uniform(...range(cfg.contrast)) : null;
  const s = cfg.saturation > 0 ? rng.uniform(...range(cfg.saturation)) : null;
  const h = cfg.hue > 0 ? rng.uniform(-cfg.hue, cfg.hue) : null;
  let out = img;
  for (const fn of order) {
    if (fn === 0 && b !== null) out = adjustBrightness(out, b);
    else if (fn === 1 && c !== null) out = adjustContrast(out, c);
    else if (fn === 2 && s !== null) out = adjustSaturation(out, s);
    else if (fn === 3 && h !== null) out = adjustHue(out, h);
  }
  return out;
}

/** torchvision RandomAffine.get_params with degrees 0, no shear: rounded pixel shifts and a uniform zoom. */
export function sampleAffine(width: number, height: number, rng: Rng, cfg: Pick<AffineConfig, 'translate' | 'scale'>): AffineParams {
  const maxDx = cfg.translate * width;
  const maxDy = cfg.translate * height;
  const tx = Math.round(rng.uniform(-maxDx, maxDx));
  const ty = Math.round(rng.uniform(-maxDy, maxDy));
  const scale = rng.uniform(cfg.scale[0], cfg.scale[1]);
  return { tx, ty, scale };
}

export function randomAffine(img: Image, rng: Rng, cfg: AffineConfig = DEFAULT_AUGMENT.affine, applyProbability = true): Image {
  if (applyProbability && !(rng.next() < cfg.p)) return img;
  return affine(img, sampleAffine(img.width, img.height, rng, cfg), cfg.interpolation, cfg.fill);
}

/** torchvision RandomErasing.get_params: up to 10 tries for a rectangle that fits; null when none does. */
export function sampleErase(width: number, height: number, rng: Rng, cfg: Pick<EraseConfig, 'scale' | 'ratio'>): EraseRect | null {
  const area = width * height;
  const logR0 = Math.log(cfg.ratio[0]);
  const logR1 = Math.log(cfg.ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const eraseArea = area * rng.uniform(cfg.scale[0], cfg.scale[1]);
    const aspect = Math.exp(rng.uniform(logR0, logR1));
    const h = Math.round(Math.sqrt(eraseArea * aspect));
    const w = Math.round(Math.sqrt(eraseArea / aspect));
    if (!(h < height && w < width) || h === 0 || w === 0) continue;
    return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
  }
  return null;
}

export function randomErasing(img: Image, rng: Rng, cfg: EraseConfig = DEFAULT_AUGMENT.erase): Image {
  if (!(rng.next() < cfg.p)) return img;
  const rect = sampleErase(img.width, img.height, rng, cfg);
  return rect ? eraseRect(img, rect, cfg.value, rng) : img;
}

/**
 * The training pipeline, in the authors' order: flip → colour jitter → affine → normalise → erase
 * (erasing after normalisation, so value 0 is the dataset mean colour). Input is RGB in [0, 1].
 */
export function augment(img: Image, rng: Rng, cfg: AugmentConfig = DEFAULT_AUGMENT): Image {
  checkImage(img, 'augment', true);
  let out = randomHorizontalFlip(img, rng, cfg.flip);
  if (cfg.jointJitterAffine) {
    if (rng.next() < cfg.affine.p) {
      out = colorJitter(out, rng, cfg.jitter);
      out = randomAffine(out, rng, cfg.affine, false);
    }
  } else {
    if (rng.next() < cfg.jitter.p) out = colorJitter(out, rng, cfg.jitter);
    out = randomAffine(out, rng, cfg.affine);
  }
  out = normalize(out, cfg.normalize);
  return randomErasing(out, rng, cfg.erase);
}

/** Evaluation preprocessing: normalisation only. */
export function preprocess(img: Image, cfg: NormalizeConfig = DEFAULT_AUGMENT.normalize): Image {
  return normalize(img, cfg);
}
