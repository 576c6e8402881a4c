// The Review view's key map, pure: which key combination runs which action, the defaults, remapping
// with conflict detection, and the one spelling of a combination ("Ctrl+Shift+Z", "A", "?", "Space")
// that both a KeyboardEvent and the settings panel produce. Stored as the user's overrides only.

export type KeyActionId =
  | `relabel-${0 | 1 | 2 | 3 | 4 | 5 | 6 | 7}`
  | 'accept'
  | 'keep'
  | 'exclude'
  | 'skip'
  | 'undo'
  | 'redo'
  | 'next'
  | 'prev'
  | 'down'
  | 'up'
  | 'first'
  | 'last'
  | 'clear'
  | 'viewer'
  | 'goto'
  | 'help';

export interface KeyActionInfo {
  id: KeyActionId;
  label: string;
  group: 'Decide' | 'Move' | 'Other';
}

const RELABEL_IDS = [0, 1, 2, 3, 4, 5, 6, 7].map((c) => `relabel-${c}` as KeyActionId);

export const KEY_ACTIONS: readonly KeyActionInfo[] = [
  ...RELABEL_IDS.map((id, c) => ({ id, label: `relabel as class ${c + 1}`, group: 'Decide' as const })),
  { id: 'accept', label: 'accept the suggestion', group: 'Decide' },
  { id: 'keep', label: 'keep the given label', group: 'Decide' },
  { id: 'exclude', label: 'exclude the frame', group: 'Decide' },
  { id: 'skip', label: 'skip: next open flag, label unchanged', group: 'Decide' },
  { id: 'undo', label: 'undo the last decision', group: 'Decide' },
  { id: 'redo', label: 'redo', group: 'Decide' },
  { id: 'next', label: 'next flag (segments: next segment)', group: 'Move' },
  { id: 'prev', label: 'previous flag (segments: previous segment)', group: 'Move' },
  { id: 'down', label: 'one row down (segments: next segment)', group: 'Move' },
  { id: 'up', label: 'one row up (segments: previous segment)', group: 'Move' },
  { id: 'first', label: 'first flag of the filtered queue', group: 'Move' },
  { id: 'last', label: 'last flag of the filtered queue', group: 'Move' },
  { id: 'clear', label: 'clear the selection / close a panel', group: 'Other' },
  { id: 'viewer', label: 'open the image viewer', group: 'Other' },
  { id: 'goto', label: 'go to a frame (video:frame)', group: 'Other' },
  { id: 'help', label: 'show the keys', group: 'Other' },
];

export type KeyMap = Record<KeyActionId, string[]>;

export const DEFAULT_KEYS: Readonly<KeyMap> = Object.freeze({
  ...(Object.fromEntries(RELABEL_IDS.map((id, c) => [id, [String(c + 1)]])) as Record<
    `relabel-${0 | 1 | 2 | 3 | 4 | 5 | 6 | 7}`,
    string[]
  >),
  accept: ['A'],
  keep: ['K'],
  exclude: ['X'],
  skip: ['S'],
  undo: ['Z', 'Ctrl+Z'],
  redo: ['Shift+Z', 'Ctrl+Shift+Z', 'Ctrl+Y'],
  next: ['ArrowRight', 'Space'],
  prev: ['ArrowLeft'],
  down: ['ArrowDown'],
  up: ['ArrowUp'],
  first: ['Home'],
  last: ['End'],
  clear: ['Escape'],
  viewer: ['Enter'],
  goto: ['G'],
  help: ['?'],
});

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  shiftKey?: boolean;
}

const MODIFIER_KEYS = new Set(['Shift', 'Control', 'Alt', 'Meta', 'AltGraph', 'CapsLock', 'OS', 'Dead', 'Unidentified']);

/**
 * The combination an event spells, or null for a bare modifier. Letters are upper case with Shift
 * written out ("Shift+Z"); other printable characters carry their shift already ("?"), so Shift is
 * not added to them; Cmd counts as Ctrl, so one map serves macOS too.
 */
export function comboOf(e: KeyLike): string | null {
  if (!e.key || MODIFIER_KEYS.has(e.key)) return null;
  let key = e.key === ' ' ? 'Space' : e.key;
  const letter = /^[a-z]$/i.test(key);
  if (letter) key = key.toUpperCase();
  const printable = key.length === 1 && !letter;
  const mods: string[] = [];
  if (e.ctrlKey || e.metaKey) mods.push('Ctrl');
  if (e.altKey) mods.push('Alt');
  if (e.shiftKey && !printable) mods.push('Shift');
  return [...mods, key].join('+');
}

