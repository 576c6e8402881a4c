import { describe, expect, it } from 'vitest';
import { lambdaAt, lrAt, rampUpFor } from '../../../src/trainer/schedule';

// λ = 0.9 · exp(-β (1 - e/10)²) at e = 0, 2.5, 5, 9, 10; e.g. β=4, e=5: 0.9·e^-1 = 0.331091.
const TABLE: Record<string, number[]> = {
  '0.1': [0.814354, 0.850773, 0.877779, 0.8991, 0.9],
  '0.65': [0.469841, 0.624387, 0.765014, 0.894169, 0.9],
  '1': [0.331091, 0.512805, 0.700921, 0.891045, 0.9],
  '2': [0.121802, 0.292187, 0.545878, 0.882179, 0.9],
  '4': [0.016484, 0.094859, 0.331091, 0.86471, 0.9],
  '5': [0.006064, 0.054049, 0.257854, 0.856106, 0.9],
};
const EPOCHS = [0, 2.5, 5, 9, 10];

describe('lambdaAt', () => {
  for (const [beta, row] of Object.entries(TABLE)) {
    it(`matches the hand table for β = ${beta}`, () => {
      EPOCHS.forEach((e, i) => expect(lambdaAt(e, { beta: Number(beta), rampUp: 10 })).toBeCloseTo(row[i], 5));
    });
  }

  it('defaults to the paper: λmax 0.9, β 4', () => {
    expect(lambdaAt(0, { rampUp: 10 })).toBeCloseTo(0.9 * Math.exp(-4), 10);
    expect(lambdaAt(5, { rampUp: 10, lambdaMax: 0.5 })).toBeCloseTo(0.5 * Math.exp(-1), 10);
  });

  it('clamps at λmax after e_r unless told not to (the authors code falls again)', () => {
    expect(lambdaAt(12, { beta: 4, rampUp: 10 })).toBe(0.9);
    expect(lambdaAt(100, { beta: 4, rampUp: 10 })).toBe(0.9);
    expect(lambdaAt(12, { beta: 4, rampUp: 10, clampAfterRampUp: false })).toBeCloseTo(0.766929, 5);
    expect(lambdaAt(12, { beta: 0.65, rampUp: 10, clampAfterRampUp: false })).toBeCloseTo(0.876902, 5);
  });

  it('is increasing up to e_r and accepts fractional epochs', () => {
    let prev = -1;
    for (let e = 0; e <= 10; e += 0.25) {
      const l = lambdaAt(e, { rampUp: 10 });
      expect(l).toBeGreaterThan(prev);
      prev = l;
    }
    const mid = lambdaAt(4.5, { rampUp: 10 });
    expect(mid).toBeGreaterThan(lambdaAt(4, { rampUp: 10 }));
    expect(mid).toBeLessThan(lambdaAt(5, { rampUp: 10 }));
  });

  it('is 0 with a single network (pure cross-entropy)', () => {
    expect(lambdaAt(0, { rampUp: 10, numNets: 1 })).toBe(0);
    expect(lambdaAt(20, { rampUp: 10, numNets: 1 })).toBe(0);
    expect(lambdaAt(20, { rampUp: 10, numNets: 2 })).toBe(0.9);
  });

  it('rejects bad input', () => {
    expect(() => lambdaAt(-1, { rampUp: 10 })).toThrow(RangeError);
    expect(() => lambdaAt(0, { rampUp: 0 })).toThrow(/rampUp/);
    expect(() => lambdaAt(0, { rampUp: 10, lambdaMax: 1.5 })).toThrow(/lambdaMax/);
    expect(() => lambdaAt(0, { rampUp: 10, beta: -1 })).toThrow(/beta/);
  });

  it('rampUpFor follows the authors code (0.9 · epochs)', () => {
    expect(rampUpFor(100)).toBeCloseTo(90, 10);
    expect(rampUpFor(20, 0.5)).toBe(10);
  });
});

describe('lrAt', () => {
  it('decays by γ per epoch', () => {
    expect(lrAt(0, 1e-3)).toBe(1e-3);
    expect(lrAt(1, 1e-3)).toBeCloseTo(9.5e-4, 15);
    expect(lrAt(10, 1e-3)).toBeCloseTo(5.987369392383787e-4, 15);
    expect(lrAt(2, 1e-2)).toBeCloseTo(9.025e-3, 15);
    expect(lrAt(3, 1, 0.5)).toBe(0.125);
    expect(() => lrAt(1, 1e-3, 1.5)).toThrow(RangeError);
  });
});
