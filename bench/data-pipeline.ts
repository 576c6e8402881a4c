// Images/s of the training input pipeline: JPEG decode + resize (sharp) and augmentation
// (augment.ts), through the prefetching BatchLoader, on demo crops. Prints one JSON line.
// Usage: npx tsx bench/data-pipeline.ts [--images 640] [--size 112] [--batch 32] [--prefetch 2]
// Compare with bench/train-step.ts: the pipeline must outrun the training step.
import { rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { generateDemoData } from '../src/main/core/demo/generate';
import { openDb } from '../src/store/db';
import { importAbaw } from '../src/main/core/ingest/abaw';
import { listFrames } from '../src/store/dataset';
import { BatchLoader, decodeImage, epochOrder, prepareImage, type Sample } from '../src/trainer/data';
import { DEFAULT_AUGMENT } from '../src/trainer/augment';
import { DataPool } from '../src/trainer/data-pool';

const { values } = parseArgs({
  options: { images: { type: 'string' }, size: { type: 'string' }, batch: { type: 'string' }, prefetch: { type: 'string' } },
});
const images = Number(values.images ?? 640);
const size = Number(values.size ?? 112);
const batch = Number(values.batch ?? 32);
const prefetch = Number(values.prefetch ?? 2);

const root = mkdtempSync(join(tmpdir(), 'concord-bench-data-'));
try {
  const videos = 8;
  await generateDemoData({
    outDir: join(root, 'data'),
    videos,
    frames: Math.ceil(images / videos),
    noise: 0,
    seed: 1,
    size: 112,
    encodeVideos: false,
  });
  const db = openDb(join(root, 'project'), { create: true });
  importAbaw(db, { annotations: join(root, 'data', 'annotations'), frames: join(root, 'data', 'cropped_aligned') });
  const samples: Sample[] = listFrames(db, { withFaceOnly: true }).map((f) => ({
    frameId: f.frameId,
    path: f.imagePath,
    label: Math.max(0, f.label),
  }));
  db.close();
  const order = epochOrder(
    samples.map((s) => s.label),
    { seed: 1, balanced: false, epochSize: null, classes: 8 },
  );

  const time = async (fn: () => Promise<number>) => {
    const t = performance.now();
    const n = await fn();
    return n / ((performance.now() - t) / 1000);
  };
  // 1. decode + resize only, all in flight at once (sharp's thread pool)
  const decodeRate = await time(async () => {
    await Promise.all(samples.map((s) => decodeImage(s.path, size)));
    return samples.length;
  });
  // 2. augmentation only, on the JS thread
  const decoded = await Promise.all(samples.slice(0, 128).map((s) => decodeImage(s.path, size)));
  const augmentRate = await time(async () => {
    decoded.forEach((px, i) => prepareImage(px, size, DEFAULT_AUGMENT, i));
    return decoded.length;
  });
  // 3. the loader as training uses it: decode + augment + batch assembly
  const loaderRate = await time(async () => {
    let n = 0;
    for await (const b of new BatchLoader(samples, order, {
      inputSize: size,
      batchSize: batch,
      augment: DEFAULT_AUGMENT,
      epochSeed: 7,
      prefetch,
    }))
      n += b.count;
    return n;
  });
  // 4. the same with decode + augment on worker threads
  const pooled: Record<string, number> = {};
  for (const workers of [1, 2]) {
    const pool = new DataPool(workers);
    pooled[`workers${workers}`] =
      Math.round(
        (await time(async () => {
          let n = 0;
          for await (const b of new BatchLoader(samples, order, {
            inputSize: size,
            batchSize: batch,
            augment: DEFAULT_AUGMENT,
            epochSeed: 7,
            prefetch: Math.max(prefetch, workers),
            pool,
          }))
            n += b.count;
          return n;
        })) * 10,
      ) / 10;
    await pool.close();
  }
  const evalRate = await time(async () => {
    let n = 0;
    for await (const b of new BatchLoader(samples, order, { inputSize: size, batchSize: 64, augment: null, prefetch })) n += b.count;
    return n;
  });
  const round = (x: number) => Math.round(x * 10) / 10;
  process.stdout.write(
    JSON.stringify({
      bench: 'data-pipeline',
      images: samples.length,
      size,
      batch,
      prefetch,
      cpus: cpus().length,
      decodeImagesPerSec: round(decodeRate),
      augmentImagesPerSec: round(augmentRate),
      trainLoaderImagesPerSec: round(loaderRate),
      trainLoaderPooledImagesPerSec: pooled,
      evalLoaderImagesPerSec: round(evalRate),
    }) + '\n',
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
