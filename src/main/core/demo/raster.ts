// Drawing primitives for the demo faces' per-pixel rasteriser: signed distances (negative inside),
// a separable blur, and the scratch buffers (with a sensor-noise table) a frame is rendered into.

export const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

/** Approximate signed distance to an axis-aligned ellipse centred at the origin (negative inside). */
export function ellipseDist(u: number, v: number, a: number, b: number): number {
  const k0 = Math.sqrt((u * u) / (a * a) + (v * v) / (b * b));
  const k1 = Math.sqrt((u * u) / (a * a * a * a) + (v * v) / (b * b * b * b));
  if (k1 < 1e-9) return -Math.min(a, b);
  return (k0 * (k0 - 1)) / k1;
}

/** Signed distance to a segment with round caps of radius r. */
export function capsuleDist(u: number, v: number, ax: number, ay: number, bx: number, by: number, r: number): number {
  const px = u - ax;
  const py = v - ay;
  const dx = bx - ax;
  const dy = by - ay;
  const h = clamp01((px * dx + py * dy) / (dx * dx + dy * dy || 1e-9));
  const qx = px - dx * h;
  const qy = py - dy * h;
  return Math.sqrt(qx * qx + qy * qy) - r;
}

/** Re-usable scratch buffers so that rendering a frame allocates nothing. */
export interface RenderScratch {
  work: Float32Array;
  tmp: Float32Array;
  noise: Float32Array;
}

export const NOISE_TABLE = 1 << 16;

/** Scratch buffers for images of width x height; `noiseSeed` fills a Gaussian table. */
export function createScratch(width: number, height: number, noiseSeed: number): RenderScratch {
  const noise = new Float32Array(NOISE_TABLE);
  let s = noiseSeed >>> 0 || 1;
  const u = (): number => {
    // xorshift32: only feeds the sensor-noise table, which needs speed rather than quality.
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < NOISE_TABLE; i++) {
    noise[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  }
  return { work: new Float32Array(width * height * 3), tmp: new Float32Array(width * height * 3), noise };
}

/** Separable 3-tap blur [a, 1-2a, a], in place on `buf` (float RGB). */
export function blur3(buf: Float32Array, tmp: Float32Array, w: number, h: number, a: number): void {
  const m = 1 - 2 * a;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const xl = x > 0 ? x - 1 : 0;
      const xr = x < w - 1 ? x + 1 : w - 1;
      for (let ch = 0; ch < 3; ch++) {
        tmp[(y * w + x) * 3 + ch] = m * buf[(y * w + x) * 3 + ch] + a * (buf[(y * w + xl) * 3 + ch] + buf[(y * w + xr) * 3 + ch]);
      }
    }
  }
  for (let y = 0; y < h; y++) {
    const yu = y > 0 ? y - 1 : 0;
    const yd = y < h - 1 ? y + 1 : h - 1;
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < 3; ch++) {
        buf[(y * w + x) * 3 + ch] = m * tmp[(y * w + x) * 3 + ch] + a * (tmp[(yu * w + x) * 3 + ch] + tmp[(yd * w + x) * 3 + ch]);
      }
    }
  }
}
