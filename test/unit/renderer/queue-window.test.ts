import { describe, expect, it } from 'vitest';
import {
  MAX_PAGES,
  QUEUE_PAGE,
  pageOf,
  pagesToEvict,
  pagesToFetch,
  parseGoTo,
  positionText,
  realTop,
  scrollFor,
  scrollScale,
} from '../../../src/renderer/src/queue-window';
import { itemOf, loadedEntries, pagesToDrop, patchPages, withNames } from '../../../src/renderer/src/queue-window';

describe('sparse pages of the queue', () => {
  it('fetches only the missing pages of a visible range, deep in a million flags', () => {
    const have = new Set([0, 1]);
    const first = 999_900;
    const pages = pagesToFetch(first, first + 80, 1_000_000, (p) => have.has(p));
    expect(pages).toEqual([pageOf(first)]);
    expect(pageOf(first)).toBe(Math.floor(first / QUEUE_PAGE));
    expect(pagesToFetch(0, 10, 1_000_000, (p) => p === 0)).toEqual([]);
  });

  it('clips at the queue ends', () => {
    expect(pagesToFetch(0, 10_000, 450, () => false)).toEqual([0, 1, 2]);
    expect(pagesToFetch(0, 10, 0, () => false)).toEqual([]);
    expect(pagesToFetch(10, 5, 100, () => false)).toEqual([]);
  });

  it('evicts the pages farthest from the view, keeping at most MAX_PAGES', () => {
    const loaded = Array.from({ length: MAX_PAGES + 3 }, (_, i) => i * 10);
    const drop = pagesToEvict(loaded, 200, 201);
    expect(drop).toHaveLength(3);
    // the farthest from pages 200..201 first: 420, 410, 400 (the low end is nearer)
    expect(drop).toEqual([420, 410, 0]);
    expect(pagesToEvict([1, 2, 3], 0, 0)).toEqual([]);
    // a page in view is never dropped
    expect(pagesToEvict(loaded, 0, 1000, 2)).toEqual([]);
  });
});

describe('a scroll area taller than the browser allows', () => {
  it('keeps small grids 1:1', () => {
    const s = scrollScale(100, 196);
    expect(s.height).toBe(s.real);
    expect(realTop(500, 600, s)).toBe(500);
    expect(scrollFor(500, 600, s)).toBe(500);
  });

  it('maps a capped scrollbar onto a million flags, both ends reachable', () => {
    const rows = 250_000;
    const s = scrollScale(rows, 196);
    expect(s.real).toBe(rows * 196);
    expect(s.height).toBeLessThan(10_000_000);
    const vp = 700;
    expect(realTop(0, vp, s)).toBe(0);
    expect(realTop(s.height - vp, vp, s)).toBeCloseTo(s.real - vp, 3);
    const deep = 31_337_000;
    expect(realTop(scrollFor(deep, vp, s), vp, s)).toBeCloseTo(deep, 3);
  });
});

describe('text', () => {
  it('says which flag of how many', () => {
    expect(positionText(0, 1_000_000)).toBe('flag 1 of 1,000,000');
    expect(positionText(41, 42)).toBe('flag 42 of 42');
    expect(positionText(0, 0)).toBe('');
  });

  it('reads a go-to box', () => {
    expect(parseGoTo('video3:17')).toEqual({ ref: 'video3:17' });
    expect(parseGoTo(' 12-24-1920x1080_left : 5 ')).toEqual({ ref: '12-24-1920x1080_left:5' });
    expect(parseGoTo('clip one 5')).toEqual({ ref: 'clip one:5' });
    expect(parseGoTo('a:b:12')).toEqual({ ref: 'a:b:12' });
    expect(parseGoTo('#123')).toEqual({ ref: '123' });
    expect(parseGoTo('123')).toEqual({ ref: '123' });
    expect(parseGoTo('video3')).toBeNull();
    expect(parseGoTo('  ')).toBeNull();
  });
});

describe('sparse page helpers', () => {
  const it3 = (status: string, id: number) => ({ status, id });
  it('reads, patches and drops pages by position, keeping the focused page and pages with items that left the queue', () => {
    const pages = new Map([
      [0, [it3('open', 1), it3('open', 2)]],
      [5, [it3('decided', 11), it3('open', 12)]],
      [9, [it3('open', 21), it3('open', 22)]],
    ]);
    expect(itemOf(pages, 11, 2)).toEqual(it3('open', 12));
    expect(itemOf(pages, 4, 2)).toBeUndefined();
    expect(loadedEntries(pages, 2).map(([i, x]) => [i, x.id])).toEqual([
      [0, 1],
      [1, 2],
      [10, 11],
      [11, 12],
      [18, 21],
      [19, 22],
    ]);
    const before = pages.get(9);
    expect(patchPages(pages, (x) => (x.id === 21 ? { ...x, status: 'decided' } : null))).toBe(true);
    expect(pages.get(9)).not.toBe(before); // copied, so views see a new array
    expect(pages.get(9)![0]!.status).toBe('decided');
    expect(patchPages(pages, () => null)).toBe(false);
    // room for one page: page 0 is focused, 5 and 9 hold decided items while showing open flags
    expect(pagesToDrop(pages, 0, 'open', 0, 0, 1)).toEqual([]);
    expect(pagesToDrop(pages, 0, 'all', 0, 0, 2).sort()).toEqual([9]);
  });

  it('adds names once, sorted, up to a cap, and says when nothing is new', () => {
    expect(withNames(['b'], ['a', 'b'], 10)).toEqual(['a', 'b']);
    expect(withNames(['a', 'b'], ['b'], 10)).toBeNull();
    expect(withNames(['a'], ['c', 'b'], 2)).toEqual(['a', 'c']);
  });
});
