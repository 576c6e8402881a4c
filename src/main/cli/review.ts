// `concord flags | decide | decisions | undo | redo | export`: thin transports over the core's review requests
// (flags.score and export.run run as jobs with a progress bar and Ctrl-C -> jobs.cancel; the
// `detail` replies carry what these commands have always printed).
import { resolve } from 'node:path';
import { oneOf, parse, projectArg, UsageError, type Options } from './args';
import type { Io } from './io';
import { RECOMMENDED_SMOOTHING, ScoringError } from '../core/review/flags';
import { DecisionError, parseActionArg } from '../core/review/decisions';
import type { ExportFormat } from '../core/export/export';
import { ExportError } from '../core/export/atomic';
import { CONFLICT_CHOICES } from '../core/export/conflict';
import { ConflictError } from '../../shared/errors';
import { DEFAULT_FLAG_RULE, FlagRule, type ExportResult, type QueueItem, type ScoreSummary } from '../../shared/api';
import { openCore, runCoreJob } from './core-job';
import { labelName } from '../../shared/labels';

const CANCELLING = '\ncancelling… (Ctrl-C again to kill)';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

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

/**
 * `concord flags P`: the stored flags, best first. It scores first only with --rescore, when a
 * scoring option (--rule, --run, --threshold, --smooth) asks for a new pass, or when the project
 * has never been scored; --no-score never scores. A run that learned nothing is said first.
 */
export async function flagsCommand(argv: string[], io: Io): Promise<number> {
  const { project, values } = args(argv, {
    rule: { type: 'string' },
    top: { type: 'string' },
    run: { type: 'string' },
    threshold: { type: 'string' },
    smooth: { type: 'string' },
    rescore: { type: 'boolean' },
    'no-score': { type: 'boolean' },
  });
  const rule =
    oneOf(str(values.rule), FlagRule.options, `--rule must be one of ${FlagRule.options.join(', ')}, not "${String(values.rule)}"`) ??
    DEFAULT_FLAG_RULE;
  const top = values.top === undefined ? 20 : Number(values.top);
  if (!Number.isInteger(top) || top < 1)
    throw new UsageError(`--top must be a whole number of flags, 1 or more, not "${String(values.top)}"`);
  const asked = ['rule', 'run', 'threshold', 'smooth'].some((k) => values[k] !== undefined);
  if (values['no-score'] && (values.rescore || asked))
    throw new UsageError('--no-score cannot be combined with --rescore or scoring options');
  return guarded(io, async () => {
    const core = await openCore(project, { projectLabel: project });
    try {
      const json = Boolean(values.json);
      const before = await core.request('review.counts', {});
      const rescore = !values['no-score'] && (Boolean(values.rescore) || asked || before.run === null);
      const result = rescore
        ? await runCoreJob<ScoreSummary>(core, () => core.request('flags.score', { ...scoreOptions(values, rule), detail: true }), {
            io,
            json,
            cancelling: CANCELLING,
          })
        : null;
      const counts = result ? await core.request('review.counts', {}) : before;
      const degenerate = result ? result.degenerate : (counts.run?.degenerate ?? null);
      const runId = result?.runId ?? counts.run?.id ?? null;
      if (degenerate && !json)
        io.err(
          `warning: run ${runId} learned nothing usable, so these flags are no better than chance: ${degenerate.reason}. Try: ${degenerate.advice}.`,
        );
      const flags = await openFlags(core, top);
      if (json) {
        io.out(
          JSON.stringify({
            result,
            runId,
            degenerate,
            source: counts.run?.source ?? null,
            newerPredictions: counts.newerPredictions,
            open: counts.open,
            flags: flags.map(queueRowOf),
          }),
        );
        return 0;
      }
      if (result)
        io.out(`run ${result.runId}: scored ${result.scored} labelled frames, flagged ${result.flagged} with rule ${result.rule}`);
      else if (counts.run)
        io.out(`stored flags of run ${counts.run.id}: ${counts.open} open, ${counts.decided} decided (--rescore to score again)`);
      if (!result && counts.newerPredictions !== null)
        io.err(`note: run ${counts.newerPredictions} has newer predictions than these flags; --rescore scores them`);
      if (counts.run) {
        io.out(`predictions: ${counts.run.source.text}`);
        if (counts.run.source.outOfSample !== 'all' && (await core.request('flags.plan', {})).available)
          io.out(
            `  for out-of-sample flags on every frame: concord infer ${project} --out-of-sample, then concord flags ${project} --rescore`,
          );
      }
      for (const f of flags) {
        io.out(
          `${f.score.toFixed(3)}  ${f.video}:${f.idx}  ${labelName(f.given)} -> ${labelName(f.suggested)}${f.allAgree ? '  (all nets agree)' : ''}`,
        );
      }
      if (flags.length < counts.open) io.out(`… ${counts.open - flags.length} more open flags (--top N to see more)`);
      return 0;
    } finally {
      await core.close();
    }
  });
}

