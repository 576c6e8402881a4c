// The face-api runtime on our tfjs instance: picks the tfjs backend (the trainer's selectBackend),
// loads the detector and the 68-point landmark net once per process, and runs detection on raw frames.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { FaceBox, Point } from './align';

const nodeRequire = createRequire(import.meta.url);

export type FaceDetectorKind = 'ssd' | 'tiny';
export type FaceBackendPreference = import('../../../../trainer/backend').BackendPreference;

export interface DetectedFace {
  score: number;
  /** Detector box in frame pixels. */
  box: FaceBox;
  /** 68 landmarks in frame pixels. */
  landmarks: Point[];
}

interface FaceApiNet {
  isLoaded: boolean;
  loadFromDisk(dir: string): Promise<void>;
}
interface FaceApiDetection {
  detection: { score: number; box: FaceBox };
  landmarks: { positions: Point[] };
}
export interface FaceApi {
  version: string;
  tf: typeof tf;
  nets: { ssdMobilenetv1: FaceApiNet; tinyFaceDetector: FaceApiNet; faceLandmark68Net: FaceApiNet };
  SsdMobilenetv1Options: new (o: { minConfidence?: number; maxResults?: number }) => unknown;
  TinyFaceDetectorOptions: new (o: { inputSize?: number; scoreThreshold?: number }) => unknown;
  detectAllFaces(input: tf.Tensor3D, options: unknown): { withFaceLandmarks(): Promise<FaceApiDetection[]> };
}

let backendReady: Promise<string> | undefined;

/**
 * Picks the tfjs backend for detection with the trainer's own picker (selectBackend): in 'auto',
 * TensorFlow with CUDA, then TensorFlow, wasm, cpu. WebGPU is skipped: face-api's post-processing
 * reads tensors synchronously, which tfjs-backend-webgpu cannot do in Node. The choice is global to tfjs.
 */
export function ensureFaceBackend(pref: FaceBackendPreference = 'auto'): Promise<string> {
  backendReady ??= (async () => {
    const { selectBackend } = await import('../../../../trainer/backend');
    const info = await selectBackend(pref, { syncReadback: true });
    await tf.ready();
    return info.name;
  })();
  backendReady.catch(() => (backendReady = undefined));
  return backendReady;
}

let faceApi: FaceApi | undefined;

/**
 * face-api's node-wasm build `require`s @tensorflow/tfjs and the wasm backend rather than
 * bundling them, so it runs on the same tfjs engine (and backend) as the rest of the app.
 */
export function loadFaceApi(): FaceApi {
  faceApi ??= nodeRequire('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  return faceApi;
}

export function faceModelDir(): string {
  return path.join(path.dirname(nodeRequire.resolve('@vladmandic/face-api/package.json')), 'model');
}

const loading = new Map<string, Promise<void>>();

/** Loads the detector and the 68-point landmark net from node_modules (once per process). */
export async function loadFaceModels(detector: FaceDetectorKind = 'ssd', backend: FaceBackendPreference = 'auto'): Promise<FaceApi> {
  await ensureFaceBackend(backend);
  const api = loadFaceApi();
  const dir = faceModelDir();
  const nets = [detector === 'ssd' ? api.nets.ssdMobilenetv1 : api.nets.tinyFaceDetector, api.nets.faceLandmark68Net];
  const names = [detector === 'ssd' ? 'ssd' : 'tiny', 'landmark68'];
  await Promise.all(
    nets.map((net, i) => {
      if (net.isLoaded) return;
      let p = loading.get(names[i]);
      if (!p) {
        p = net.loadFromDisk(dir).catch((err: Error) => {
          loading.delete(names[i]);
          throw new Error(`${dir}: cannot load face model ${names[i]} (${err.message})`);
        });
        loading.set(names[i], p);
      }
      return p;
    }),
  );
  return api;
}

/** A decoded frame: raw interleaved RGB bytes. */
export interface RawFrame {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** Detects faces in a raw RGB frame; coordinates are returned in the frame's own pixels. */
export async function detectFaces(
  api: FaceApi,
  frame: RawFrame,
  opts: { detector: FaceDetectorKind; minScore: number; detectMaxSide: number; tinyInputSize?: number },
): Promise<DetectedFace[]> {
  const scale = Math.min(1, opts.detectMaxSide / Math.max(frame.width, frame.height));
  let input: RawFrame = frame;
  if (scale < 1) {
    const { data, info } = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: frame.channels as 3 } })
      .resize(Math.max(1, Math.round(frame.width * scale)), Math.max(1, Math.round(frame.height * scale)))
      .raw()
      .toBuffer({ resolveWithObject: true });
    input = { data, width: info.width, height: info.height, channels: info.channels };
  }
  const sx = frame.width / input.width;
  const sy = frame.height / input.height;
  const tensor = tf.tensor3d(
    new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.length),
    [input.height, input.width, 3],
    'int32',
  );
  try {
    const options =
      opts.detector === 'ssd'
        ? new api.SsdMobilenetv1Options({ minConfidence: opts.minScore, maxResults: 20 })
        : new api.TinyFaceDetectorOptions({ inputSize: opts.tinyInputSize ?? 320, scoreThreshold: opts.minScore });
    const found = await api.detectAllFaces(tensor, options).withFaceLandmarks();
    return found.map((f) => ({
      score: f.detection.score,
      box: { x: f.detection.box.x * sx, y: f.detection.box.y * sy, width: f.detection.box.width * sx, height: f.detection.box.height * sy },
      landmarks: f.landmarks.positions.map((p) => ({ x: p.x * sx, y: p.y * sy })),
    }));
  } finally {
    tensor.dispose();
  }
}
