// Plans a demo dataset: which videos, which split, how many frames, the true label segments,
// unannotated runs, frames without a crop, the label noise, and every frame's drawing parameters.
// Pure and deterministic for a seed; generate.ts does the rendering and the files.

import { blendExpression, expressionFor, neutralExpression, type Expression } from './expression';
import type { Appearance, FaceFrame, Lighting, Pose, Rgb } from './faces';
import { applyLabelNoise, type NoiseKind } from './noise';
import { createRng, type Rng } from './rng';

export const DEMO_CLASSES = 7;
export const TRAIN_SPLIT = 'Train_Set';
export const VALIDATION_SPLIT = 'Validation_Set';
export type DemoSplit = typeof TRAIN_SPLIT | typeof VALIDATION_SPLIT;

export interface PlanOptions {
  videos: number;
  frames: number;
  noise: number;
  noiseKind: NoiseKind;
  seed: number;
  validationShare: number;
}

export interface LabelSegmentPlan {
  start: number;
  /** Exclusive. */
  end: number;
  cls: number;
  variant: number;
  intensity: number;
  /** Per-segment offsets so that no two segments of a class look identical. */
  jitter: Expression;
  /** Mouth movement as in speech, 0 for none. */
  talk: number;
  talkPeriod: number;
}

export interface TrackPlan {
  /** Annotation file stem: `<video>` or `<video>_left` / `<video>_right`. */
  name: string;
  video: string;
  split: DemoSplit;
  frames: number;
  segments: LabelSegmentPlan[];
  /** True label per frame (0-based index = frame - 1), -1 where unannotated. */
  trueLabels: number[];
  /** Label written to the annotation file. */
  givenLabels: number[];
  /** 1-based frames with no crop (face turned away). */
  missingCrops: number[];
  /** Seed of this track's drawing parameters. */
  drawSeed: number;
}

export interface VideoPlan {
  name: string;
  split: DemoSplit;
  frames: number;
  /** One track, or two (`_left`, `_right`) sharing this video. */
  tracks: TrackPlan[];
}

export interface DemoPlan {
  options: PlanOptions;
  videos: VideoPlan[];
  tracks: TrackPlan[];
  noisy: number;
  /** Labelled frames of the train split (the noise rate's denominator). */
  trainLabelled: number;
}

/** Deck of classes per track: every class appears; Neutral and Happiness twice, as in real data. */
const CLASS_DECK = [0, 0, 1, 2, 3, 4, 4, 5, 6];

/** Draws segment classes from reshuffled decks, never the same class twice in a row. */
function classDeck(rng: Rng): (previous: number) => number {
  let cards: number[] = [];
  return (previous) => {
    if (cards.length === 0) cards = rng.shuffle(CLASS_DECK.slice());
    let at = cards.length - 1;
    if (cards[at] === previous) {
      at = cards.findIndex((c) => c !== previous);
      if (at < 0) {
        cards.push(...rng.shuffle(CLASS_DECK.filter((c) => c !== previous)));
        at = cards.length - 1;
      }
    }
    return cards.splice(at, 1)[0];
  };
}

function videoName(index: number, count: number): string {
  return `demo-${String(index + 1).padStart(Math.max(2, String(count).length), '0')}`;
}

export function planDemoData(options: PlanOptions): DemoPlan {
  const { videos: n, frames, seed } = options;
  const rng = createRng(seed, 'plan');
  const valCount = Math.min(n - 1, Math.max(1, Math.round(n * options.validationShare)));
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const valSet = new Set(order.slice(0, valCount));
  const trainIdx = order.slice(valCount).sort((a, b) => a - b);
  const twoFace = trainIdx.length > 0 ? rng.pick(trainIdx) : -1;

  const videos: VideoPlan[] = [];
  for (let i = 0; i < n; i++) {
    const vr = rng.fork(`video-${i}`);
    const split: DemoSplit = valSet.has(i) ? VALIDATION_SPLIT : TRAIN_SPLIT;
    const count = Math.max(1, Math.round(frames * vr.range(0.85, 1.15)));
    const name = videoName(i, n);
    const stems = i === twoFace ? [`${name}_left`, `${name}_right`] : [name];
    const tracks = stems.map((stem, t) => planTrack(stem, name, split, count, vr.fork(`track-${t}`), classDeck(vr.fork(`deck-${t}`))));
    videos.push({ name, split, frames: count, tracks });
  }
  const tracks = videos.flatMap((v) => v.tracks);
  ensureAtLeastOne(tracks, rng.fork('guarantees'));

  // Noise: train split only; validation labels stay clean.
  const train = tracks.filter((t) => t.split === TRAIN_SPLIT);
  const noise = applyLabelNoise(
    train.map((t) => t.trueLabels),
    options.noiseKind,
    options.noise,
    createRng(seed, `noise-${options.noiseKind}`),
    DEMO_CLASSES,
  );
  train.forEach((t, k) => (t.givenLabels = noise.given[k]));
  for (const t of tracks) if (t.split !== TRAIN_SPLIT) t.givenLabels = t.trueLabels.slice();
  return { options, videos, tracks, noisy: noise.noisy, trainLabelled: noise.labelled };
}

