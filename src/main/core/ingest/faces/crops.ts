// Aligned 112x112 face crops of a frames folder in the style of Aff-Wild2's cropped_aligned.
// sharp does all pixel work (decode, rotate, crop, resize, encode); the detector (detector.ts)
// only finds faces and landmarks, and align.ts places the crop.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { abortError, progressOf, type PoolProgress } from '../pool';
import {
  alignmentFromLandmarks,
  chooseFace,
  interpolateAlignment,
  interpolateBox,
  iou,
  type Alignment,
  type FaceBox,
  type FaceSelection,
} from './align';
import {
  detectFaces,
  loadFaceModels,
  type DetectedFace,
  type FaceBackendPreference,
  type FaceDetectorKind,
  type RawFrame,
} from './detector';

export interface FaceFrameResult {
  /** 1-based frame number, from the file name (00001.jpg -> 1). */
  index: number;
  file: string;
  hasFace: boolean;
  /** Detector confidence of the chosen face (0 when none). */
  score: number;
  box: FaceBox | null;
  /** Faces above minScore in the frame (0 for interpolated frames). */
  faces: number;
  /** True when the face was interpolated between two detected frames (detectEvery > 1). */
  tracked: boolean;
  /** "<file>: <reason>" when the frame could not be read. */
  error?: string;
}

export interface CropFacesOptions {
  framesDir: string;
  outDir: string;
  /** ssd = ssdMobilenetv1 (accurate, default); tiny = tinyFaceDetector (fast). */
  detector?: FaceDetectorKind;
  /** With the tiny detector, retry frames where it found no face with ssd (default true). */
  fallbackSsd?: boolean;
  /** Minimum detector confidence; default 0.5. */
  minScore?: number;
  onProgress?: (p: PoolProgress) => void;
  signal?: AbortSignal;
  /** Frames decoded ahead of the detector (sharp works on its own threads meanwhile). Default 8. */
  batch?: number;
  /** Run the detector on every k-th frame and interpolate the face in between. Default 1 (every frame). */
  detectEvery?: number;
  /** Which face to keep when there are several: largest (area x score), leftmost or rightmost (Aff-Wild2 _left/_right). */
  select?: FaceSelection;
  /** Frames are downscaled so their longer side is at most this before detection. Default 640. */
  detectMaxSide?: number;
  /** Input size of tinyFaceDetector (multiple of 32); default 320. */
  tinyInputSize?: number;
  /** Output side in pixels; default 112. */
  size?: number;
  /** JPEG quality of the crops; default 95. */
  jpegQuality?: number;
  backend?: FaceBackendPreference;
  /** Reuse an earlier finished run with the same settings (outDir/.done). Default true. */
  resume?: boolean;
}

export interface CropFacesResult {
  frames: FaceFrameResult[];
  /** Number of crops written. */
  cropped: number;
  errors: Array<{ file: string; reason: string }>;
  backend: string;
  detector: FaceDetectorKind;
  /** True when the results were read from an earlier finished run. */
  cached: boolean;
}

/**
 * Cuts the aligned crop out of a raw RGB frame: a padded square around the crop centre (black
 * outside the frame), rotated about its centre so the eyes are level, the middle `side` square
 * kept and resized to `size`.
 */
export async function cropAligned(frame: RawFrame, al: Alignment, size = 112, jpegQuality = 95): Promise<Buffer> {
  const side = Math.max(1, Math.round(al.side));
  // sqrt(2) * side covers the square at any rotation.
  const L = Math.ceil(side * 1.5) + 2;
  const rx = Math.round(al.center.x - L / 2);
  const ry = Math.round(al.center.y - L / 2);
  const ex = Math.max(0, rx);
  const ey = Math.max(0, ry);
  const ex2 = Math.min(frame.width, rx + L);
  const ey2 = Math.min(frame.height, ry + L);
  if (ex2 <= ex || ey2 <= ey) throw new Error('the face lies outside the frame');
  const raw = { raw: { width: frame.width, height: frame.height, channels: frame.channels as 3 } };
  const black = { r: 0, g: 0, b: 0, alpha: 1 };
  const region = await sharp(frame.data, raw)
    .extract({ left: ex, top: ey, width: ex2 - ex, height: ey2 - ey })
    .extend({ left: ex - rx, top: ey - ry, right: rx + L - ex2, bottom: ry + L - ey2, background: black })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const img = sharp(region.data, { raw: { width: L, height: L, channels: region.info.channels as 3 } });
  let outSide = L;
  if (Math.abs(al.angleDeg) > 0.01) {
    // libvips grows the canvas to the rotated bounding box; the centre stays the centre.
    const th = (Math.abs(al.angleDeg) * Math.PI) / 180;
    outSide = Math.round(L * (Math.abs(Math.cos(th)) + Math.abs(Math.sin(th))));
    img.rotate(-al.angleDeg, { background: black });
  }
  const offset = Math.max(0, Math.round((outSide - side) / 2));
  return img.extract({ left: offset, top: offset, width: side, height: side }).resize(size, size).jpeg({ quality: jpegQuality }).toBuffer();
}