/** The best `top` open flags, read a page of at most 1,000 at a time. */
async function openFlags(core: Awaited<ReturnType<typeof openCore>>, top: number): Promise<QueueItem[]> {
  const out: QueueItem[] = [];
  let after: { score: number; id: number } | undefined;
  while (out.length < top) {
    const page = await core.request('review.queue', {
      filter: { status: 'open' },
      limit: Math.min(1000, top - out.length),
      detail: true,
      ...(after ? { after } : {}),
    });
    out.push(...page.items);
    if (!page.next || !page.items.length) break;
    after = page.next;
  }
  return out;
}

/** `concord decisions P`: each decided frame once, with the action that stands and its labels, newest first. */
export async function decisionsCommand(argv: string[], io: Io): Promise<number> {
  const { project, values } = args(argv, { top: { type: 'string' } });
  const top = values.top === undefined ? Number.POSITIVE_INFINITY : Number(values.top);
  if (values.top !== undefined && (!Number.isInteger(top) || top < 1))
    throw new UsageError(`--top must be a whole number of decisions, 1 or more, not "${String(values.top)}"`);
  const core = await openCore(project);
  try {
    let before: number | undefined;
    let shown = 0;
    let total = 0;
    for (;;) {
      const page = await core.request('review.decisions', { limit: Math.min(1000, top - shown), ...(before ? { before } : {}) });
      total = page.total;
      for (const d of page.items) {
        if (values.json) io.out(JSON.stringify(d));
        else
          io.out(
            `${d.video}:${d.idx}  ${d.action.padEnd(7)}  ${labelName(d.original)} -> ${d.action === 'exclude' ? '(excluded)' : labelName(d.current)}  ${d.decidedAt}${d.actor ? `  ${d.actor}` : ''}`,
          );
      }
      shown += page.items.length;
      if (page.next === null || shown >= top) break;
      before = page.next;
    }
    if (!values.json) io.err(`${shown} of ${total} decided frames`);
    return 0;
  } finally {
    await core.close();
  }
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
  const frame = str(values.frame);
  const actionArg = str(values.action);
  if (frame === undefined || actionArg === undefined) throw new UsageError('--frame VIDEO:FRAME and --action are required');
  return guarded(io, async () => {
    const core = await openCore(project, { actor: 'cli' });
    try {
      const { frameId } = await core.request('review.frameId', { ref: frame });
      const { action, label } = parseActionArg(actionArg);
      const r = await core.request('review.decide', { frameIds: [frameId], action, label, detail: true });
      const changes = r.changes ?? [];
      const c = changes[0];
      if (values.json) io.out(JSON.stringify({ groupId: r.groupId, action: r.action ?? action, changes }));
      else io.out(`${frame}: ${action}${c ? ` (${labelName(c.before)} -> ${labelName(c.after)})` : ''}`);
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
  const { project, values } = args(argv, {
    format: { type: 'string' },
    out: { type: 'string' },
    overwrite: { type: 'boolean' },
    'new-folder': { type: 'boolean' },
  });
  const format = (values.format ?? 'abaw') as ExportFormat;
  if (!['abaw', 'csv', 'report'].includes(format)) throw new UsageError(`--format must be abaw, csv or report, not "${format}"`);
  const out = str(values.out);
  if (out === undefined) throw new UsageError('--out DIR is required');
  if (values.overwrite && values['new-folder']) throw new UsageError('give --overwrite or --new-folder, not both');
  const ifExists = values.overwrite ? 'overwrite' : values['new-folder'] ? 'new' : 'ask';
  return guarded(io, async () => {
    const outDir = resolve(out);
    const core = await openCore(project);
    try {
      // asked first, so a folder that already holds files is one line naming it and the two ways on
      // (the job body starts on a later turn of the event loop: runCoreJob still sees all of it)
      const job = await core.request('export.run', { format, outDir, ifExists }).catch((e: unknown) => {
        if (e instanceof ConflictError) return e;
        throw e;
      });
      if (job instanceof ConflictError) {
        io.err(
          `concord: ${job.message.split(CONFLICT_CHOICES)[0]}; pass --overwrite to replace its files or --new-folder to write beside it`,
        );
        return 1;
      }
      const r = await runCoreJob<ExportResult>(core, async () => job, {
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