function planTrack(
  name: string,
  video: string,
  split: DemoSplit,
  frames: number,
  rng: Rng,
  drawClass: (previous: number) => number,
): TrackPlan {
  // Segments of 12-30 frames (shorter in very short videos): each person shows most expressions,
  // which is what lets a small CNN learn expression rather than identity.
  const minLen = Math.min(12, Math.max(3, Math.round(frames / 10)));
  const maxLen = Math.min(30, Math.max(minLen, Math.round(frames / 5)));
  const segments: LabelSegmentPlan[] = [];
  let start = 0;
  let prev = -1;
  while (start < frames) {
    let len = rng.int(minLen, maxLen);
    if (frames - (start + len) < minLen / 2) len = frames - start; // no tiny tail segment
    const cls = drawClass(prev);
    segments.push({
      start,
      end: start + len,
      cls,
      variant: rng.int(0, 1),
      intensity: cls === 0 ? 1 : rng.range(0.7, 1.0),
      jitter: {
        curve: rng.normal() * 0.06,
        open: Math.abs(rng.normal()) * 0.03,
        width: rng.normal() * 0.04,
        lipRaise: 0,
        teeth: 0,
        browAngle: rng.normal() * 0.08,
        browHeight: rng.normal() * 0.08,
        eyeOpen: rng.normal() * 0.06,
        noseWrinkle: 0,
        cheekRaise: 0,
      },
      talk: rng.chance(0.3) ? rng.range(0.08, 0.2) : 0,
      talkPeriod: rng.range(5, 10),
    });
    prev = cls;
    start += len;
  }
  const trueLabels = new Array<number>(frames);
  for (const s of segments) trueLabels.fill(s.cls, s.start, s.end);

  // A short unannotated run in some tracks (ABAW `-1`).
  if (frames >= 10 && rng.chance(0.4)) addUnlabelledRun(trueLabels, rng);
  // A few frames where the face is turned away: no crop is written for them.
  const missingCrops: number[] = [];
  if (frames >= 10 && rng.chance(0.35)) addMissingRun(missingCrops, frames, rng);

  return {
    name,
    video,
    split,
    frames,
    segments,
    trueLabels,
    givenLabels: trueLabels.slice(),
    missingCrops,
    drawSeed: rng.uint32(),
  };
}

function addUnlabelledRun(labels: number[], rng: Rng): void {
  const len = Math.min(15, Math.max(2, Math.round(labels.length * rng.range(0.04, 0.1))));
  const at = rng.int(0, labels.length - len);
  labels.fill(-1, at, at + len);
}

function addMissingRun(missing: number[], frames: number, rng: Rng): void {
  const len = rng.int(1, 3);
  const at = rng.int(1, frames - len); // 0-based start
  for (let k = at; k < at + len; k++) missing.push(k + 1);
}

/** The demo must show each case at least once: an unannotated run and a missing crop in the train split. */
function ensureAtLeastOne(tracks: TrackPlan[], rng: Rng): void {
  const train = tracks.filter((t) => t.split === TRAIN_SPLIT && t.frames >= 4);
  if (train.length === 0) return;
  if (!tracks.some((t) => t.trueLabels.includes(-1))) {
    const t = rng.pick(train);
    const len = Math.max(1, Math.min(15, Math.round(t.frames * 0.08)));
    const at = rng.int(0, t.frames - len);
    t.trueLabels.fill(-1, at, at + len);
    t.givenLabels = t.trueLabels.slice();
  }
  if (!tracks.some((t) => t.missingCrops.length > 0)) {
    const t = rng.pick(train);
    addMissingRun(t.missingCrops, t.frames, rng);
  }
}

