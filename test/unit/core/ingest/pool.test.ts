import { describe, expect, it } from 'vitest';
import { defaultConcurrency, progressOf, runPool, type PoolProgress } from '../../../../src/main/core/ingest/pool';

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

describe('runPool', () => {
  it('keeps input order, never exceeds the concurrency and reports progress to the end', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: PoolProgress[] = [];
    const out = await runPool(
      [5, 1, 4, 2, 3, 0],
      2,
      async (n, i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await tick(n);
        inFlight--;
        return `${i}:${n * 10}`;
      },
      { onProgress: (p) => seen.push(p) },
    );
    expect(out).toEqual(['0:50', '1:10', '2:40', '3:20', '4:30', '5:0']);
    expect(peak).toBe(2);
    expect(seen[0]).toMatchObject({ done: 0, total: 6, etaSeconds: null });
    expect(seen.map((p) => p.done)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(seen.at(-1)).toMatchObject({ done: 6, total: 6, etaSeconds: 0 });
    expect(seen.at(-1)!.rate).toBeGreaterThan(0);
  });

  it('stops at the first failure, aborts the in-flight calls and rethrows it', async () => {
    const started: number[] = [];
    let abortedSibling = false;
    const run = runPool([0, 1, 2, 3, 4, 5], 2, async (n, _i, signal) => {
      started.push(n);
      if (n === 1) throw new Error('item 1 failed');
      await new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          abortedSibling = true;
          resolve();
        });
        setTimeout(resolve, 200);
      });
      return n;
    });
    await expect(run).rejects.toThrow('item 1 failed');
    expect(abortedSibling).toBe(true);
    expect(started).toEqual([0, 1]);
  });

  it('rejects with an AbortError when the caller aborts', async () => {
    const ac = new AbortController();
    const run = runPool(
      [1, 2, 3],
      1,
      async (_n, _i, signal) => {
        ac.abort();
        expect(signal.aborted).toBe(true);
        return 1;
      },
      { signal: ac.signal },
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    await expect(runPool([1], 1, async () => 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('handles an empty list and defaults to the core count', async () => {
    expect(await runPool([], undefined, async () => 1)).toEqual([]);
    expect(defaultConcurrency()).toBeGreaterThanOrEqual(1);
    expect(progressOf(2, 4, 1000)).toEqual({ done: 2, total: 4, rate: 2, etaSeconds: 1 });
  });
});
