// Small pure helpers for display: numbers, durations, labels, colours.
import { ABAW8 } from '../../shared/labels';

export const CLASS_NAMES: readonly string[] = ABAW8;

export function labelName(label: number | null | undefined): string {
  if (label === null || label === undefined) return '—';
  if (label < 0) return 'unlabelled';
  return CLASS_NAMES[label] ?? `class ${label}`;
}

/** Fixed short names for tight places (cards), the full name in a tooltip beside them. */
export const CLASS_SHORT: readonly string[] = ['Neutral', 'Anger', 'Disgust', 'Fear', 'Happy', 'Sad', 'Surprise', 'Other'];
/** Fixed three-letter abbreviations (the pair matrix's columns). */
export const CLASS_ABBR: readonly string[] = ['Neu', 'Ang', 'Dis', 'Fea', 'Hap', 'Sad', 'Sur', 'Oth'];

export function shortName(label: number | null | undefined): string {
  if (label === null || label === undefined || label < 0) return labelName(label);
  return CLASS_SHORT[label] ?? labelName(label);
}

export function abbrName(label: number | null | undefined): string {
  if (label === null || label === undefined || label < 0) return labelName(label);
  return CLASS_ABBR[label] ?? labelName(label);
}

/** One colour per class, readable on light and dark backgrounds. */
export const CLASS_COLOURS = ['#8a8f98', '#e5484d', '#46a758', '#8e4ec6', '#f5a524', '#3e63dd', '#12a594', '#d6409f'];

export function classColour(label: number | null | undefined): string {
  if (label === null || label === undefined || label < 0) return 'transparent';
  return CLASS_COLOURS[label % CLASS_COLOURS.length];
}

export function pct(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${(x * 100).toFixed(digits)} %`;
}

export function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(2);
  return Number(x.toFixed(digits)).toString();
}

export function count(x: number): string {
  return x.toLocaleString('en-US');
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "nice" axis ticks between lo and hi. */
export function ticks(lo: number, hi: number, n = 4): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A tick label with just enough digits to tell neighbouring ticks apart. */
export function tickLabel(v: number, step: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) return v.toExponential(1);
  let digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  while (digits < 8 && Math.abs(Math.round(step * 10 ** digits) - step * 10 ** digits) > 1e-6) digits++;
  return v.toFixed(digits);
}

/** Keep at most `max` points, evenly spaced, always keeping the last. */
export function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const stride = points.length / max;
  const out: T[] = [];
  for (let i = 0; i < max - 1; i++) out.push(points[Math.floor(i * stride)]);
  out.push(points[points.length - 1]);
  return out;
}

/** Window of a virtual list: which rows to render for a scroll position. */
export function visibleRange(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  rows: number,
  overscan = 3,
): { first: number; last: number } {
  if (rows <= 0) return { first: 0, last: -1 };
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rows - 1, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { first, last };
}

/** What a decision did, in words ("relabelled as Happiness"), for the last-action line. */
export function actionText(action: 'accept' | 'relabel' | 'keep' | 'exclude' | 'skip', label: string): string {
  if (action === 'relabel') return `relabelled as ${label}`;
  if (action === 'accept') return 'accepted the suggestion';
  if (action === 'keep') return 'kept the given label';
  if (action === 'exclude') return 'excluded';
  return 'skipped';
}
