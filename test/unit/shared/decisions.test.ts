import { describe, expect, it } from 'vitest';
import { labelAfter } from '../../../src/shared/decisions';
import { ReviewAction } from '../../../src/shared/api';
import { UNLABELLED } from '../../../src/shared/labels';

describe('labelAfter, the one label rule of a decision', () => {
  // original 1 (the file), current 2 (an earlier relabel), suggestion 4: every action tells them apart.
  const state = { original: 1, current: 2, suggested: 4 };

  it('pins the label each action leaves', () => {
    expect(labelAfter('accept', state)).toBe(4);
    expect(labelAfter('relabel', state, 6)).toBe(6);
    expect(labelAfter('keep', state)).toBe(1);
    expect(labelAfter('exclude', state)).toBe(UNLABELLED);
    expect(labelAfter('skip', state)).toBe(2);
  });

  it('keep goes back to the original label, not the current one', () => {
    expect(labelAfter('keep', { original: 3, current: UNLABELLED, suggested: 5 })).toBe(3);
  });

  it('covers every action of the contract', () => {
    for (const action of ReviewAction.options) expect(typeof labelAfter(action, state, 0)).toBe('number');
  });
});
