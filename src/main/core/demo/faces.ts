// Procedural face-like images for the demo data: who the face is, where, and in what light, drawn
// by a tiny per-pixel rasteriser (signed distances with one-pixel anti-aliasing, see raster.ts)
// into an RGB Uint8Array. The expression parameters live in expression.ts. No canvas, no node imports.
//
// Face coordinates: origin at the face centre, v points down, the face ellipse has half-height 1
// and half-width `aspect`. The pose maps them to pixels (centre, scale, roll).

import type { Expression } from './expression';
import { blur3, capsuleDist, clamp01, ellipseDist, NOISE_TABLE, type RenderScratch } from './raster';

export type Rgb = [number, number, number];

/** Who the face is: constant over a video. */
export interface Appearance {
  skin: Rgb;
  hair: Rgb;
  lip: Rgb;
  iris: Rgb;
  shirt: Rgb;
  bgTop: Rgb;
  bgBottom: Rgb;
  /** Soft background shapes (clutter): centre and radius as fractions of the image size. */
  bgBlobs: Array<{ x: number; y: number; r: number; color: Rgb }>;
  aspect: number;
  /** Jaw narrowing towards the chin, 0..0.3. */
  jaw: number;
  /** v of the hairline (more negative = higher forehead). */
  hairline: number;
  /** How far down the back hair reaches (v). */
  hairLength: number;
  hairWave: number;
  eyeSpacing: number;
  eyeY: number;
  mouthY: number;
  browThickness: number;
  glasses: boolean;
  glassesColor: Rgb;
}

/** Where the face is in the image: varies slowly within a video. */
export interface Pose {
  /** Centre as a fraction of the image size. */
  cx: number;
  cy: number;
  /** Face half-height as a fraction of the image size. */
  scale: number;
  /** In-plane rotation in radians. */
  roll: number;
  /** Fake out-of-plane turn: shifts the inner features sideways (-1..1). */
  yaw: number;
  /** Gaze offset of the irises (face units). */
  gaze: number;
}

/** Camera and light: vary slowly within a video. */
export interface Lighting {
  /** Direction the light comes from, radians (0 = from the right). */
  angle: number;
  /** Strength of the shading gradient, 0..1. */
  strength: number;
  /** Added to every channel (0..255 scale). */
  brightness: number;
  contrast: number;
  /** Per-channel white balance gains. */
  cast: Rgb;
  /** Blur strength 0..1 (0 sharp). */
  blur: number;
  /** Sensor noise standard deviation (0..255 scale). */
  noise: number;
}

export interface FaceFrame {
  appearance: Appearance;
  pose: Pose;
  expression: Expression;
  lighting: Lighting;
  /** The face is turned away (no face visible, as when a detector finds none). */
  turnedAway?: boolean;
}

/** Renders the static background of a video into a float RGB buffer (0..255). */
export function renderBackground(app: Appearance, width: number, height: number): Float32Array {
  const buf = new Float32Array(width * height * 3);
  const s = Math.min(width, height);
  for (let y = 0; y < height; y++) {
    const t = (y + 0.5) / height;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      let r = app.bgTop[0] + (app.bgBottom[0] - app.bgTop[0]) * t;
      let g = app.bgTop[1] + (app.bgBottom[1] - app.bgTop[1]) * t;
      let b = app.bgTop[2] + (app.bgBottom[2] - app.bgTop[2]) * t;
      for (const blob of app.bgBlobs) {
        const dx = (x + 0.5) / s - blob.x;
        const dy = (y + 0.5) / s - blob.y;
        const d = Math.sqrt(dx * dx + dy * dy) / blob.r;
        if (d < 1.2) {
          const a = clamp01((1.2 - d) / 0.4) * 0.8;
          r += (blob.color[0] - r) * a;
          g += (blob.color[1] - g) * a;
          b += (blob.color[2] - b) * a;
        }
      }
      buf[i] = r;
      buf[i + 1] = g;
      buf[i + 2] = b;
    }
  }
  return buf;
}

/**
 * Draws one face into `out` (RGB, row-major, `size` x `size`, written at column offset
 * `xOffset` of an image `outWidth` pixels wide, so two faces can share one video frame).
 * `bg` is the pre-rendered background (renderBackground at size x size); `noiseOffset` picks
 * this frame's slice of the sensor-noise table.
 */
