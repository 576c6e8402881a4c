import { describe, expect, it } from 'vitest';
import { createRng, hashSeed } from '../../../../src/main/core/demo/rng';

describe('createRng', () => {
  it('repeats for the same seed and key, and differs across seeds and keys', () => {
    const seq = (seed: number, key: string) => {
      const r = createRng(seed, key);
      return Array.from({ length: 8 }, () => r.uint32());
    };
    expect(seq(1, 'a')).toEqual(seq(1, 'a'));
    expect(seq(1, 'a')).not.toEqual(seq(2, 'a'));
    expect(seq(1, 'a')).not.toEqual(seq(1, 'b'));
    expect(hashSeed(2 ** 40, '')).not.toBe(hashSeed(0, '')); // high bits of a seed count
  });

  it('draws within range with roughly uniform and normal statistics', () => {
    const r = createRng(42);
    const counts = new Array(5).fill(0);
    let sum = 0;
    let sq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const k = r.int(0, 4);
      expect(k >= 0 && k <= 4 && Number.isInteger(k)).toBe(true);
      counts[k]++;
      const x = r.range(-2, 3);
      expect(x >= -2 && x < 3).toBe(true);
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    for (const c of counts) expect(Math.abs(c / n - 0.2)).toBeLessThan(0.02);
    expect(Math.abs(sum / n)).toBeLessThan(0.05);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
  });

  it('shuffles into a permutation and forks independent streams', () => {
    const r = createRng(3);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = r.shuffle(items.slice());
    expect(shuffled.slice().sort((a, b) => a - b)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    const a = createRng(3).fork('x');
    const b = createRng(3);
    b.next(); // drawing from the parent does not change a fork
    expect(b.fork('x').uint32()).toBe(a.uint32());
    expect(() => r.pick([])).toThrow(/empty/);
  });
});
