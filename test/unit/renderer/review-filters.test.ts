import { describe, expect, it } from 'vitest';
import { chipsOf, loadViews, sameFilter, saveViews, VIEWS_STORAGE, withoutChip, withView } from '../../../src/renderer/src/review-filters';

const name = (c: number) => ['Neutral', 'Anger', 'Disgust'][c] ?? `class ${c}`;

describe('filter chips', () => {
  it('shows one chip per active filter, none for the default open flags', () => {
    expect(chipsOf({ status: 'open' }, name)).toEqual([]);
    const chips = chipsOf({ status: 'decided', split: 'Train_Set', given: 1, minScore: 0.5, actions: ['accept'], allAgree: true }, name);
    expect(chips.map((c) => c.text)).toEqual([
      'split: Train_Set',
      'given: Anger',
      'score 0.50–1',
      'decided',
      'action: accept',
      'all networks agree',
    ]);
  });

  it('removes a chip: the score chip both bounds, the status chip its actions too', () => {
    expect(withoutChip({ minScore: 0.2, maxScore: 0.8, given: 1 }, 'minScore')).toEqual({ given: 1 });
    expect(withoutChip({ status: 'decided', actions: ['keep'] }, 'status')).toEqual({ status: 'open' });
    expect(withoutChip({ video: 'a', split: 'b' }, 'video')).toEqual({ split: 'b' });
  });
});

describe('saved views', () => {
  it('saves, replaces by name, and loads back', () => {
    const m = new Map<string, string>();
    const s = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
    let views = withView([], 'anger', { given: 1 });
    views = withView(views, ' anger ', { given: 1, minScore: 0.5 });
    views = withView(views, '', { given: 2 });
    expect(views).toEqual([{ name: 'anger', filter: { given: 1, minScore: 0.5 } }]);
    saveViews(s, views);
    expect(loadViews(s)).toEqual(views);
    m.set(VIEWS_STORAGE, 'garbage');
    expect(loadViews(s)).toEqual([]);
  });

  it('compares filters ignoring key order and the default status', () => {
    expect(sameFilter({ given: 1 }, { status: 'open', given: 1 })).toBe(true);
    expect(sameFilter({ given: 1, split: 'x' }, { split: 'x', given: 1 })).toBe(true);
    expect(sameFilter({ given: 1 }, { given: 2 })).toBe(false);
  });
});
