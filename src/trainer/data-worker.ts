// Worker thread of the data pool: decodes and augments one batch per message, returns the floats
// (transferred, not copied). Seeds come with the items, so results equal the in-thread path.
import { parentPort } from 'node:worker_threads';
import { prepareItems, type PrepareItem } from './data';
import type { AugmentConfig } from './augment';

interface Task {
  id: number;
  items: PrepareItem[];
  size: number;
  aug: AugmentConfig | null;
}

parentPort!.on('message', (t: Task) => {
  prepareItems(t.items, t.size, t.aug).then(
    (r) => parentPort!.postMessage({ id: t.id, ...r }, [r.x.buffer as ArrayBuffer]),
    (e: Error) => parentPort!.postMessage({ id: t.id, fatal: e.message }),
  );
});
