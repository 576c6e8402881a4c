import { describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../src/store/db';
import { createRun } from '../../../src/store/runs';
import { deleteStepsFrom, downsampledSteps, putSteps, stepCount, stepPage } from '../../../src/store/steps';
import { runSteps } from '../../../src/main/core/app-training';
import type { StepRecord } from '../../../src/shared/api';
import { tempDir } from '../../helpers/tmp';

function project(): { db: Db; runId: number } {
  const db = openDb(tempDir(), { create: true });
  return { db, runId: createRun(db, { kind: 'train', config: { epochs: 3 } }) };
}

/** A run of `epochs` x `steps` steps; loss falls with a spike at x = spikeAt. */
function series(epochs: number, steps: number, spikeAt = -1): StepRecord[] {
  const out: StepRecord[] = [];
  for (let e = 0; e < epochs; e++)
    for (let s = 1; s <= steps; s++) {
      const x = e * steps + s;
      const total = x === spikeAt ? 50 : 2 / Math.sqrt(x) + 0.01 * Math.sin(x);
      out.push({
        x,
        epoch: e,
        step: s,
        loss: { total, sup: total * 0.7, cons: total * 0.3 },
        lambda: e / epochs,
        lr: 1e-3 * 0.95 ** e,
        imagesPerSec: 100 + s,
      });
    }
  return out;
}

describe('step metrics store', () => {
  it('round-trips every step in x order, and a re-put step replaces the stored one', () => {
    const { db, runId } = project();
    const all = series(2, 10);
    putSteps(db, runId, all.slice(0, 15));
    putSteps(db, runId, all.slice(10));
    expect(stepCount(db, runId)).toBe(20);
    expect(stepPage(db, runId, { limit: 100 })).toEqual({ steps: all, next: null });
    putSteps(db, runId, [{ ...all[3]!, loss: { total: 9, sup: 8, cons: 1 } }]);
    expect(stepPage(db, runId, { limit: 100 }).steps[3]!.loss).toEqual({ total: 9, sup: 8, cons: 1 });
    db.close();
  });

  it('pages the full series with `after` and `next`', () => {
    const { db, runId } = project();
    const all = series(3, 7);
    putSteps(db, runId, all);
    const seen: StepRecord[] = [];
    let after: number | undefined;
    let pages = 0;
    for (;;) {
      const p = stepPage(db, runId, { after, limit: 5 });
      seen.push(...p.steps);
      pages++;
      if (p.next === null) break;
      after = p.next;
    }
    expect(pages).toBe(5);
    expect(seen).toEqual(all);
    db.close();
  });

  it('downsamples to at most maxPoints real steps, keeping the first, the last and the extremes', () => {
    const { db, runId } = project();
    const all = series(20, 500, 4321); // 10k steps, one spike
    putSteps(db, runId, all);
    const pts = downsampledSteps(db, runId, 200);
    expect(pts.length).toBeLessThanOrEqual(200);
    expect(pts.length).toBeGreaterThan(150);
    expect(pts[0]).toEqual(all[0]);
    expect(pts.at(-1)).toEqual(all.at(-1));
    // every point is a stored step, in order
    const byX = new Map(all.map((s) => [s.x, s]));
    for (const p of pts) expect(p).toEqual(byX.get(p.x));
    expect(pts.map((p) => p.x)).toEqual([...pts.map((p) => p.x)].sort((a, b) => a - b));
    // the spike and the global minimum survive
    expect(pts.some((p) => p.x === 4321)).toBe(true);
    const min = all.reduce((m, s) => (s.loss.total < m.loss.total ? s : m));
    expect(pts.some((p) => p.x === min.x)).toBe(true);
    // a short run comes back whole
    expect(downsampledSteps(db, runId, 20_000)).toHaveLength(10_000);
    db.close();
  });

  it('serves runs.steps: chart points by default, every step page by page with full', () => {
    const { db, runId } = project();
    putSteps(db, runId, series(4, 1000));
    const chart = runSteps(db, { runId, maxPoints: 2000, limit: 50_000 });
    expect(chart).toMatchObject({ runId, stored: 4000, sampling: 'min-max', next: null });
    expect(chart.steps.length).toBeLessThanOrEqual(2000);
    const page = runSteps(db, { runId, maxPoints: 2000, full: true, limit: 3000 });
    expect(page).toMatchObject({ sampling: 'all', next: 3000 });
    expect(page.steps).toHaveLength(3000);
    expect(runSteps(db, { runId, maxPoints: 2000, full: true, after: 3000, limit: 3000 }).steps).toHaveLength(1000);
    expect(() => runSteps(db, { runId: 99, maxPoints: 2000, limit: 10 })).toThrow(/run 99 does not exist/);
    db.close();
  });

  it('forgets the steps of epochs a resumed run trains again', () => {
    const { db, runId } = project();
    putSteps(db, runId, series(3, 4));
    expect(deleteStepsFrom(db, runId, 2)).toBe(4);
    expect(stepCount(db, runId)).toBe(8);
    db.close();
  });
});
