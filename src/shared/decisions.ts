// The label rule of a review decision, one copy for the core (which records it) and the renderer
// (which shows it before the core confirms). Pure: no node, electron or DOM imports.
import type { ReviewAction } from './api';
import { UNLABELLED } from './labels';

/** What a frame's label is made of when a decision is taken on it (see the glossary in ./api.ts). */
export interface LabelState {
  original: number;
  current: number;
  /** The open flag's suggestion; null when the frame has no flag. */
  suggested: number | null;
}

/**
 * The current label a decision leaves:
 *   accept   the flag's suggestion (the caller checks there is a flag)
 *   relabel  `label` (the caller checks it is in range)
 *   keep     the original label (the reviewer says the file was right)
 *   exclude  UNLABELLED, left out of training and metrics
 *   skip     unchanged; the flag stays open
 */
export function labelAfter(action: ReviewAction, state: LabelState, label?: number): number {
  switch (action) {
    case 'accept':
      return state.suggested ?? state.current;
    case 'relabel':
      return label ?? state.current;
    case 'keep':
      return state.original;
    case 'exclude':
      return UNLABELLED;
    case 'skip':
      return state.current;
  }
}