// ---------------------------------------------------------------------------------------------
// Per-frame drawing parameters.

/** A smooth random signal: two sinusoids with random periods and phases, amplitude `amp`. */
function drift(rng: Rng, amp: number, minPeriod: number, maxPeriod: number): (t: number) => number {
  const p1 = rng.range(minPeriod, maxPeriod);
  const p2 = rng.range(minPeriod, maxPeriod) * 0.6;
  const f1 = rng.range(0, 2 * Math.PI);
  const f2 = rng.range(0, 2 * Math.PI);
  return (t) => amp * (0.7 * Math.sin((2 * Math.PI * t) / p1 + f1) + 0.3 * Math.sin((2 * Math.PI * t) / p2 + f2));
}

const SKIN_TONES: Rgb[] = [
  [255, 226, 200],
  [241, 194, 160],
  [224, 172, 128],
  [198, 134, 94],
  [161, 102, 66],
  [115, 72, 48],
  [82, 54, 38],
];
const HAIR: Rgb[] = [
  [28, 22, 18],
  [58, 40, 26],
  [105, 72, 40],
  [165, 125, 78],
  [205, 175, 120],
  [128, 124, 120],
  [215, 210, 205],
  [120, 50, 30],
];
const IRIS: Rgb[] = [
  [70, 45, 30],
  [100, 70, 40],
  [60, 100, 140],
  [80, 110, 80],
  [110, 110, 115],
];

const mixRgb = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
const jitterRgb = (c: Rgb, rng: Rng, amount: number): Rgb =>
  c.map((x) => Math.max(0, Math.min(255, x + rng.range(-amount, amount)))) as Rgb;
const randomRgb = (rng: Rng, lo: number, hi: number): Rgb => [rng.range(lo, hi), rng.range(lo, hi), rng.range(lo, hi)];

export function randomAppearance(rng: Rng): Appearance {
  const tone = rng.range(0, SKIN_TONES.length - 1);
  const lo = Math.floor(tone);
  const skin = jitterRgb(mixRgb(SKIN_TONES[lo], SKIN_TONES[Math.min(lo + 1, SKIN_TONES.length - 1)], tone - lo), rng, 8);
  const bgTop = randomRgb(rng, 40, 220);
  const bgBottom = mixRgb(bgTop, randomRgb(rng, 30, 230), rng.range(0.2, 0.8));
  return {
    skin,
    hair: jitterRgb(rng.pick(HAIR), rng, 10),
    lip: jitterRgb([skin[0] * 0.82, skin[1] * 0.55, skin[2] * 0.58], rng, 10),
    iris: jitterRgb(rng.pick(IRIS), rng, 10),
    shirt: randomRgb(rng, 20, 235),
    bgTop,
    bgBottom,
    bgBlobs: Array.from({ length: rng.int(1, 4) }, () => ({
      x: rng.range(0, 1),
      y: rng.range(0, 1),
      r: rng.range(0.1, 0.35),
      color: randomRgb(rng, 20, 240),
    })),
    aspect: rng.range(0.72, 0.84),
    jaw: rng.range(0.05, 0.25),
    hairline: rng.range(-0.95, -0.6),
    hairLength: rng.range(-0.3, 1.0),
    hairWave: rng.range(0, 2 * Math.PI),
    eyeSpacing: rng.range(0.28, 0.33),
    eyeY: rng.range(-0.11, -0.05),
    mouthY: rng.range(0.44, 0.5),
    browThickness: rng.range(0.75, 1.3),
    glasses: rng.chance(0.2),
    glassesColor: randomRgb(rng, 10, 90),
  };
}

/** Everything needed to draw any frame of a track. */
export interface TrackDrawing {
  appearance: Appearance;
  frame(k: number): FaceFrame;
}

