// `concord eval`: score ABAW-format prediction files against annotation files (no project, no core).
import { ABAW8 } from '../../shared/labels';
import { evaluateFiles } from '../../trainer/eval-files';
import { int, parse, UsageError } from './args';
import type { Io } from './io';
import { fmt, guarded } from './train-output';

export async function evalCommand(args: string[], io: Io): Promise<number> {
  return guarded(io, async () => {
    const { values } = parse(
      args,
      { pred: { type: 'string' }, gt: { type: 'string' }, classes: { type: 'string' } },
      { positionals: false },
    );
    if (!values.pred || !values.gt) throw new UsageError('--pred DIR and --gt DIR are required');
    const classes = int(values, 'classes');
    if (classes !== undefined && classes !== 7 && classes !== 8) throw new UsageError('--classes must be 7 or 8');
    let r;
    try {
      r = evaluateFiles({ predDir: values.pred as string, gtDir: values.gt as string, classes: classes as 7 | 8 | undefined });
    } catch (e) {
      io.err(`concord: ${(e as Error).message}`);
      return 1;
    }
    if (values.json) {
      io.out(JSON.stringify(r));
      return 0;
    }
    const names = ABAW8.slice(0, r.classes);
    io.out(`${r.files} videos, ${r.frames} frames scored (${r.skippedUnannotated} unannotated skipped), ${r.classes} classes`);
    io.out(`accuracy ${fmt(r.accuracy, 4)}  macro F1 ${fmt(r.macroF1, 4)}  overall ${fmt(r.overall, 4)} (0.67 F1 + 0.33 acc)`);
    io.out(`per-class F1: ${names.map((n, i) => `${n} ${fmt(r.perClassF1[i])}`).join('  ')}`);
    io.out('confusion (rows true, columns predicted):');
    const w = Math.max(6, ...r.confusion.flat().map((x) => String(x).length + 1));
    io.out(`${''.padStart(10)}${names.map((n) => n.slice(0, w - 1).padStart(w)).join('')}`);
    r.confusion.forEach((row, i) => io.out(`${names[i].slice(0, 9).padEnd(10)}${row.map((x) => String(x).padStart(w)).join('')}`));
    if (r.unmatchedPredictions.length)
      io.err(
        `warning: ${r.unmatchedPredictions.length} prediction files have no annotation file (${r.unmatchedPredictions.slice(0, 5).join(', ')})`,
      );
    return 0;
  });
}
