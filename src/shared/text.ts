// Text that came from a file (labels, video names, paths) made safe to print on a terminal: control
// characters become visible escapes, so an annotation line like ESC ]0;pwned BEL cannot retitle the
// window, clear the screen or fake output. Ordinary Unicode (é, ü, CJK, emoji) passes through.

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
