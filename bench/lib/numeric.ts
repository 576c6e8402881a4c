// Numeric helpers for parity checks (bench/gpu-check.ts and the webgpu tests).

/** ||a - b|| / ||b||: the relative error of a against the reference b. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] * b[i];
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** n values uniform in [-1, 1) from a small LCG: the same inputs on every backend and machine. */
export function seededUniform(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}
