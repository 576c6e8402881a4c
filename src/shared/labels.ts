// Expression label sets and the maps between them. Pure data: no node, electron or DOM imports.
// ABAW order is what files on disk use; every importer maps into it. Tables are read through
// ownLabel only: a name from a file ("constructor", "__proto__") must never reach Object.prototype.

export const ABAW7 = ['Neutral', 'Anger', 'Disgust', 'Fear', 'Happiness', 'Sadness', 'Surprise'] as const;
export const ABAW8 = [...ABAW7, 'Other'] as const;

export type LabelSetId = 'abaw7' | 'abaw8';

export const LABEL_SETS: Record<LabelSetId, readonly string[]> = {
  abaw7: ABAW7,
  abaw8: ABAW8,
};

/** The label of a frame that is not annotated for expression. */
export const UNLABELLED = -1;

export const ABAW7_HEADER = ABAW7.join(',');
export const ABAW8_HEADER = ABAW8.join(',');

/** Which label set an ABAW annotation header declares, or null if it is not one. */
export function labelSetFromHeader(header: string): LabelSetId | null {
  const h = header
    .replace(/^\uFEFF/, '')
    .trim()
    .replace(/\s+/g, '');
  if (h.toLowerCase() === ABAW7_HEADER.toLowerCase()) return 'abaw7';
  if (h.toLowerCase() === ABAW8_HEADER.toLowerCase()) return 'abaw8';
  return null;
}

/** table[key] when key is the table's own entry, else undefined (never an inherited property). */
export function ownLabel<V>(table: Readonly<Record<string | number, V>>, key: string | number): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function classCount(set: LabelSetId): number {
  return LABEL_SETS[set].length;
}

export function labelName(label: number, set: LabelSetId = 'abaw8'): string {
  if (label === UNLABELLED) return 'unlabelled';
  const names = ownLabel(LABEL_SETS, set) ?? ABAW8;
  return (Number.isInteger(label) && label >= 0 ? names[label] : undefined) ?? `class ${label}`;
}

/**
 * RAF-DB basic-expression list files use 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness,
 * 6 Anger, 7 Neutral. Index by the RAF label (1-based); value is the ABAW-7 class.
 */
export const RAFDB_TO_ABAW: Record<number, number> = {
  1: 6, // Surprise
  2: 3, // Fear
  3: 2, // Disgust
  4: 4, // Happiness
  5: 5, // Sadness
  6: 1, // Anger
  7: 0, // Neutral
};

/**
 * AffectNet expression ids: 0 Neutral, 1 Happy, 2 Sad, 3 Surprise, 4 Fear, 5 Disgust, 6 Anger,
 * 7 Contempt (dropped, as in the paper), 8 None, 9 Uncertain, 10 No-Face (all dropped).
 * Value null means "not imported".
 */
export const AFFECTNET_TO_ABAW: Record<number, number | null> = {
  0: 0,
  1: 4,
  2: 5,
  3: 6,
  4: 3,
  5: 2,
  6: 1,
  7: null,
  8: null,
  9: null,
  10: null,
};

/**
 * The authors' code remaps ABAW labels to AffectNet order internally (0→0, 1→6, 2→5, 3→4, 4→1,
 * 5→2, 6→3). Kept for reference and for importing checkpoints trained that way.
 */
export const ABAW_TO_AFFECTNET_ORDER = [0, 6, 5, 4, 1, 2, 3] as const;

/** Names people use in generic CSVs, mapped to ABAW-7 (lower-case keys). */
export const NAME_TO_ABAW: Record<string, number> = {
  neutral: 0,
  anger: 1,
  angry: 1,
  disgust: 2,
  disgusted: 2,
  fear: 3,
  fearful: 3,
  afraid: 3,
  happiness: 4,
  happy: 4,
  joy: 4,
  sadness: 5,
  sad: 5,
  surprise: 6,
  surprised: 6,
  other: 7,
};

/** Map a class name (any common spelling) to ABAW, or null when unknown. */
export function abawFromName(name: string): number | null {
  return ownLabel(NAME_TO_ABAW, name.trim().toLowerCase()) ?? null;
}
