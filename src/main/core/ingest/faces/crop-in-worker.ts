// Host side of the face-crop worker: cropFaces with the same options and result, run in a
// worker_threads Worker (crop-worker.ts) so tfjs and the detector never block the host's main
// thread (in Electron, the thread that draws the window). One worker serves a whole import.
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../../../trainer/start-worker';
// sharp's libvips must stay loaded in the main thread while workers load and unload it (sharp's
// "worker threads" install note), so the host loads it first.
import 'sharp';
import { abortError, type PoolProgress } from '../pool';
import { isFromCropWorker, type ToCropWorker } from './crop-protocol';
import type { CropFacesOptions, CropFacesResult } from './crops';

interface Pending {
  onProgress?: (p: PoolProgress) => void;
  settle(error: Error | null, result?: CropFacesResult): void;
}

export class FaceCropWorker {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    /** After a cancel, terminate the worker if it has not stopped within this time. */
    private readonly cancelGraceMs = 10_000,
  ) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = startModuleWorker(import.meta.url, { source: 'crop-worker.ts', built: 'face-worker.js' }, 'face worker');
    w.on('message', (m: unknown) => {
      if (!isFromCropWorker(m)) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') p.onProgress?.(m.progress);
      else if (m.type === 'result') p.settle(null, m.result);
      else p.settle(m.cancelled ? abortError() : new Error(m.message));
    });
    const fail = (e: Error) => {
      if (this.worker === w) this.worker = null;
      for (const p of [...this.pending.values()]) p.settle(e);
    };
    w.on('error', (e) => fail(new Error(`face worker failed: ${e.message}`)));
    w.on('exit', (code) => fail(new Error(`face worker exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  /** cropFaces in the worker: progress is relayed, and `signal` cancels it (by message, then by terminating it). */
  crop(opts: CropFacesOptions): Promise<CropFacesResult> {
    const { signal, onProgress, ...options } = opts;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const w = this.ensure();
    const id = this.nextId++;
    return new Promise<CropFacesResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cancelFlag = new SharedArrayBuffer(4);
      const onAbort = () => {
        Atomics.store(new Int32Array(cancelFlag), 0, 1);
        w.postMessage({ type: 'cancel', id } satisfies ToCropWorker);
        timer = setTimeout(() => void this.close(), this.cancelGraceMs);
        timer.unref();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        onProgress,
        settle: (error, result) => {
          if (!this.pending.delete(id)) return;
          signal?.removeEventListener('abort', onAbort);
          if (timer) clearTimeout(timer);
          if (error) reject(signal?.aborted ? abortError(signal) : error);
          else resolve(result!);
        },
      });
      w.postMessage({ type: 'crop', id, options, cancelFlag } satisfies ToCropWorker);
    });
  }

  /** Stops the worker (any crop still running rejects). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
