// Text that came from a file (labels, video names, paths) made safe to print on a terminal: control
// characters become visible escapes, so an annotation line like ESC ]0;pwned BEL cannot retitle the
// window, clear the screen or fake output. Ordinary Unicode (é, ü, CJK, emoji) passes through.
// Also the did-you-mean of a mistyped command, option or project folder (closest).

/**
 * C0 controls (but tab and newline), DEL, C1 controls (0x9b is a one-byte CSI on some terminals),
 * the bidirectional overrides and isolates ("Trojan Source") and the line/paragraph separators.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `s` with every unprintable character written as `\uXXXX`. That form is also a valid JSON string
 * escape, so a JSON line passed through here still parses to the same value.
 * Tabs and newlines are kept unless `keepLines` is false (a one-line field such as a label).
 */
export function printable(s: string, opts: { keepLines?: boolean } = {}): string {
  const escaped = s.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return opts.keepLines === false ? escaped.replace(/[\t\n]/g, (c) => (c === '\t' ? '\\t' : '\\n')) : escaped;
}

/** Edit distance (insertions, deletions, substitutions) between two short words. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The candidate a mistyped word most likely meant (other case, or 1-2 edits and fewer than half its letters), or null. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== null && best !== word && bestD <= 2 && bestD < Math.max(2, word.length / 2) ? best : null;
}
