import { describe, expect, it } from 'vitest';
import { EtaEstimator, runStepProgress } from '../../../src/shared/progress';

describe('run ETA', () => {
  it('counts steps over the whole run', () => {
    expect(runStepProgress(0, 5, 10, 3)).toEqual({ done: 5, total: 30 });
    expect(runStepProgress(2, 10, 10, 3)).toEqual({ done: 30, total: 30 });
  });

  it('reads a constant rate exactly from the second update on', () => {
    const e = new EtaEstimator();
    e.update(0, 1000, 0);
    expect(e.reading()).toEqual({ etaSeconds: null, rate: null, paused: false });
    e.update(10, 1000, 1000);
    expect(e.reading().rate).toBeCloseTo(10, 9);
    expect(e.reading().etaSeconds).toBeCloseTo(99, 6);
    for (let t = 2; t <= 50; t++) e.update(10 * t, 1000, t * 1000);
    expect(e.reading().etaSeconds).toBeCloseTo(50, 6);
  });

  it('moves monotonically towards a new rate, without overshoot, and the ETA does not swing back', () => {
    const e = new EtaEstimator(20);
    let done = 0;
    let t = 0;
    e.update(done, 100_000, t);
    for (let i = 0; i < 60; i++) e.update((done += 20), 100_000, (t += 1000));
    expect(e.reading().rate).toBeCloseTo(20, 6);
    const rates: number[] = [];
    for (let i = 0; i < 200; i++) {
      // irregular intervals, as steps and validation make them
      const dt = i % 7 === 0 ? 3000 : 500;
      e.update((done += (10 * dt) / 1000), 100_000, (t += dt));
      rates.push(e.reading().rate!);
    }
    for (let i = 1; i < rates.length; i++) expect(rates[i]!).toBeLessThanOrEqual(rates[i - 1]! + 1e-9);
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(10 - 1e-9);
    expect(rates.at(-1)!).toBeCloseTo(10, 1);
  });

  it('freezes while paused and leaves the paused time out of the rate', () => {
    const e = new EtaEstimator();
    e.update(0, 100, 0);
    e.update(10, 100, 1000);
    const before = e.reading();
    e.pause();
    expect(e.reading()).toEqual({ ...before, paused: true });
    e.update(10, 100, 60_000); // a late event while paused changes nothing
    expect(e.reading()).toEqual({ ...before, paused: true });
    e.resume(600_000);
    expect(e.reading().paused).toBe(false);
    e.update(20, 100, 601_000);
    expect(e.reading().rate).toBeCloseTo(10, 9);
    expect(e.reading().etaSeconds).toBeCloseTo(8, 6);
  });

  it('starts over when a new run begins', () => {
    const e = new EtaEstimator();
    e.update(50, 100, 0);
    e.update(60, 100, 1000);
    e.update(1, 200, 2000);
    expect(e.reading().rate).toBeNull();
  });
});
