// Pure helpers of the line charts: TensorBoard's smoothing, log-scale ticks, zoom windows, CSV text.
import { ticks } from './format';

export interface Point {
  x: number;
  y: number;
}

/**
 * TensorBoard's debiased exponential moving average: weight 0 is the raw line, 0.99 nearly flat.
 * The running average starts at 0 and is divided by 1 - weight^n, so the first points are not
 * pulled towards zero. Non-finite values are passed through and do not disturb the average.
 */
export function smoothEma(points: readonly Point[], weight: number): Point[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  if (w === 0) return points.slice();
  let last = 0;
  let n = 0;
  return points.map((p) => {
    if (!Number.isFinite(p.y)) return { ...p };
    last = last * w + (1 - w) * p.y;
    n++;
    return { x: p.x, y: last / (1 - w ** n) };
  });
}

/** Axis ticks on a log scale: powers of ten across decades, else "nice" linear values (all > 0). */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi > 0)) return [];
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  if (b - a >= 2) {
    const out: number[] = [];
    const every = Math.ceil((b - a) / 5);
    for (let k = a; k <= b; k += every) {
      const v = 10 ** k;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(Number(v.toPrecision(12)));
    }
    if (out.length >= 2) return out;
  }
  return ticks(lo, hi, 4).filter((t) => t > 0);
}

/** Points inside [lo, hi] plus one neighbour either side, so lines run to the plot's edges. */
export function windowPoints<T extends Point>(points: readonly T[], lo: number, hi: number): T[] {
  let first = points.findIndex((p) => p.x >= lo);
  if (first < 0) return [];
  let last = first;
  while (last + 1 < points.length && points[last + 1]!.x <= hi) last++;
  first = Math.max(0, first - 1);
  last = Math.min(points.length - 1, last + 1);
  return points.slice(first, last + 1);
}

/** A dragged x range (in data units, either direction) as a zoom window, or null when too narrow to mean one. */
export function zoomWindow(a: number, b: number, full: readonly [number, number], minFraction = 0.005): [number, number] | null {
  const lo = Math.max(Math.min(a, b), full[0]);
  const hi = Math.min(Math.max(a, b), full[1]);
  if (!(hi > lo) || hi - lo < (full[1] - full[0]) * minFraction) return null;
  return [lo, hi];
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV: a header line, then one line per row, each ending in \n. */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  let out = header.map(csvCell).join(',') + '\n';
  for (const r of rows) out += r.map(csvCell).join(',') + '\n';
  return out;
}

/** A chart's series as CSV: one row per distinct x, one column per series (blank where a series has no point). */
export function seriesCsv(xLabel: string, series: readonly { name: string; points: readonly Point[] }[]): string {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const maps = series.map((s) => new Map(s.points.map((p) => [p.x, p.y])));
  return toCsv(
    [xLabel || 'x', ...series.map((s) => s.name)],
    xs.map((x) => [x, ...maps.map((m) => m.get(x))]),
  );
}
