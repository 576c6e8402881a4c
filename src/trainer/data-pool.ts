// A small worker_threads pool that prepares batches (decode + augment) off the training thread.
// Worth it when a core is free: augmentation costs milliseconds per image on the JS thread, which
// otherwise adds to every step (bench/data-pipeline.ts measures both ways).
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from './start-worker';
import type { AugmentConfig } from './augment';
import type { PrepareItem, PreparePool, Prepared } from './data';

interface Pending {
  resolve(p: Prepared): void;
  reject(e: Error): void;
}

export class DataPool implements PreparePool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const worker = startModuleWorker(import.meta.url, { source: 'data-worker.ts', built: 'data-worker.js' }, 'data worker');
      const slot = { worker, busy: 0 };
      worker.on('message', (m: Prepared & { id: number; fatal?: string }) => {
        // Only a worker with work in flight keeps the process alive.
        if (--slot.busy === 0) worker.unref();
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if (m.fatal) p.reject(new Error(`data worker: ${m.fatal}`));
        else p.resolve({ x: m.x, ok: m.ok, errors: m.errors });
      });
      worker.on('error', (e) => this.fail(new Error(`data worker crashed: ${e.message}`)));
      worker.on('exit', (code) => code !== 0 && this.fail(new Error(`data worker exited with code ${code}`)));
      worker.unref();
      this.workers.push(slot);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  prepare(items: readonly PrepareItem[], size: number, aug: AugmentConfig | null): Promise<Prepared> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    if (slot.busy++ === 0) slot.worker.ref();
    return new Promise<Prepared>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, items, size, aug });
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('data pool closed');
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