// ---------------------------------------------------------------------------------------------
// Folder-level cropping

export async function listFrames(framesDir: string): Promise<Array<{ index: number; name: string }>> {
  let names: string[];
  try {
    names = await fs.readdir(framesDir);
  } catch (err) {
    throw new Error(`${framesDir}: cannot list frames (${(err as Error).message})`);
  }
  return names
    .filter((n) => /^\d+\.jpe?g$/i.test(n))
    .map((name) => ({ index: Number.parseInt(name, 10), name }))
    .sort((a, b) => a.index - b.index);
}

async function decodeFrame(file: string): Promise<RawFrame> {
  try {
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    // sharp calls an empty file an "unsupported image format"; say what it is.
    const size = await fs.stat(file).then(
      (st) => st.size,
      () => -1,
    );
    throw new Error(size === 0 ? 'empty file (0 bytes)' : (err as Error).message);
  }
}

interface Settings {
  detector: FaceDetectorKind;
  /** With tiny: re-detect with ssd where tiny found no face. */
  fallbackSsd: boolean;
  minScore: number;
  detectEvery: number;
  select: FaceSelection;
  detectMaxSide: number;
  tinyInputSize: number;
  size: number;
  jpegQuality: number;
}

interface DoneFile {
  settings: Settings;
  frameCount: number;
  backend: string;
  frames: FaceFrameResult[];
}

const DONE = '.done';

/**
 * Detects a face in every frame of `framesDir` and writes an aligned crop `outDir/<same name>`
 * for each frame that has one; frames without a face get no file (as in ABAW). Crops go to
 * `<outDir>.partial/` and are renamed when all frames are done. An unreadable frame is reported
 * in `errors` and in its frame result, and the run goes on.
 */
