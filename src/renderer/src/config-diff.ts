// Run comparison: the config keys whose values differ between runs, nested keys flattened
// (`split.valFraction`), values written for people rather than as JSON.

/** `{ split: { val: 3 } }` → `{ 'split.val': 3 }`; arrays and scalars are leaves. */
export function flattenConfig(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length && prefix) out[prefix] = {};
    for (const [k, v] of entries) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = value;
  return out;
}

/** A config value in a table cell: '—' for absent, lists comma-separated, numbers as they are. */
export function showValue(v: unknown): string {
  if (v === undefined) return '—';
  if (v === null) return 'none';
  if (Array.isArray(v))
    return v.length ? v.map((x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x))).join(', ') : '(empty)';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export interface ConfigDiffRow {
  key: string;
  /** one per config, in the order given */
  values: string[];
}

/** The flattened keys whose shown values are not all the same, sorted by key. */
export function configDiff(configs: readonly Record<string, unknown>[]): ConfigDiffRow[] {
  const flat = configs.map((c) => flattenConfig(c));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const rows: ConfigDiffRow[] = [];
  for (const key of keys) {
    const values = flat.map((f) => showValue(f[key]));
    if (values.some((v) => v !== values[0])) rows.push({ key, values });
  }
  return rows;
}
