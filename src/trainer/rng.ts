// Seedable PRNG for the trainer: sfc32 (128-bit state, period >= 2^32 per stream in practice far longer),
// seeded through splitmix32. Its whole state is four uint32 words, so a checkpoint restores it exactly.
// mulberry32's 2^32 period is too short here: an Aff-Wild2 run draws billions of augmentation numbers.

/** The complete state of an {@link Rng}: JSON-serialisable, restores the stream exactly. */
export interface RngState {
  readonly algorithm: 'sfc32';
  readonly s: readonly [number, number, number, number];
}

/** 32-bit FNV-1a over a string: turns labels into seed material. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** One splitmix32 step: a well-mixed uint32 from a counter. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Folds any finite number (also beyond 2^32, or negative) into a uint32. */
function seedWord(seed: number): number {
  if (!Number.isFinite(seed)) throw new RangeError(`rng: seed must be a finite number, got ${seed}`);
  const int = Math.trunc(seed);
  const lo = int >>> 0;
  const hi = Math.floor(int / 4294967296) >>> 0;
  return (lo ^ splitmix32(hi ^ 0x5bd1e995)) >>> 0;
}

/**
 * Derives a child seed from a base seed and labels, e.g. `deriveSeed(runSeed, 'net', 2)`.
 * Different labels give independent-looking seeds; the same inputs always give the same seed.
 */
export function deriveSeed(seed: number, ...labels: readonly (string | number)[]): number {
  let h = seedWord(seed);
  for (const label of labels) {
    const w = typeof label === 'number' ? seedWord(label) : fnv1a(label);
    h = splitmix32((h ^ w) + 0x6a09e667);
  }
  return h;
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(seed: number) {
    let x = seedWord(seed);
    this.a = x = splitmix32(x);
    this.b = x = splitmix32(x);
    this.c = x = splitmix32(x);
    this.d = splitmix32(x) | 1;
    // Discard the first outputs: sfc32 needs a few rounds to decorrelate close seeds.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** A uniformly distributed uint32. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). Rejection sampling keeps it unbiased for any n up to 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new RangeError(`rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal (Box-Muller; uses two uniforms per call so the state stays one plain stream). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.next(); // (0, 1]: log never sees 0
    const u2 = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Bernoulli draw with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T, A extends { length: number; [i: number]: T }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle<number, Int32Array>(p);
  }

  /** An independent child generator; advances this one by one draw. */
  fork(label: string | number = 0): Rng {
    return new Rng(deriveSeed(this.nextUint32(), label));
  }

  getState(): RngState {
    return { algorithm: 'sfc32', s: [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0] };
  }

  setState(state: RngState): void {
    if (
      state == null ||
      state.algorithm !== 'sfc32' ||
      !Array.isArray(state.s) ||
      state.s.length !== 4 ||
      !state.s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)
    ) {
      throw new TypeError(`rng.setState: not an sfc32 state: ${JSON.stringify(state)}`);
    }
    [this.a, this.b, this.c, this.d] = state.s.map((w) => w | 0) as [number, number, number, number];
  }
}

export function createRng(seed: number): Rng {
  return new Rng(seed);
}
