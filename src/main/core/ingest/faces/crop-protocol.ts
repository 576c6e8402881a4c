// The face-crop worker's messages (crop-worker.ts runs cropFaces off the host's main thread).
//   host → worker   crop {id, options, cancelFlag}   cancel {id}
// A detection keeps the worker's event loop on microtasks for seconds, so a cancel message may
// wait; the host also sets cancelFlag[0] (shared memory), which the worker reads between frames.
//   worker → host   progress {id, progress}   result {id, result}   error {id, message, cancelled}
import type { PoolProgress } from '../pool';
import type { CropFacesOptions, CropFacesResult } from './crops';

/** cropFaces' options that cross the thread boundary (no signal, no callback). */
export type CropJobOptions = Omit<CropFacesOptions, 'signal' | 'onProgress'>;

export type ToCropWorker =
  { type: 'crop'; id: number; options: CropJobOptions; cancelFlag: SharedArrayBuffer } | { type: 'cancel'; id: number };

export type FromCropWorker =
  | { type: 'progress'; id: number; progress: PoolProgress }
  | { type: 'result'; id: number; result: CropFacesResult }
  | { type: 'error'; id: number; message: string; cancelled: boolean };

export function isFromCropWorker(m: unknown): m is FromCropWorker {
  const t = (m as { type?: unknown } | null)?.type;
  return typeof (m as { id?: unknown } | null)?.id === 'number' && (t === 'progress' || t === 'result' || t === 'error');
}
