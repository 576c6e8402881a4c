// A small bounded-concurrency async pool with progress and cooperative cancellation.
import os from 'node:os';

export interface PoolProgress {
  done: number;
  total: number;
  /** Items per second since the pool started. */
  rate: number;
  /** Seconds left at the current rate; null before the first item finishes. */
  etaSeconds: number | null;
}

export interface PoolOptions {
  signal?: AbortSignal;
  onProgress?: (p: PoolProgress) => void;
}

export function defaultConcurrency(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

export function progressOf(done: number, total: number, elapsedMs: number): PoolProgress {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  return { done, total, rate, etaSeconds: done > 0 && rate > 0 ? (total - done) / rate : done === total ? 0 : null };
}

/**
 * Runs `fn` over `items` with at most `concurrency` in flight; results keep the input order.
 * The first failure stops new work, aborts the signal passed to in-flight calls, waits for them
 * to settle and rethrows that failure. An external abort rejects with an AbortError.
 */
export async function runPool<T, R>(
  items: readonly T[],
  concurrency: number | undefined,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  opts: PoolOptions = {},
): Promise<R[]> {
  const limit = Math.max(1, Math.floor(concurrency ?? defaultConcurrency()));
  const total = items.length;
  const results = new Array<R>(total);
  const inner = new AbortController();
  const onOuterAbort = () => inner.abort(opts.signal?.reason);
  if (opts.signal?.aborted) throw abortError(opts.signal);
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const started = performance.now();
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | null = null;
  opts.onProgress?.(progressOf(0, total, 0));

  const worker = async () => {
    while (!failure && !inner.signal.aborted && next < total) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index, inner.signal);
      } catch (error) {
        if (!failure) failure = { error };
        inner.abort(error);
        return;
      }
      done++;
      opts.onProgress?.(progressOf(done, total, performance.now() - started));
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(limit, total) }, worker));
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
  if (opts.signal?.aborted) throw abortError(opts.signal);
  if (failure) throw (failure as { error: unknown }).error;
  return results;
}

/** An Error named AbortError, carrying the signal's reason when that is already one. */
export function abortError(signal?: AbortSignal): Error {
  const reason = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error(typeof reason === 'string' ? reason : 'The operation was aborted');
  err.name = 'AbortError';
  return err;
}
