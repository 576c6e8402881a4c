// The Review queue's filters as removable chips, and saved views (a named filter set in
// localStorage), pure. The filtering itself happens in the core's SQL, never here.
import type { ReviewFilter } from './stores/review';

export type FilterKey = keyof ReviewFilter;
export type DecidedAction = 'relabel' | 'accept' | 'keep' | 'exclude';
export const DECIDED_ACTIONS: readonly DecidedAction[] = ['relabel', 'accept', 'keep', 'exclude'];

export interface Chip {
  key: FilterKey;
  text: string;
}

const RULES: Record<string, string> = {
  'all-agree': 'all networks agree',
  'confident-learning': 'confident learning',
  'score-threshold': 'score threshold',
};

/** One chip per active filter (the default "open flags" status is no chip). */
export function chipsOf(f: ReviewFilter, className: (c: number) => string): Chip[] {
  const out: Chip[] = [];
  if (f.split !== undefined) out.push({ key: 'split', text: `split: ${f.split}` });
  if (f.video !== undefined) out.push({ key: 'video', text: `video: ${f.video}` });
  if (f.given !== undefined) out.push({ key: 'given', text: `given: ${className(f.given)}` });
  if (f.suggested !== undefined) out.push({ key: 'suggested', text: `suggested: ${className(f.suggested)}` });
  if (f.minScore !== undefined || f.maxScore !== undefined) {
    const lo = f.minScore !== undefined ? f.minScore.toFixed(2) : '0';
    const hi = f.maxScore !== undefined ? f.maxScore.toFixed(2) : '1';
    out.push({ key: 'minScore', text: `score ${lo}–${hi}` });
  }
  if (f.rule !== undefined) out.push({ key: 'rule', text: `rule: ${RULES[f.rule] ?? f.rule}` });
  if (f.status && f.status !== 'open') out.push({ key: 'status', text: f.status === 'all' ? 'open and decided' : 'decided' });
  if (f.actions?.length) out.push({ key: 'actions', text: `action: ${f.actions.join(', ')}` });
  if (f.allAgree !== undefined) out.push({ key: 'allAgree', text: f.allAgree ? 'all networks agree' : 'networks disagree' });
  return out;
}

/** The filter without a chip's fields (the score chip holds both bounds; status takes its actions along). */
export function withoutChip(f: ReviewFilter, key: FilterKey): ReviewFilter {
  const next: ReviewFilter = { ...f };
  delete next[key];
  if (key === 'minScore') delete next.maxScore;
  if (key === 'status') {
    next.status = 'open';
    delete next.actions;
  }
  return next;
}

export interface SavedView {
  name: string;
  filter: ReviewFilter;
}

export const VIEWS_STORAGE = 'concord.review.views';

export function loadViews(storage: Pick<Storage, 'getItem'> | null | undefined): SavedView[] {
  try {
    const raw = JSON.parse(storage?.getItem(VIEWS_STORAGE) ?? '[]') as unknown;
    if (!Array.isArray(raw)) return [];
    return raw.filter(
      (v): v is SavedView => !!v && typeof v.name === 'string' && !!v.filter && typeof v.filter === 'object' && !Array.isArray(v.filter),
    );
  } catch {
    return [];
  }
}

/** The views with `name` saved (a view of the same name is replaced), sorted by name. */
export function withView(views: SavedView[], name: string, filter: ReviewFilter): SavedView[] {
  const n = name.trim();
  if (!n) return views;
  return [...views.filter((v) => v.name !== n), { name: n, filter: { ...filter } }].sort((a, b) => a.name.localeCompare(b.name));
}

export function saveViews(storage: Pick<Storage, 'setItem'> | null | undefined, views: SavedView[]): void {
  try {
    storage?.setItem(VIEWS_STORAGE, JSON.stringify(views));
  } catch {
    // storage full or disabled: the views last for this session
  }
}

/** Whether two filters ask for the same queue (the saved view that is active). */
export function sameFilter(a: ReviewFilter, b: ReviewFilter): boolean {
  const norm = (f: ReviewFilter) =>
    JSON.stringify(
      Object.entries({ status: 'open', ...f })
        .filter(([, v]) => v !== undefined)
        .sort(([x], [y]) => x.localeCompare(y)),
    );
  return norm(a) === norm(b);
}
