// Alignment geometry for face crops (pure: no tfjs, no sharp): where the aligned square sits in a
// frame given 68 landmarks, interpolation between detections, box overlap and face choice.

export type FaceSelection = 'largest' | 'left' | 'right';

export interface Point {
  x: number;
  y: number;
}

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Where the face sits in a crop, as fractions of the side. Defaults follow the 112x112 ArcFace
 * template that Aff-Wild2-style crops use: eye centres 35.2 px apart, eyes-to-mouth 40.7 px,
 * the point half-way between eyes and mouth at y = 72 px.
 */
export interface CropTemplate {
  eyeDistance: number;
  eyeToMouth: number;
  anchorY: number;
}

export const AFFWILD_TEMPLATE: CropTemplate = { eyeDistance: 35.2 / 112, eyeToMouth: 40.7 / 112, anchorY: 72 / 112 };

export interface Alignment {
  /** Centre of the crop square in frame pixels. */
  center: Point;
  /** Side of the crop square in frame pixels (before resizing). */
  side: number;
  /** Angle of the eye line in degrees (clockwise, image coordinates); the crop is rotated by -angle. */
  angleDeg: number;
}

function mean(points: Point[]): Point {
  const s = points.reduce((a, p) => ({ x: a.x + p.x, y: a.y + p.y }), { x: 0, y: 0 });
  return { x: s.x / points.length, y: s.y / points.length };
}

/** Similarity alignment from 68 landmarks (iBUG order): eyes level, face scaled to the template. */
export function alignmentFromLandmarks(landmarks: Point[], template: CropTemplate = AFFWILD_TEMPLATE): Alignment {
  if (landmarks.length !== 68) throw new Error(`alignmentFromLandmarks: expected 68 landmarks, got ${landmarks.length}`);
  // iBUG 68: 36-41 the subject's right eye (image left), 42-47 the other eye, 48-67 the mouth.
  const leftEye = mean(landmarks.slice(36, 42));
  const rightEye = mean(landmarks.slice(42, 48));
  const mouth = mean(landmarks.slice(48, 68));
  const eyeMid = { x: (leftEye.x + rightEye.x) / 2, y: (leftEye.y + rightEye.y) / 2 };
  const angle = Math.atan2(rightEye.y - leftEye.y, rightEye.x - leftEye.x);
  const eyeDist = Math.hypot(rightEye.x - leftEye.x, rightEye.y - leftEye.y);
  const eyeMouth = Math.hypot(mouth.x - eyeMid.x, mouth.y - eyeMid.y);
  // A turned head shortens the eye distance and a tilted one the eye-mouth distance: take the larger estimate.
  const side = Math.max(eyeDist / template.eyeDistance, eyeMouth / template.eyeToMouth, 1);
  const anchor = { x: (eyeMid.x + mouth.x) / 2, y: (eyeMid.y + mouth.y) / 2 };
  // "up" on the face, perpendicular to the eye line; the anchor sits below the crop centre.
  const up = { x: Math.sin(angle), y: -Math.cos(angle) };
  const shift = (template.anchorY - 0.5) * side;
  return { center: { x: anchor.x + up.x * shift, y: anchor.y + up.y * shift }, side, angleDeg: (angle * 180) / Math.PI };
}

export function interpolateAlignment(a: Alignment, b: Alignment, t: number): Alignment {
  const lerp = (u: number, v: number) => u + (v - u) * t;
  return {
    center: { x: lerp(a.center.x, b.center.x), y: lerp(a.center.y, b.center.y) },
    side: lerp(a.side, b.side),
    angleDeg: lerp(a.angleDeg, b.angleDeg),
  };
}

export function interpolateBox(a: FaceBox, b: FaceBox, t: number): FaceBox {
  const lerp = (u: number, v: number) => u + (v - u) * t;
  return { x: lerp(a.x, b.x), y: lerp(a.y, b.y), width: lerp(a.width, b.width), height: lerp(a.height, b.height) };
}

export function iou(a: FaceBox, b: FaceBox): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Picks one face; `largest` weighs area by confidence so a big false positive does not win easily. */
export function chooseFace<T extends { score: number; box: FaceBox }>(faces: T[], select: FaceSelection = 'largest'): T | null {
  if (!faces.length) return null;
  const cx = (f: T) => f.box.x + f.box.width / 2;
  const key = select === 'left' ? (f: T) => -cx(f) : select === 'right' ? cx : (f: T) => f.box.width * f.box.height * f.score;
  return faces.reduce((best, f) => (key(f) > key(best) ? f : best));
}