/** A combination as typed in settings ("ctrl+shift+z", "shift + a", "space") in the one spelling. */
export function normaliseCombo(text: string): string | null {
  const parts = text
    .split('+')
    .map((p) => p.trim())
    .filter(Boolean);
  // "Ctrl++" means the plus key
  if (text.trim().endsWith('++') || text.trim() === '+') parts.push('+');
  if (!parts.length) return null;
  const key = parts[parts.length - 1];
  const mods = new Set(parts.slice(0, -1).map((m) => m.toLowerCase()));
  const named: Record<string, string> = {
    space: ' ',
    esc: 'Escape',
    escape: 'Escape',
    enter: 'Enter',
    return: 'Enter',
    home: 'Home',
    end: 'End',
    tab: 'Tab',
    left: 'ArrowLeft',
    right: 'ArrowRight',
    up: 'ArrowUp',
    down: 'ArrowDown',
    arrowleft: 'ArrowLeft',
    arrowright: 'ArrowRight',
    arrowup: 'ArrowUp',
    arrowdown: 'ArrowDown',
    pageup: 'PageUp',
    pagedown: 'PageDown',
    backspace: 'Backspace',
    delete: 'Delete',
  };
  const k = named[key.toLowerCase()] ?? key;
  if (k.length > 1 && !Object.values(named).includes(k) && !/^F\d{1,2}$/.test(k)) return null;
  return comboOf({
    key: k,
    ctrlKey: mods.has('ctrl') || mods.has('control') || mods.has('cmd') || mods.has('meta'),
    altKey: mods.has('alt') || mods.has('option'),
    shiftKey: mods.has('shift'),
  });
}

/** The defaults with the stored overrides on top; unknown actions and malformed entries are dropped. */
export function keyMapFrom(overrides: unknown): KeyMap {
  const map = cloneMap(DEFAULT_KEYS);
  if (!overrides || typeof overrides !== 'object') return map;
  for (const [id, combos] of Object.entries(overrides as Record<string, unknown>)) {
    if (!(id in map) || !Array.isArray(combos)) continue;
    map[id as KeyActionId] = combos.filter((c): c is string => typeof c === 'string').map((c) => normaliseCombo(c) ?? c);
  }
  return map;
}

/** Only what differs from the defaults, for storage. */
export function overridesOf(map: KeyMap): Partial<KeyMap> {
  const out: Partial<KeyMap> = {};
  for (const id of Object.keys(DEFAULT_KEYS) as KeyActionId[]) {
    if (map[id].join('\n') !== DEFAULT_KEYS[id].join('\n')) out[id] = [...map[id]];
  }
  return out;
}

/** A copy of the map with `action` bound to `combos` (normalised; invalid ones throw). */
export function remap(map: KeyMap, action: KeyActionId, combos: string[]): KeyMap {
  const clean: string[] = [];
  for (const c of combos) {
    const n = normaliseCombo(c);
    if (!n) throw new Error(`"${c}" is not a key combination`);
    if (!clean.includes(n)) clean.push(n);
  }
  return { ...cloneMap(map), [action]: clean };
}

export function resetKeys(): KeyMap {
  return cloneMap(DEFAULT_KEYS);
}

export interface KeyConflict {
  combo: string;
  actions: KeyActionId[];
}

/** Combinations bound to more than one action. */
export function conflicts(map: KeyMap): KeyConflict[] {
  const by = new Map<string, KeyActionId[]>();
  for (const id of Object.keys(map) as KeyActionId[]) {
    for (const c of map[id]) by.set(c, [...(by.get(c) ?? []), id]);
  }
  return [...by.entries()].filter(([, a]) => a.length > 1).map(([combo, actions]) => ({ combo, actions }));
}

/** The action a combination runs (the first in KEY_ACTIONS order when a conflict is left standing). */
export function actionFor(map: KeyMap, combo: string | null): KeyActionId | null {
  if (!combo) return null;
  for (const a of KEY_ACTIONS) if (map[a.id]?.includes(combo)) return a.id;
  return null;
}

/** How a combination reads in the help ("Ctrl+Shift+Z", "←", "Space"). */
export function comboLabel(combo: string): string {
  const arrows: Record<string, string> = { ArrowLeft: '←', ArrowRight: '→', ArrowUp: '↑', ArrowDown: '↓', Escape: 'Esc' };
  return combo
    .split('+')
    .map((p, i, all) => (i === all.length - 1 ? (arrows[p] ?? p) : p))
    .join('+')
    .replace(/\+\+$/, '++');
}

export const KEYS_STORAGE = 'concord.review.keys';

export function loadKeyMap(storage: Pick<Storage, 'getItem'> | null | undefined): KeyMap {
  try {
    const raw = storage?.getItem(KEYS_STORAGE);
    return keyMapFrom(raw ? JSON.parse(raw) : null);
  } catch {
    return resetKeys();
  }
}

export function saveKeyMap(storage: Pick<Storage, 'setItem' | 'removeItem'> | null | undefined, map: KeyMap): void {
  const o = overridesOf(map);
  try {
    if (Object.keys(o).length) storage?.setItem(KEYS_STORAGE, JSON.stringify(o));
    else storage?.removeItem(KEYS_STORAGE);
  } catch {
    // storage full or disabled: the map still applies for this session
  }
}

function cloneMap(m: Readonly<KeyMap>): KeyMap {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, [...v]])) as KeyMap;
}
