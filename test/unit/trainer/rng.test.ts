import { describe, expect, it } from 'vitest';
import { Rng, createRng, deriveSeed } from '../../../src/trainer/rng';

const draw = (r: Rng, n: number) => Array.from({ length: n }, () => r.nextUint32());

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    expect(draw(createRng(42), 20)).toEqual(draw(createRng(42), 20));
    expect(draw(createRng(42), 20)).not.toEqual(draw(createRng(43), 20));
    // seeds beyond 2^32 and negative seeds are distinct streams too
    expect(draw(createRng(2 ** 40 + 1), 5)).not.toEqual(draw(createRng(1), 5));
    expect(draw(createRng(-1), 5)).not.toEqual(draw(createRng(1), 5));
  });

  it('getState/setState resume the stream exactly, also through JSON', () => {
    const a = createRng(7);
    draw(a, 13);
    a.normal();
    const saved = JSON.parse(JSON.stringify(a.getState()));
    const expected = [a.next(), a.int(10), a.normal(), a.uniform(-2, 3)];
    const b = Rng.fromState(saved);
    expect([b.next(), b.int(10), b.normal(), b.uniform(-2, 3)]).toEqual(expected);
    const c = createRng(999);
    c.setState(saved);
    expect(c.next()).toBe(expected[0]);
  });

  it('rejects a malformed state', () => {
    const r = createRng(1);
    expect(() => r.setState({ algorithm: 'sfc32', s: [1, 2, 3] } as never)).toThrow(/not an sfc32 state/);
    expect(() => r.setState({ algorithm: 'mulberry32', s: [1, 2, 3, 4] } as never)).toThrow(/not an sfc32 state/);
  });

  it('next() is in [0,1) and int(n) covers [0,n) evenly', () => {
    const r = createRng(3);
    const counts = new Array(6).fill(0);
    const n = 60000;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      counts[r.int(6)]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // chi-square with 5 dof; 20.5 is the 0.999 quantile
    const chi = counts.reduce((s, c) => s + (c - n / 6) ** 2 / (n / 6), 0);
    expect(chi).toBeLessThan(20.5);
    expect(() => r.int(0)).toThrow(RangeError);
    expect(() => r.int(2.5)).toThrow(RangeError);
  });

  it('normal() has mean 0 and std 1', () => {
    const r = createRng(11);
    const n = 40000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(s2 / n - mean * mean) - 1)).toBeLessThan(0.03);
    const shifted = createRng(11).normal(5, 2);
    expect(shifted).toBeCloseTo(5 + 2 * createRng(11).normal(), 12);
  });

  it('shuffle and permutation return permutations, deterministically', () => {
    const p = createRng(5).permutation(50);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...p]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...createRng(5).permutation(50)]).toEqual([...p]);
    const arr = ['a', 'b', 'c', 'd'];
    expect(createRng(1).shuffle(arr)).toBe(arr);
    expect([...arr].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('deriveSeed and fork give reproducible, distinct children', () => {
    expect(deriveSeed(1, 'net', 0)).toBe(deriveSeed(1, 'net', 0));
    const seeds = new Set([0, 1, 2, 3].map((i) => deriveSeed(1, 'net', i)));
    expect(seeds.size).toBe(4);
    expect(deriveSeed(1, 'net', 0)).not.toBe(deriveSeed(2, 'net', 0));
    expect(draw(createRng(9).fork('a'), 3)).toEqual(draw(createRng(9).fork('a'), 3));
    expect(draw(createRng(9).fork('a'), 3)).not.toEqual(draw(createRng(9).fork('b'), 3));
  });
});
