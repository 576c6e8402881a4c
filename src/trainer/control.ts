// Cooperative cancel and pause for the trainer: long loops call `await control.point()` between
// batches; it yields to the event loop (so host messages get through), waits while paused and throws
// CancelledError once cancelled. Nothing is interrupted mid-step, so checkpoints stay whole.
import { CancelledError } from '../shared/progress';

export class RunControl {
  private cancelled = false;
  private pauseWait: { promise: Promise<void>; release: () => void } | null = null;
  private readonly listeners = new Set<(state: 'paused' | 'resumed') => void>();

  get isCancelled(): boolean {
    return this.cancelled;
  }

  get isPaused(): boolean {
    return this.pauseWait !== null;
  }

  cancel(): void {
    this.cancelled = true;
    this.resume();
  }

  pause(): void {
    if (this.pauseWait || this.cancelled) return;
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.pauseWait = { promise, release };
    for (const l of this.listeners) l('paused');
  }

  resume(): void {
    const w = this.pauseWait;
    if (!w) return;
    this.pauseWait = null;
    w.release();
    for (const l of this.listeners) l('resumed');
  }

  onPauseChange(cb: (state: 'paused' | 'resumed') => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** A safe point: let messages in, honour pause, throw when cancelled. */
  async point(what = 'training'): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    while (this.pauseWait) await this.pauseWait.promise;
    if (this.cancelled) throw new CancelledError(what);
  }
}