/** Drawing parameters for a track: identity, slowly drifting pose/light, expression timeline. */
export function trackDrawing(track: TrackPlan): TrackDrawing {
  const rng = createRng(track.drawSeed, 'draw');
  const appearance = randomAppearance(rng);
  const baseline = neutralExpression();
  baseline.curve += rng.normal() * 0.12;
  baseline.browHeight += rng.normal() * 0.15;
  baseline.browAngle += rng.normal() * 0.12;
  baseline.eyeOpen += rng.normal() * 0.1;
  baseline.width += rng.normal() * 0.06;

  const base = {
    cx: 0.5 + rng.range(-0.025, 0.025),
    cy: 0.53 + rng.range(-0.025, 0.025),
    scale: rng.range(0.44, 0.5),
    roll: rng.range(-0.06, 0.06),
    yaw: rng.range(-0.25, 0.25),
    angle: rng.range(0, 2 * Math.PI),
    strength: rng.range(0.2, 0.9),
    brightness: rng.range(-22, 18),
    contrast: rng.range(0.75, 1.15),
    cast: [rng.range(0.9, 1.1), rng.range(0.92, 1.08), rng.range(0.88, 1.12)] as Rgb,
    blur: rng.chance(0.5) ? rng.range(0, 1) : 0,
    noise: rng.range(1.5, 7),
  };
  const d = {
    cx: drift(rng, 0.015, 40, 160),
    cy: drift(rng, 0.012, 40, 160),
    scale: drift(rng, 0.01, 60, 200),
    roll: drift(rng, 0.04, 40, 160),
    yaw: drift(rng, 0.12, 40, 160),
    gaze: drift(rng, 0.025, 20, 80),
    angle: drift(rng, 0.4, 80, 300),
    brightness: drift(rng, 8, 60, 240),
  };
  // Blinks: about every 50-120 frames, 3 frames long.
  const blinks = new Set<number>();
  for (let k = rng.int(5, 60); k < track.frames; k += rng.int(50, 120)) for (let j = 0; j < 3; j++) blinks.add(k + j);
  const missing = new Set(track.missingCrops.map((f) => f - 1));

  const segExpr = track.segments.map((s) => {
    const e = expressionFor(s.cls, s.variant, s.intensity, baseline);
    for (const key of Object.keys(s.jitter) as (keyof Expression)[]) e[key] += s.jitter[key];
    return e;
  });
  const segOf = new Int32Array(track.frames);
  track.segments.forEach((s, i) => segOf.fill(i, s.start, s.end));

  const expressionAt = (k: number): Expression => {
    const i = segOf[k];
    const s = track.segments[i];
    let e = segExpr[i];
    // Smooth transitions: half-way between neighbours at each boundary, over h frames each side.
    const h = Math.max(1, Math.min(5, Math.floor((s.end - s.start) / 4)));
    const fromStart = k - s.start + 0.5;
    const toEnd = s.end - k - 0.5;
    if (i > 0 && fromStart < h) e = blendExpression(e, segExpr[i - 1], smooth(0.5 * (1 - fromStart / h)));
    else if (i < track.segments.length - 1 && toEnd < h) e = blendExpression(e, segExpr[i + 1], smooth(0.5 * (1 - toEnd / h)));
    else e = { ...e };
    if (s.talk > 0) e.open += s.talk * Math.max(0, Math.sin((2 * Math.PI * k) / s.talkPeriod));
    if (blinks.has(k)) e.eyeOpen *= 0.12;
    return e;
  };

  return {
    appearance,
    frame(k: number): FaceFrame {
      const pose: Pose = {
        cx: base.cx + d.cx(k),
        cy: base.cy + d.cy(k),
        scale: base.scale + d.scale(k),
        roll: base.roll + d.roll(k),
        yaw: base.yaw + d.yaw(k),
        gaze: d.gaze(k),
      };
      const lighting: Lighting = {
        angle: base.angle + d.angle(k),
        strength: base.strength,
        brightness: base.brightness + d.brightness(k),
        contrast: base.contrast,
        cast: base.cast,
        blur: base.blur,
        noise: base.noise,
      };
      return { appearance, pose, expression: expressionAt(k), lighting, turnedAway: missing.has(k) };
    },
  };
}

/** Smoothstep scaled to [0, 0.5] → [0, 0.5]: eases the blend weight near the segment's middle. */
function smooth(w: number): number {
  const t = w * 2;
  return 0.5 * t * t * (3 - 2 * t);
}
