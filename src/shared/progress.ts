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

/** What a run's ETA shows: one figure for the whole run, frozen (and said so) while paused. */
export interface EtaReading {
  etaSeconds: number | null;
  /** smoothed items per second, null before two updates */
  rate: number | null;
  paused: boolean;
}

/** Where a training step is in the whole run: steps done and steps in all epochs (step 1-based in its epoch). */
export function runStepProgress(epoch: number, step: number, steps: number, epochs: number): { done: number; total: number } {
  return { done: epoch * steps + step, total: Math.max(epochs, epoch + 1) * steps };
}

/**
 * The one ETA formula: remaining items over a smoothed rate. The rate is an exponential moving
 * average of the rate between updates, weighted by the time each covers (time constant tauSeconds)
 * and debiased like TensorBoard's smoothing, so a constant rate reads exactly and a change of rate
 * is approached monotonically, without the swings of a per-epoch figure. Time spent paused counts
 * neither for nor against the rate; while paused the reading is frozen.
 */
export class EtaEstimator {
  private last: { done: number; at: number } | null = null;
  private avg = 0;
  /** 1 - the weight of the (zero) starting value: the debiasing divisor */
  private weight = 0;
  private total = 0;
  private pausedReading: EtaReading | null = null;

  constructor(private readonly tauSeconds = 20) {}

  /** `done` of `total` items at time `nowMs`; a `done` below the last one starts over (a new run). */
  update(done: number, total: number, nowMs: number): void {
    this.total = total;
    if (this.pausedReading) return;
    if (!this.last || done < this.last.done) {
      this.last = { done, at: nowMs };
      this.avg = 0;
      this.weight = 0;
      return;
    }
    const dt = (nowMs - this.last.at) / 1000;
    if (dt <= 0) return;
    const instant = (done - this.last.done) / dt;
    const alpha = 1 - Math.exp(-dt / this.tauSeconds);
    this.avg = (1 - alpha) * this.avg + alpha * instant;
    this.weight = (1 - alpha) * this.weight + alpha;
    this.last = { done, at: nowMs };
  }

  pause(): void {
    if (!this.pausedReading) this.pausedReading = { ...this.reading(), paused: true };
  }

  /** The paused time is skipped: the next update measures from `nowMs`. */
  resume(nowMs: number): void {
    if (!this.pausedReading) return;
    this.pausedReading = null;
    if (this.last) this.last = { done: this.last.done, at: nowMs };
  }

  get paused(): boolean {
    return this.pausedReading !== null;
  }

  reading(): EtaReading {
    if (this.pausedReading) return this.pausedReading;
    const rate = this.weight > 0 ? this.avg / this.weight : null;
    const left = this.last ? Math.max(0, this.total - this.last.done) : null;
    const etaSeconds = left === null || rate === null ? null : left === 0 ? 0 : rate > 0 ? left / rate : null;
    return { etaSeconds, rate, paused: false };
  }
}
