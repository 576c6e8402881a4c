import { describe, expect, it } from 'vitest';
import {
  DEFAULT_KEYS,
  KEY_ACTIONS,
  KEYS_STORAGE,
  actionFor,
  comboLabel,
  comboOf,
  conflicts,
  keyMapFrom,
  loadKeyMap,
  normaliseCombo,
  overridesOf,
  remap,
  resetKeys,
  saveKeyMap,
} from '../../../src/renderer/src/keys';

function memoryStorage() {
  const m = new Map<string, string>();
  return {
    m,
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
}

describe('the default key map', () => {
  it('binds every action, with no conflicts', () => {
    for (const a of KEY_ACTIONS) expect(DEFAULT_KEYS[a.id].length, a.id).toBeGreaterThan(0);
    expect(conflicts(resetKeys())).toEqual([]);
  });

  it('keeps the keys reviewers know: digits relabel, A/K/X, S skips, Z undoes, ? helps', () => {
    const m = resetKeys();
    expect(actionFor(m, '3')).toBe('relabel-2');
    expect(actionFor(m, 'A')).toBe('accept');
    expect(actionFor(m, 'K')).toBe('keep');
    expect(actionFor(m, 'X')).toBe('exclude');
    expect(actionFor(m, 'S')).toBe('skip');
    expect(actionFor(m, 'Z')).toBe('undo');
    expect(actionFor(m, 'Shift+Z')).toBe('redo');
    expect(actionFor(m, 'Ctrl+Z')).toBe('undo');
    expect(actionFor(m, 'Ctrl+Shift+Z')).toBe('redo');
    expect(actionFor(m, 'Ctrl+Y')).toBe('redo');
    expect(actionFor(m, 'End')).toBe('last');
    expect(actionFor(m, '?')).toBe('help');
    expect(actionFor(m, 'Q')).toBeNull();
  });
});

describe('modifier handling', () => {
  it('spells letters upper case with Shift written out', () => {
    expect(comboOf({ key: 'a' })).toBe('A');
    expect(comboOf({ key: 'Z', shiftKey: true })).toBe('Shift+Z');
    expect(comboOf({ key: 'z', ctrlKey: true })).toBe('Ctrl+Z');
    expect(comboOf({ key: 'Z', ctrlKey: true, shiftKey: true })).toBe('Ctrl+Shift+Z');
    expect(comboOf({ key: 'y', metaKey: true })).toBe('Ctrl+Y');
    expect(comboOf({ key: 'a', altKey: true })).toBe('Alt+A');
  });

  it('does not add Shift to characters that carry it, and names Space', () => {
    expect(comboOf({ key: '?', shiftKey: true })).toBe('?');
    expect(comboOf({ key: '!', shiftKey: true })).toBe('!');
    expect(comboOf({ key: ' ' })).toBe('Space');
    expect(comboOf({ key: 'ArrowLeft', shiftKey: true })).toBe('Shift+ArrowLeft');
  });

  it('ignores bare modifiers', () => {
    for (const key of ['Shift', 'Control', 'Alt', 'Meta']) expect(comboOf({ key, shiftKey: true })).toBeNull();
  });

  it('a modified key runs no unmodified action', () => {
    const m = resetKeys();
    expect(actionFor(m, comboOf({ key: 'a', ctrlKey: true }))).toBeNull();
    expect(actionFor(m, comboOf({ key: '1', altKey: true }))).toBeNull();
  });

  it('normalises typed combinations', () => {
    expect(normaliseCombo('ctrl + shift + z')).toBe('Ctrl+Shift+Z');
    expect(normaliseCombo('cmd+y')).toBe('Ctrl+Y');
    expect(normaliseCombo('space')).toBe('Space');
    expect(normaliseCombo('left')).toBe('ArrowLeft');
    expect(normaliseCombo('q')).toBe('Q');
    expect(normaliseCombo('Ctrl++')).toBe('Ctrl++');
    expect(normaliseCombo('')).toBeNull();
    expect(normaliseCombo('nonsense')).toBeNull();
    expect(comboLabel('Ctrl+ArrowLeft')).toBe('Ctrl+←');
  });
});

describe('remapping', () => {
  it('binds an action to new keys without touching the defaults', () => {
    const m = remap(resetKeys(), 'accept', ['q', 'Shift+Q', 'q']);
    expect(m.accept).toEqual(['Q', 'Shift+Q']);
    expect(actionFor(m, 'Q')).toBe('accept');
    expect(actionFor(m, 'A')).toBeNull();
    expect(DEFAULT_KEYS.accept).toEqual(['A']);
  });

  it('refuses what is not a key', () => {
    expect(() => remap(resetKeys(), 'accept', ['bogus key'])).toThrow(/not a key/);
  });

  it('finds conflicts', () => {
    const m = remap(resetKeys(), 'accept', ['K']);
    expect(conflicts(m)).toEqual([{ combo: 'K', actions: ['accept', 'keep'] }]);
  });

  it('stores only the overrides, and loads them back over the defaults', () => {
    const s = memoryStorage();
    const m = remap(resetKeys(), 'skip', ['N']);
    expect(overridesOf(m)).toEqual({ skip: ['N'] });
    saveKeyMap(s, m);
    expect(JSON.parse(s.m.get(KEYS_STORAGE)!)).toEqual({ skip: ['N'] });
    const back = loadKeyMap(s);
    expect(back.skip).toEqual(['N']);
    expect(back.accept).toEqual(['A']);
  });

  it('resets to the defaults, clearing storage', () => {
    const s = memoryStorage();
    saveKeyMap(s, remap(resetKeys(), 'skip', ['N']));
    saveKeyMap(s, resetKeys());
    expect(s.m.has(KEYS_STORAGE)).toBe(false);
    expect(loadKeyMap(s)).toEqual(resetKeys());
  });

  it('survives garbage in storage', () => {
    const s = memoryStorage();
    s.setItem(KEYS_STORAGE, '{not json');
    expect(loadKeyMap(s)).toEqual(resetKeys());
    expect(keyMapFrom({ nope: ['A'], accept: 'A', keep: [3, 'j'] })).toMatchObject({ accept: ['A'], keep: ['J'] });
  });
});