export async function cropFaces(opts: CropFacesOptions): Promise<CropFacesResult> {
  const settings: Settings = {
    detector: opts.detector ?? 'ssd',
    fallbackSsd: opts.fallbackSsd ?? true,
    minScore: opts.minScore ?? 0.5,
    detectEvery: Math.max(1, Math.floor(opts.detectEvery ?? 1)),
    select: opts.select ?? 'largest',
    detectMaxSide: opts.detectMaxSide ?? 640,
    tinyInputSize: opts.tinyInputSize ?? 320,
    size: opts.size ?? 112,
    jpegQuality: opts.jpegQuality ?? 95,
  };
  const framesDir = path.resolve(opts.framesDir);
  const outDir = path.resolve(opts.outDir);
  const frames = await listFrames(framesDir);
  const signal = opts.signal;

  if (opts.resume !== false && existsSync(path.join(outDir, DONE))) {
    try {
      const done = JSON.parse(await fs.readFile(path.join(outDir, DONE), 'utf8')) as DoneFile;
      if (JSON.stringify(done.settings) === JSON.stringify(settings) && done.frameCount === frames.length) {
        const errors = done.frames.filter((f) => f.error).map((f) => ({ file: f.file, reason: f.error! }));
        return {
          frames: done.frames,
          cropped: done.frames.filter((f) => f.hasFace).length,
          errors,
          backend: done.backend,
          detector: settings.detector,
          cached: true,
        };
      }
    } catch {
      // An unreadable marker means the folder is redone.
    }
  }

  const api = await loadFaceModels(settings.detector, opts.backend);
  const backend = tf.getBackend();
  const partial = outDir + '.partial';
  await fs.rm(partial, { recursive: true, force: true });
  await fs.mkdir(partial, { recursive: true });

  const results = new Array<FaceFrameResult>(frames.length);
  const errors: CropFacesResult['errors'] = [];
  const writes: Promise<void>[] = [];
  let done = 0;
  const started = performance.now();
  const tick = () => opts.onProgress?.(progressOf(done, frames.length, performance.now() - started));
  tick();

  const fail = (i: number, file: string, err: unknown) => {
    const reason = (err as Error).message ?? String(err);
    errors.push({ file, reason });
    results[i] = {
      index: frames[i].index,
      file,
      hasFace: false,
      score: 0,
      box: null,
      faces: 0,
      tracked: false,
      error: `${file}: ${reason}`,
    };
  };
  const writeCrop = (i: number, frame: RawFrame, al: Alignment) => {
    const file = path.join(framesDir, frames[i].name);
    writes.push(
      cropAligned(frame, al, settings.size, settings.jpegQuality)
        .then((jpg) => fs.writeFile(path.join(partial, frames[i].name), jpg))
        .catch((err) => fail(i, file, err)),
    );
  };

  // Decoding runs ahead of the detector on sharp's threads.
  const batch = Math.max(1, Math.floor(opts.batch ?? 8));
  const decodes = new Map<number, Promise<RawFrame>>();
  const decodeAt = (i: number): Promise<RawFrame> => {
    for (let j = i; j < Math.min(frames.length, i + batch); j++) {
      if (!decodes.has(j)) {
        const p = decodeFrame(path.join(framesDir, frames[j].name));
        p.catch(() => undefined);
        decodes.set(j, p);
      }
    }
    const p = decodes.get(i)!;
    decodes.delete(i);
    return p;
  };

  type Detected = { face: DetectedFace; faces: number; al: Alignment } | null;
  const detectOne = async (frame: RawFrame): Promise<Detected> => {
    let faces = await detectFaces(api, frame, settings);
    if (!faces.length && settings.detector === 'tiny' && settings.fallbackSsd) {
      // tiny misses some turned or lower-contrast faces that ssd finds; it runs only on those frames.
      await loadFaceModels('ssd', opts.backend);
      faces = await detectFaces(api, frame, { ...settings, detector: 'ssd' });
    }
    const face = chooseFace(faces, settings.select);
    return face ? { face, faces: faces.length, al: alignmentFromLandmarks(face.landmarks) } : null;
  };
  const record = (i: number, frame: RawFrame, det: Detected) => {
    const file = path.join(framesDir, frames[i].name);
    results[i] = {
      index: frames[i].index,
      file,
      hasFace: !!det,
      score: det?.face.score ?? 0,
      box: det?.face.box ?? null,
      faces: det?.faces ?? 0,
      tracked: false,
    };
    if (det) writeCrop(i, frame, det.al);
  };

  let prevKey: { i: number; det: Detected } | null = null;
  let pending: Array<{ i: number; frame: RawFrame }> = [];
  for (let i = 0; i < frames.length; i++) {
    if (signal?.aborted) {
      await Promise.allSettled(writes);
      await fs.rm(partial, { recursive: true, force: true });
      throw abortError(signal);
    }
    const file = path.join(framesDir, frames[i].name);
    let frame: RawFrame;
    try {
      frame = await decodeAt(i);
    } catch (err) {
      fail(i, file, err);
      done++;
      tick();
      continue;
    }
    const isKey = !prevKey || i - prevKey.i >= settings.detectEvery || i === frames.length - 1;
    if (!isKey) {
      pending.push({ i, frame });
      continue;
    }
    const det = await detectOne(frame);
    record(i, frame, det);
    done++;
    // Frames between two detections: interpolate when both ends see the same face, else detect them too.
    const a = prevKey?.det;
    for (const p of pending) {
      if (a && det && iou(a.face.box, det.face.box) >= 0.3) {
        const t = (p.i - prevKey!.i) / (i - prevKey!.i);
        const al = interpolateAlignment(a.al, det.al, t);
        results[p.i] = {
          index: frames[p.i].index,
          file: path.join(framesDir, frames[p.i].name),
          hasFace: true,
          score: Math.min(a.face.score, det.face.score),
          box: interpolateBox(a.face.box, det.face.box, t),
          faces: 0,
          tracked: true,
        };
        writeCrop(p.i, p.frame, al);
      } else {
        record(p.i, p.frame, await detectOne(p.frame));
      }
      done++;
    }
    pending = [];
    prevKey = { i, det };
    tick();
    // Bound the memory held by queued crops.
    if (writes.length >= 4 * batch) await Promise.all(writes.splice(0));
  }
  // Frames still waiting for a closing detection (the last frame was unreadable): detect them.
  for (const p of pending) {
    record(p.i, p.frame, await detectOne(p.frame));
    done++;
  }
  await Promise.all(writes);

  const cropped = results.filter((r) => r.hasFace).length;
  const doneFile: DoneFile = { settings, frameCount: frames.length, backend, frames: results };
  await fs.writeFile(path.join(partial, DONE), JSON.stringify(doneFile));
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.mkdir(path.dirname(outDir), { recursive: true });
  await fs.rename(partial, outDir);
  tick();
  return { frames: results, cropped, errors, backend, detector: settings.detector, cached: false };
}
