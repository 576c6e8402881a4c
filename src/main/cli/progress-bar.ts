// A one-line progress bar on stderr (TTY), or a line every few seconds otherwise; silent with --json.
// The bar itself draws with \r and ESC[K; the item it names (a video or file name) is escaped.
import type { Progress } from '../../shared/api';
import { printable } from '../../shared/text';

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function renderBar(p: Progress, width = 28): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const fill = Math.round(frac * width);
  const rate = p.rate >= 100 ? p.rate.toFixed(0) : p.rate.toFixed(1);
  return `${p.phase} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${p.done}/${p.total} ${rate}/s ETA ${formatEta(p.etaSeconds)}${p.item ? ` ${printable(p.item, { keepLines: false })}` : ''}`;
}

export function progressPrinter(opts: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): ((p: Progress) => void) & { end(): void } {
  const stream = opts.stream ?? process.stderr;
  let last = 0;
  let lastKey = '';
  let drawn = false;
  const fn = ((p: Progress) => {
    if (opts.quiet) return;
    if (stream.isTTY) {
      const line = renderBar(p).slice(0, (stream.columns ?? 100) - 1);
      stream.write(`\r${line}\x1b[K`);
      drawn = true;
    } else {
      const now = Date.now();
      const key = `${p.phase}:${p.done === p.total}`;
      if (now - last > 5000 || key !== lastKey) {
        last = now;
        lastKey = key;
        stream.write(renderBar(p) + '\n');
      }
    }
  }) as ((p: Progress) => void) & { end(): void };
  fn.end = () => {
    if (drawn) stream.write('\n');
    drawn = false;
  };
  return fn;
}
