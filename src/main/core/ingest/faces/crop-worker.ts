// Worker thread of the face cropper: message wiring only (crop-protocol.ts); tfjs and the face
// models load here, never on the host's main thread.
import { parentPort } from 'node:worker_threads';
import { cropFaces } from './crops';
import type { FromCropWorker, ToCropWorker } from './crop-protocol';
import type { PoolProgress } from '../pool';

const port = parentPort!;
const running = new Map<number, AbortController>();
const send = (m: FromCropWorker) => port.postMessage(m);

port.on('message', (m: ToCropWorker) => {
  if (m.type === 'cancel') {
    running.get(m.id)?.abort();
    return;
  }
  const abort = new AbortController();
  running.set(m.id, abort);
  const flag = new Int32Array(m.cancelFlag);
  const onProgress = (progress: PoolProgress) => {
    // cropFaces checks its signal before each frame; progress comes after each detection
    if (Atomics.load(flag, 0) !== 0) abort.abort();
    send({ type: 'progress', id: m.id, progress });
  };
  cropFaces({ ...m.options, signal: abort.signal, onProgress })
    .then(
      (result) => send({ type: 'result', id: m.id, result }),
      (e: unknown) => send({ type: 'error', id: m.id, message: (e as Error)?.message ?? String(e), cancelled: abort.signal.aborted }),
    )
    .finally(() => running.delete(m.id));
});
