// `concord demo-data`: a synthetic ABAW-style dataset with known label noise (no core request:
// it writes files outside any project).
import { resolve } from 'node:path';
import { ProgressTracker } from '../../shared/progress';
import { parse, UsageError } from './args';
import { interruptSignal } from './interrupt';
import type { Io } from './io';
import { progressPrinter } from './progress-bar';

export async function demoDataCommand(args: string[], io: Io): Promise<number> {
  const { positionals, values } = parse(args, {
    videos: { type: 'string' },
    frames: { type: 'string' },
    noise: { type: 'string' },
    'noise-kind': { type: 'string' },
    seed: { type: 'string' },
    size: { type: 'string' },
    'no-video': { type: 'boolean' },
    overwrite: { type: 'boolean' },
  });
  const out = positionals[0];
  if (!out) throw new UsageError('an output folder is required');
  const num = (k: string) => (values[k] === undefined ? undefined : Number(values[k]));
  const kind = values['noise-kind'] as string | undefined;
  if (kind && !['symmetric', 'pairflip', 'segment'].includes(kind))
    throw new UsageError('--noise-kind must be symmetric, pairflip or segment');
  const { generateDemoData } = await import('../core/demo/generate');
  const bar = progressPrinter({ quiet: Boolean(values.json) });
  const intr = interruptSignal();
  // the generator reports counts only; one tracker per phase adds rate and ETA
  const trackers = new Map<string, ProgressTracker>();
  const report = (p: { phase: string; done: number; total: number }): void => {
    let t = trackers.get(p.phase);
    if (!t) trackers.set(p.phase, (t = new ProgressTracker(p.phase, p.total)));
    t.done = p.done;
    bar(t.snapshot());
  };
  try {
    const summary = await generateDemoData({
      outDir: resolve(out),
      videos: num('videos'),
      frames: num('frames'),
      noise: num('noise'),
      noiseKind: kind as 'symmetric' | undefined,
      seed: num('seed'),
      size: num('size'),
      encodeVideos: !values['no-video'],
      overwrite: Boolean(values.overwrite),
      signal: intr.signal,
      onProgress: report,
    });
    bar.end();
    if (values.json) io.out(JSON.stringify(summary));
    else {
      io.out(`demo dataset written to ${resolve(out)}`);
      io.out(
        `next: concord init p && concord import abaw p --annotations "${resolve(out, 'annotations')}" --frames "${resolve(out, 'cropped_aligned')}"`,
      );
    }
    return 0;
  } finally {
    intr.dispose();
  }
}
