// The flag queue as sparse pages by position, pure: which pages a visible range needs, which loaded
// pages to drop when too many are held, and how a grid taller than a browser can scroll maps its
// scroll offset onto the rows (a million flags is ~50 M px of cards; Chromium stops near 33 M).

export const QUEUE_PAGE = 200;
/** Pages kept in memory (~ 8,000 flags); the farthest from the view are dropped first. */
export const MAX_PAGES = 40;

export function pageOf(index: number, page = QUEUE_PAGE): number {
  return Math.floor(Math.max(0, index) / page);
}

/**
 * The pages to fetch so that items first..last (inclusive, clipped to the queue) are loaded, nearest
 * to `first` first, leaving out pages already loaded or on their way.
 */
export function pagesToFetch(first: number, last: number, total: number, have: (page: number) => boolean, page = QUEUE_PAGE): number[] {
  if (total <= 0 || last < first) return [];
  const lo = pageOf(Math.max(0, first), page);
  const hi = pageOf(Math.min(total - 1, last), page);
  const out: number[] = [];
  for (let p = lo; p <= hi; p++) if (!have(p)) out.push(p);
  return out;
}

/** Loaded pages to drop so that at most `max` remain: the farthest from the pages around `focus`. */
export function pagesToEvict(loaded: Iterable<number>, keepFrom: number, keepTo: number, max = MAX_PAGES): number[] {
  const all = [...loaded];
  if (all.length <= max) return [];
  const dist = (p: number) => (p < keepFrom ? keepFrom - p : p > keepTo ? p - keepTo : 0);
  return all
    .filter((p) => dist(p) > 0)
    .sort((a, b) => dist(b) - dist(a) || b - a)
    .slice(0, all.length - max);
}

/** The page-aligned layout of a page that a fromEnd request answered: its first item's position. */
export function endPageStart(total: number, count: number): number {
  return Math.max(0, total - count);
}

/** The tallest scroll area used; beyond it the scrollbar moves through the rows proportionally. */
export const MAX_SCROLL_PX = 8_000_000;

export interface ScrollScale {
  /** the scroll area's height */
  height: number;
  /** the rows' real height */
  real: number;
}

export function scrollScale(rows: number, rowHeight: number, cap = MAX_SCROLL_PX): ScrollScale {
  const real = Math.max(0, rows * rowHeight);
  return { real, height: Math.min(real, cap) };
}

/** Where in the real rows (px) a scroll offset of the capped area is. */
export function realTop(scrollTop: number, viewport: number, s: ScrollScale): number {
  if (s.height === s.real) return scrollTop;
  const room = Math.max(1, s.height - viewport);
  return (Math.min(Math.max(0, scrollTop), room) / room) * Math.max(0, s.real - viewport);
}

/** The scroll offset of the capped area that shows real position `top` (px) at the top. */
export function scrollFor(top: number, viewport: number, s: ScrollScale): number {
  if (s.height === s.real) return top;
  const realRoom = Math.max(1, s.real - viewport);
  return (Math.min(Math.max(0, top), realRoom) / realRoom) * Math.max(0, s.height - viewport);
}

/** "12,345 of 1,000,000" for the focused flag (1-based), or "" with no queue. */
export function positionText(focus: number, total: number): string {
  if (total <= 0 || focus < 0) return '';
  return `flag ${(Math.min(focus, total - 1) + 1).toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`;
}

/**
 * A go-to box's text as a review.locate ref: "video:frame" or "video frame" (the last colon or
 * space splits, video names may hold either), or a bare number (a frame id, "#123" too).
 */
export function parseGoTo(text: string): { ref: string } | null {
  const t = text.trim();
  if (!t) return null;
  const id = /^#?(\d+)$/.exec(t);
  if (id) return { ref: id[1] };
  const m = /^(.+?)\s*[:\s]\s*(\d+)$/.exec(t);
  if (m) return { ref: `${m[1]}:${m[2]}` };
  return null;
}

/** Sparse pages: page p holds the items at positions p*size... */
export type Pages<T> = Map<number, T[]>;

/** The item at position i, if its page is loaded. */
export function itemOf<T>(pages: Pages<T>, i: number, size = QUEUE_PAGE): T | undefined {
  return pages.get(pageOf(i, size))?.[i - pageOf(i, size) * size];
}

/** Every loaded item with its position. */
export function loadedEntries<T>(pages: Pages<T>, size = QUEUE_PAGE): [number, T][] {
  const out: [number, T][] = [];
  for (const [p, list] of pages) list.forEach((it, k) => out.push([p * size + k, it]));
  return out;
}

/** Applies `change` to every loaded item in place (a changed page is copied); whether any changed. */
export function patchPages<T>(pages: Pages<T>, change: (it: T) => T | null): boolean {
  let touched = false;
  for (const [p, list] of pages) {
    let copy: T[] | null = null;
    list.forEach((it, k) => {
      const next = change(it);
      if (next && next !== it) {
        copy ??= [...list];
        copy[k] = next;
      }
    });
    if (copy) {
      pages.set(p, copy);
      touched = true;
    }
  }
  return touched;
}

/** `known` with `names` added (sorted, at most `max`), or null when nothing new was added. */
export function withNames(known: readonly string[], names: Iterable<string>, max: number): string[] | null {
  const set = new Set(known);
  const before = set.size;
  for (const n of names) if (set.size < max) set.add(n);
  return set.size === before ? null : [...set].sort();
}

/**
 * The pages to drop when too many are held: the farthest from keepFrom..keepTo, never the focused
 * card's page nor one holding an item that left the filtered queue (its position still counts).
 */
export function pagesToDrop(
  pages: Pages<{ status: string }>,
  focusPage: number,
  status: string,
  keepFrom: number,
  keepTo: number,
  max = MAX_PAGES,
): number[] {
  const pinned = [...pages.keys()].filter((p) => p === focusPage || (status !== 'all' && pages.get(p)!.some((it) => it.status !== status)));
  const candidates = [...pages.keys()].filter((p) => !pinned.includes(p));
  return pagesToEvict(candidates, keepFrom, keepTo, Math.max(1, max - pinned.length));
}
