// `concord flags | decide | undo | redo | export`: thin transports over the core's review requests
// (flags.score and export.run run as jobs with a progress bar and Ctrl-C -> jobs.cancel; the
// `detail` replies carry what these commands have always printed).
import { resolve } from 'node:path';
import { parse, projectArg, type Options } from './args';
import type { Io } from './io';
import { RECOMMENDED_SMOOTHING, ScoringError } from '../core/review/flags';
import { DecisionError, parseActionArg } from '../core/review/decisions';
import type { ExportFormat } from '../core/export/export';
import { ExportError } from '../core/export/atomic';
import { FlagRule, type ExportResult, type QueueItem, type ScoreSummary } from '../../shared/api';
import { openCore, runCoreJob } from './core-job';
import { labelName } from '../../shared/labels';

const CANCELLING = '\ncancelling… (Ctrl-C again to kill)';

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
  return guarded(io, async () => {
    const core = await openCore(project, { projectLabel: project });
    try {
      const rule = FlagRule.parse(values.rule ?? 'all-agree');
      const json = Boolean(values.json);
      const result = values['no-score']
        ? null
        : await runCoreJob<ScoreSummary>(core, () => core.request('flags.score', { ...scoreOptions(values, rule), detail: true }), {
            io,
            json,
            cancelling: CANCELLING,
          });
      const top = Number(values.top ?? 20);
      const limit = Number.isFinite(top) ? Math.max(1, Math.min(Math.floor(top), 1000)) : 20;
      const page = await core.request('review.queue', { filter: { status: 'open' }, limit, detail: true });
      if (json) {
        io.out(JSON.stringify({ result, flags: page.items.map(queueRowOf) }));
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
      await core.close();
    }
  });
}

/** flags.score's payload from the options; what the contract's schema would refuse fails as the scoring did. */
function scoreOptions(values: Record<string, string | boolean | undefined>, rule: FlagRule) {
  const runId = values.run ? Number(values.run) : undefined;
  const threshold = values.threshold ? Number(values.threshold) : undefined;
  const smooth = values.smooth !== undefined ? Number(values.smooth) : RECOMMENDED_SMOOTHING;
  if (runId !== undefined && !Number.isInteger(runId)) throw new ScoringError(`run ${runId} does not exist`);
  if (threshold !== undefined && !Number.isFinite(threshold)) throw new ScoringError(`threshold ${threshold} is outside [0, 1]`);
  if (!(Number.isInteger(smooth) && smooth >= 0 && smooth <= 100))
    throw new ScoringError(`smoothing ${smooth} is not a whole number of frames in [0, 100]`);
  return { rule, runId, threshold, smooth };
}

/** A queue item as `flags --json` has always printed it (the store's row, less its details). */
function queueRowOf(f: QueueItem) {
  return {
    flagId: f.flagId,
    frameId: f.frameId,
    runId: f.runId,
    videoId: f.videoId,
    video: f.video,
    split: f.split,
    idx: f.idx,
    rule: f.rule,
    given: f.given,
    suggested: f.suggested,
    current: f.current,
    original: f.original,
    score: f.score,
    allAgree: f.allAgree,
    status: f.status,
    imagePath: f.imagePath,
  };
}

export async function decideCommand(argv: string[], io: Io): Promise<number> {
  const { project, values } = args(argv, { frame: { type: 'string' }, action: { type: 'string' } });
  return guarded(io, async () => {
    if (typeof values.frame !== 'string' || typeof values.action !== 'string')
      throw new DecisionError('--frame VIDEO:FRAME and --action are required');
    const core = await openCore(project, { actor: 'cli' });
    try {
      const { frameId } = await core.request('review.frameId', { ref: values.frame });
      const { action, label } = parseActionArg(values.action);
      const r = await core.request('review.decide', { frameIds: [frameId], action, label, detail: true });
      const changes = r.changes ?? [];
      const c = changes[0];
      if (values.json) io.out(JSON.stringify({ groupId: r.groupId, action: r.action ?? action, changes }));
      else io.out(`${values.frame}: ${action}${c ? ` (${labelName(c.before)} -> ${labelName(c.after)})` : ''}`);
      return 0;
    } finally {
      await core.close();
    }
  });
}

function revertCommand(kind: 'undo' | 'redo') {
  return async (argv: string[], io: Io): Promise<number> => {
    const { project, values } = args(argv, {});
    const core = await openCore(project, { actor: 'cli' });
    try {
      const reply = await core.request(kind === 'undo' ? 'review.undo' : 'review.redo', { detail: true });
      // the reverted group, or null when there was nothing to revert (as the review core answers)
      const r =
        reply.groupId !== undefined && reply.action ? { groupId: reply.groupId, action: reply.action, changes: reply.changes ?? [] } : null;
      if (values.json) io.out(JSON.stringify(r));
      else io.out(r ? `${kind}: ${r.action} on ${r.changes.length} frame(s)` : `nothing to ${kind}`);
      return 0;
    } finally {
      await core.close();
    }
  };
}

export const undoCommand = revertCommand('undo');
export const redoCommand = revertCommand('redo');

export async function exportCommand(argv: string[], io: Io): Promise<number> {
  const { project, values } = args(argv, { format: { type: 'string' }, out: { type: 'string' } });
  return guarded(io, async () => {
    const format = (values.format ?? 'abaw') as ExportFormat;
    if (!['abaw', 'csv', 'report'].includes(format)) throw new ExportError(`--format must be abaw, csv or report, not "${format}"`);
    if (typeof values.out !== 'string') throw new ExportError('--out DIR is required');
    const outDir = resolve(values.out);
    const core = await openCore(project);
    try {
      const r = await runCoreJob<ExportResult>(core, () => core.request('export.run', { format, outDir }), {
        io,
        json: Boolean(values.json),
        cancelling: CANCELLING,
      });
      const files = r.paths;
      if (values.json)
        io.out(JSON.stringify({ format: r.format, outDir: r.outDir ?? outDir, files, summary: r.summary, exportId: r.exportId }));
      else io.out(`wrote ${files.length} file(s) to ${r.outDir ?? outDir}: ${JSON.stringify(r.summary)}`);
      return 0;
    } finally {
      await core.close();
    }
  });
}