export function renderFace(
  frame: FaceFrame,
  size: number,
  bg: Float32Array,
  scratch: RenderScratch,
  noiseOffset: number,
  out: Uint8Array = new Uint8Array(size * size * 3),
  xOffset = 0,
  outWidth = size,
): Uint8Array {
  const { appearance: app, pose, expression: ex, lighting } = frame;
  const work = scratch.work;
  work.set(bg);
  const S = pose.scale * size;
  const pu = 1 / S; // one pixel in face units
  const cosR = Math.cos(pose.roll);
  const sinR = Math.sin(pose.roll);
  const cx = pose.cx * size;
  const cy = pose.cy * size;
  const lx = Math.cos(lighting.angle);
  const ly = Math.sin(lighting.angle);
  const aspect = app.aspect;
  const ys = pose.yaw * 0.1; // features shift sideways when the head turns
  const skinR = app.skin[0];
  const skinG = app.skin[1];
  const skinB = app.skin[2];

  // Expression-derived geometry, computed once per frame.
  const eyeH = Math.max(0.006, 0.09 * ex.eyeOpen);
  const eyeW = 0.165;
  const browBase = -0.32 - 0.12 * ex.browHeight;
  const browInner = browBase - 0.1 * ex.browAngle;
  const browMid = browBase - 0.035;
  const browOuter = browBase + 0.015 + 0.02 * ex.browAngle;
  const browR = 0.034 * app.browThickness;
  const mouthW = 0.29 * ex.width;
  const open = Math.max(0, ex.open);
  const forehead = clamp01((ex.browHeight - 0.35) / 0.5);
  const furrow = clamp01(-ex.browAngle - 0.3);
  const wrinkle = clamp01(ex.noseWrinkle);
  const cheek = clamp01(ex.cheekRaise);
  // Brows darker than the hair, so that light or grey hair still gives visible brows.
  const browCol0 = app.hair[0] * 0.45 + 14;
  const browCol1 = app.hair[1] * 0.45 + 11;
  const browCol2 = app.hair[2] * 0.45 + 9;

  let col0 = 0;
  let col1 = 0;
  let col2 = 0;
  const paint = (a: number, r: number, g: number, b: number): void => {
    if (a <= 0) return;
    if (a > 1) a = 1;
    col0 += (r - col0) * a;
    col1 += (g - col1) * a;
    col2 += (b - col2) * a;
  };
  const cov = (d: number): number => clamp01(0.5 - d / pu);

  // Only pixels near the head are shaded per feature; the rest keep the background.
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = (dx * cosR + dy * sinR) / S;
      const v = (-dx * sinR + dy * cosR) / S;
      if (v < -1.4 || Math.abs(u) > 1.6) continue;
      const i = (y * size + x) * 3;
      col0 = work[i];
      col1 = work[i + 1];
      col2 = work[i + 2];

      // Shirt and neck below the face.
      if (v > 0.6) {
        paint(cov(ellipseDist(u, v - 2.05, 1.7, 0.85)), app.shirt[0], app.shirt[1], app.shirt[2]);
        paint(cov(capsuleDist(u, v, 0, 0.6, 0, 1.7, 0.33 * aspect)), skinR * 0.78, skinG * 0.76, skinB * 0.76);
      }
      // Hair behind the head.
      if (v < app.hairLength) {
        const dh = ellipseDist(u, v + 0.1, aspect * 1.13, 1.1);
        paint(cov(dh) * clamp01((app.hairLength - v) / 0.1), app.hair[0], app.hair[1], app.hair[2]);
      }
      if (frame.turnedAway) {
        // Back of the head: hair where the face would be.
        const dh = ellipseDist(u, v + 0.02, aspect * 1.02, 1.02);
        paint(cov(dh), app.hair[0] * 0.9, app.hair[1] * 0.9, app.hair[2] * 0.9);
        work[i] = col0;
        work[i + 1] = col1;
        work[i + 2] = col2;
        continue;
      }
      // Ears.
      if (Math.abs(v) < 0.3) {
        const ea = ellipseDist(Math.abs(u - ys * 0.5) - aspect * 0.97, v + 0.02, 0.09, 0.17);
        paint(cov(ea), skinR * 0.92, skinG * 0.88, skinB * 0.88);
      }
      // Face: ellipse narrowing to the jaw, shaded by the light and darker at the rim.
      const jawK = 1 - app.jaw * (v > 0 ? v * v : 0);
      const uf = u / jawK;
      const df = ellipseDist(uf, v, aspect, 1);
      const fa = cov(df);
      if (fa > 0) {
        const k = Math.sqrt((uf * uf) / (aspect * aspect) + v * v);
        const k2 = k * k;
        const shade = 1 + lighting.strength * 0.32 * (u * lx + v * ly) - 0.2 * k2 * k2;
        paint(fa, skinR * shade, skinG * shade, skinB * shade);
      }
      if (df < 0.02) {
        const fu = u - ys; // inner features follow the yaw
        // Fringe.
        const hl = app.hairline + 0.05 * Math.sin(u * 7 + app.hairWave);
        if (v < hl + 0.05) paint(fa * clamp01((hl - v) / pu + 0.5), app.hair[0], app.hair[1], app.hair[2]);
        // Forehead lines (raised brows).
        if (forehead > 0 && v > -0.72 && v < -0.44 && Math.abs(fu) < 0.4) {
          for (let n = 0; n < 3; n++) {
            const lv = -0.5 - 0.07 * n - 0.04 * fu * fu;
            const d = Math.abs(v - lv) - 0.008;
            paint(cov(d) * forehead * 0.55 * (1 - Math.abs(fu) / 0.4), skinR * 0.6, skinG * 0.52, skinB * 0.5);
          }
        }
        // Frown lines between the brows (anger).
        if (furrow > 0 && Math.abs(fu) < 0.09 && v > -0.36 && v < -0.14) {
          const d = capsuleDist(Math.abs(fu), v, 0.035, -0.32, 0.025, -0.18, 0.008);
          paint(cov(d) * furrow * 0.7, skinR * 0.55, skinG * 0.48, skinB * 0.45);
        }
        // Eyes and brows, mirrored.
        const side = fu < 0 ? -1 : 1;
        const au = fu * side; // distance from the midline
        const eu = au - app.eyeSpacing;
        const ev = v - app.eyeY;
        if (Math.abs(eu) < 0.3 && ev > -0.22 && ev < 0.22) {
          // Socket shadow.
          paint(clamp01(-ellipseDist(eu, ev + 0.01, 0.23, 0.15) / 0.08) * 0.22, skinR * 0.7, skinG * 0.62, skinB * 0.6);
          const de = ellipseDist(eu, ev, eyeW, eyeH);
          const ew = cov(de);
          if (ew > 0) {
            paint(ew, 236, 232, 226);
            const iu = eu - pose.gaze * side;
            const dIris = Math.sqrt(iu * iu + ev * ev);
            paint(Math.min(ew, cov(dIris - 0.066)), app.iris[0], app.iris[1], app.iris[2]);
            paint(Math.min(ew, cov(dIris - 0.03)), 15, 12, 12);
          }
          // Upper lid line and a fainter lower one.
          const lid = cov(Math.abs(de) - 0.014);
          if (ev < 0.005) paint(lid, 45, 32, 28);
          else paint(lid * 0.35, skinR * 0.5, skinG * 0.4, skinB * 0.4);
        }
        // Brows: two capsules, inner → middle → outer.
        if (au > 0.02 && au < 0.6 && v > browBase - 0.25 && v < browBase + 0.2) {
          const d1 = capsuleDist(au, v, 0.1, browInner, 0.28, browMid, browR);
          const d2 = capsuleDist(au, v, 0.28, browMid, 0.47, browOuter, browR * 0.8);
          paint(cov(Math.min(d1, d2)), browCol0, browCol1, browCol2);
        }
        // Glasses.
        if (app.glasses && Math.abs(eu) < 0.25 && Math.abs(ev) < 0.25) {
          const rr = Math.sqrt(eu * eu + ev * ev);
          paint(cov(Math.abs(rr - 0.17) - 0.012), app.glassesColor[0], app.glassesColor[1], app.glassesColor[2]);
        }
        if (app.glasses && au < 0.14 && Math.abs(v - app.eyeY + 0.02) < 0.05) {
          const d = Math.abs(v - app.eyeY + 0.02) - 0.012;
          paint(cov(d), app.glassesColor[0], app.glassesColor[1], app.glassesColor[2]);
        }
        // Nose: shadowed bridge on the side away from the light, tip, nostrils, wrinkles.
        if (au < 0.2 && v > -0.15 && v < 0.34) {
          const shadowSide = lx > 0 ? -1 : 1;
          const db = capsuleDist(fu, v, shadowSide * 0.04, -0.05, shadowSide * 0.06, 0.18, 0.022);
          paint(cov(db) * 0.25, skinR * 0.65, skinG * 0.58, skinB * 0.55);
          const flare = 1 + 0.35 * wrinkle;
          const dn = ellipseDist(au - 0.045 * flare, v - 0.245, 0.026 * flare, 0.013 * flare);
          paint(cov(dn) * 0.8, skinR * 0.35, skinG * 0.25, skinB * 0.22);
          if (wrinkle > 0 && au < 0.08) {
            for (let n = 0; n < 3; n++) {
              const d = Math.abs(v - (-0.03 + 0.045 * n)) - 0.007;
              paint(cov(d) * wrinkle * 0.75 * (1 - au / 0.08), skinR * 0.55, skinG * 0.45, skinB * 0.42);
            }
          }
        }
        // Cheeks: highlight and nasolabial folds when raised.
        if (cheek > 0 && au > 0.05 && au < 0.55 && v > 0.02 && v < 0.6) {
          const dc = ellipseDist(au - 0.33, v - 0.2, 0.14, 0.09);
          paint(clamp01(-dc / 0.06) * cheek * 0.25, Math.min(255, skinR * 1.12), skinG * 1.02, skinB * 1.0);
          const mx = mouthW + 0.04;
          const dfold = capsuleDist(au, v, 0.11, 0.2, mx, app.mouthY - 0.02 * ex.curve, 0.006);
          paint(cov(dfold) * cheek * 0.6, skinR * 0.6, skinG * 0.5, skinB * 0.48);
        }
        // Mouth: lips around an opening whose centre line bends with `curve`.
        const mu = fu;
        const mx = mu / mouthW;
        if (Math.abs(mx) < 1.15 && v > app.mouthY - 0.3 && v < app.mouthY + 0.35) {
          const ax = Math.min(1, Math.abs(mx));
          const s = Math.sqrt(1 - ax * ax);
          const yc = app.mouthY - ex.curve * 0.14 * mx * mx + ex.curve * 0.04;
          const raise = ex.lipRaise * 0.08 * clamp01(mx) * s;
          const openU = open * 0.19 * s + raise;
          const openL = open * 0.19 * s;
          const top = yc - openU;
          const bottom = yc + openL;
          const xa = clamp01(((1 - Math.abs(mx)) * mouthW) / pu + 0.5);
          const lipU = 0.04 * Math.sqrt(s);
          const lipL = 0.055 * Math.sqrt(s);
          // Lips first, then the opening over them.
          const inLips = Math.min(cov(top - lipU - v), cov(v - bottom - lipL)) * xa;
          paint(inLips, app.lip[0], app.lip[1], app.lip[2]);
          const inOpen = Math.min(cov(top - v), cov(v - bottom)) * xa;
          if (inOpen > 0) {
            paint(inOpen, 60, 18, 22);
            const teethH = Math.min(openU + openL, 0.06 * ex.teeth);
            if (teethH > 0.004) paint(Math.min(inOpen, cov(v - (top + teethH))), 238, 234, 222);
          }
          // Seam between the lips.
          paint(cov(Math.abs(v - yc) - 0.009) * xa * 0.9, app.lip[0] * 0.45, app.lip[1] * 0.35, app.lip[2] * 0.35);
        }
      }
      work[i] = col0;
      work[i + 1] = col1;
      work[i + 2] = col2;
    }
  }

  // Camera: blur, white balance, brightness/contrast, sensor noise.
  if (lighting.blur > 0.02) blur3(work, scratch.tmp, size, size, lighting.blur * 0.3);
  const noise = scratch.noise;
  const sigma = lighting.noise;
  const c = lighting.contrast;
  const off = 128 + lighting.brightness;
  const mask = NOISE_TABLE - 1;
  let nIdx = noiseOffset & mask;
  for (let y = 0; y < size; y++) {
    let o = (y * outWidth + xOffset) * 3;
    let i = y * size * 3;
    for (let x = 0; x < size; x++) {
      for (let ch = 0; ch < 3; ch++) {
        const val = (work[i] * lighting.cast[ch] - 128) * c + off + sigma * noise[nIdx];
        nIdx = (nIdx + 1) & mask;
        out[o] = val < 0 ? 0 : val > 255 ? 255 : Math.round(val);
        i++;
        o++;
      }
    }
  }
  return out;
}
