// Progress of long jobs: done, total, rate and ETA, throttled so callers can report every item.
import type { Progress } from './api';

export type ProgressFn = (p: Progress) => void;

export class ProgressTracker {
  private readonly started = Date.now();
  private lastEmit = 0;
  done = 0;

  constructor(
    private readonly phase: string,
    public total: number,
    private readonly onProgress?: ProgressFn,
    private readonly intervalMs = 200,
  ) {}

  add(n = 1, item?: string): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastEmit >= this.intervalMs || this.done >= this.total) {
      this.lastEmit = now;
      this.emit(item);
    }
  }

  snapshot(item?: string): Progress {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const left = Math.max(0, this.total - this.done);
    return { phase: this.phase, done: this.done, total: this.total, rate, etaSeconds: rate > 0 ? left / rate : null, item };
  }

  emit(item?: string): void {
    this.onProgress?.(this.snapshot(item));
  }
}

/** Thrown when a job is cancelled through its AbortSignal; callers treat it as a clean stop. */
export class CancelledError extends Error {
  constructor(what = 'job') {
    super(`${what} cancelled`);
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}
