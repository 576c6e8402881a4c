// `concord flags | decide | undo | redo | export`: the review core from the command line.
import { resolve } from 'node:path';
import { parse, projectArg, type Options } from './args';
import type { Io } from './io';
import { openDb } from '../../store/db';
import { queuePage } from '../../store/flags';
import { RECOMMENDED_SMOOTHING, scoreRun, ScoringError } from '../core/review/flags';
import { decide, DecisionError, frameRef, parseActionArg, redo, undo } from '../core/review/decisions';
import { exportProject, type ExportFormat } from '../core/export/export';
import { ExportError } from '../core/export/atomic';
import { FlagRule } from '../../shared/api';
import { labelName } from '../../shared/labels';

function args(argv: string[], options: Options) {
  const { positionals, values } = parse(argv, options);
  return { project: projectArg(positionals), values: values as Record<string, string | boolean | undefined> };
}

/** Known errors of the review core print as one clear line. */
async function guarded(io: Io, fn: () => Promise<number> | number): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ScoringError || e instanceof DecisionError || e instanceof ExportError) {
      io.err(`concord: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

export async function flagsCommand(argv: string[], io: Io): Promise<number> {
  const { project, values } = args(argv, {
    rule: { type: 'string' },
    top: { type: 'string' },
    run: { type: 'string' },
    threshold: { type: 'string' },
    smooth: { type: 'string' },
    'no-score': { type: 'boolean' },
  });
  return guarded(io, () => {
    const db = openDb(project);
    try {
      const rule = FlagRule.parse(values.rule ?? 'all-agree');
      const result = values['no-score']
        ? null
        : scoreRun(db, {
            rule,
            runId: values.run ? Number(values.run) : undefined,
            threshold: values.threshold ? Number(values.threshold) : undefined,
            smooth: values.smooth !== undefined ? Number(values.smooth) : RECOMMENDED_SMOOTHING,
            projectDir: project,
          });
      const top = Number(values.top ?? 20);
      const page = queuePage(db, { filter: { status: 'open' }, limit: Math.max(1, Math.min(top, 1000)) });
      if (values.json) {
        io.out(JSON.stringify({ result, flags: page.items.map(({ details: _d, ...rest }) => rest) }));
        return 0;
      }
      if (result)
        io.out(`run ${result.runId}: scored ${result.scored} labelled frames, flagged ${result.flagged} with rule ${result.rule}`);
      for (const f of page.items) {
        io.out(
          `${f.score.toFixed(3)}  ${f.video}:${f.idx}  ${labelName(f.given)} -> ${labelName(f.suggested)}${f.allAgree ? '  (all nets agree)' : ''}`,
        );
      }
      return 0;
    } finally {
      db.close();
    }
  });
}

export async function decideCommand(argv: string[], io: Io): Promise<number> {
  const { project, values } = args(argv, { frame: { type: 'string' }, action: { type: 'string' } });
  return guarded(io, () => {
    if (typeof values.frame !== 'string' || typeof values.action !== 'string')
      throw new DecisionError('--frame VIDEO:FRAME and --action are required');
    const db = openDb(project);
    try {
      const frameId = frameRef(db, values.frame);
      const { action, label } = parseActionArg(values.action);
      const r = decide(db, { frameIds: [frameId], action, label, actor: 'cli' });
      const c = r.changes[0];
      if (values.json) io.out(JSON.stringify(r));
      else io.out(`${values.frame}: ${action}${c ? ` (${labelName(c.before)} -> ${labelName(c.after)})` : ''}`);
      return 0;
    } finally {
      db.close();
    }
  });
}

function revertCommand(kind: 'undo' | 'redo') {
  return async (argv: string[], io: Io): Promise<number> => {
    const { project, values } = args(argv, {});
    const db = openDb(project);
    try {
      const r = kind === 'undo' ? undo(db, { actor: 'cli' }) : redo(db, { actor: 'cli' });
      if (values.json) io.out(JSON.stringify(r));
      else io.out(r ? `${kind}: ${r.action} on ${r.changes.length} frame(s)` : `nothing to ${kind}`);
      return 0;
    } finally {
      db.close();
    }
  };
}

export const undoCommand = revertCommand('undo');
export const redoCommand = revertCommand('redo');

export async function exportCommand(argv: string[], io: Io): Promise<number> {
  const { project, values } = args(argv, { format: { type: 'string' }, out: { type: 'string' } });
  return guarded(io, () => {
    const format = (values.format ?? 'abaw') as ExportFormat;
    if (!['abaw', 'csv', 'report'].includes(format)) throw new ExportError(`--format must be abaw, csv or report, not "${format}"`);
    if (typeof values.out !== 'string') throw new ExportError('--out DIR is required');
    const db = openDb(project);
    try {
      const r = exportProject(db, { format, outDir: resolve(values.out) });
      if (values.json) io.out(JSON.stringify(r));
      else io.out(`wrote ${r.files.length} file(s) to ${r.outDir}: ${JSON.stringify(r.summary)}`);
      return 0;
    } finally {
      db.close();
    }
  });
}
