// The review and export requests of the contract, adapted from the review core's shapes.
import type {
  DecidedFrame,
  DecisionDetail,
  ExportResult,
  FrameDetail,
  PairCount,
  QueueItem,
  QueuePage,
  RequestPayload,
  Results,
  ScoreSummary,
  SegmentItem,
} from '../../shared/api';
import { openDb, type Db } from '../../store/db';
import { servableFrame } from './frame-file';
import { asNotFound, NotFoundError } from '../../shared/errors';
import { frameInfo } from '../../store/dataset';
import { getRun } from '../../store/runs';
import { latestPredictedRun } from '../../store/predictions';
import { decidedFrames, reviewTally } from '../../store/decisions';
import { runDegenerate } from './app-training';
import { flaggedRunId, flagSegments, pairCounts } from '../../store/flags';
import { locateInQueue, queuePage, type QueueRow } from '../../store/queue';
import { frameDetail as storeFrameDetail, frameTimeline, TIMELINE_WINDOW } from './review/frame-detail';
import {
  decide as decideFrames,
  decideInBatches,
  DecisionError,
  frameRef,
  redo as redoGroup,
  undo as undoGroup,
  type RevertResult,
} from './review/decisions';
import { checkScoreOptions, scoreRunAsync, ScoringError } from './review/flags';
import { exportPreview as previewExport, exportProjectAsync } from './export/export';
import { exportTarget } from './export/conflict';
import type { Core } from './app';
import { framePrediction, outOfSamplePlan, predictionSource } from './review/out-of-sample';

/** A frame's image file, only if it lies inside `roots` or its recorded frames folder and is an image (frame-file.ts). */
export function framePathById(db: Db, frameId: number, roots: readonly string[]): string | null {
  return servableFrame(db, frameId, roots)?.file ?? null;
}

function netProbsOf(item: QueueRow): number[] {
  const per = (item.details as { perNet?: number[] } | null)?.perNet;
  return Array.isArray(per) ? per : [];
}

const DECISIONS = new Set(['accept', 'relabel', 'keep', 'exclude']);
const asDecision = (d: string | null): QueueItem['decision'] => (d !== null && DECISIONS.has(d) ? (d as QueueItem['decision']) : null);

function toItem(i: QueueRow): QueueItem {
  return {
    flagId: i.flagId,
    frameId: i.frameId,
    video: i.video,
    split: i.split,
    idx: i.idx,
    given: i.given,
    suggested: i.suggested,
    current: i.current,
    original: i.original,
    score: i.score,
    allAgree: i.allAgree,
    rule: i.rule,
    status: i.status,
    decision: asDecision(i.decision),
    netProbs: netProbsOf(i),
  };
}

function withDetail(i: QueueRow): QueueItem {
  return { ...toItem(i), runId: i.runId, videoId: i.videoId, imagePath: i.imagePath };
}

/** A page of the filtered queue by keyset (`after`), `offset` or `fromEnd`; total and offset are under the filter. */
export function queue(db: Db, p: RequestPayload<'review.queue'>): QueuePage {
  const r = queuePage(db, { filter: p.filter, after: p.after, offset: p.offset, fromEnd: p.fromEnd, limit: p.limit });
  return { items: r.items.map(p.detail ? withDetail : toItem), next: r.next, total: r.total, offset: r.offset };
}

/**
 * A frame (`VIDEO:FRAME`, FRAME 1-based, or a frame id) and its position in the filtered queue.
 * A reference that names no frame is a NotFoundError naming it.
 */
export function locate(db: Db, p: RequestPayload<'review.locate'>): Results['review.locate'] {
  const frameId = frameOfRef(db, p.ref);
  return { frameId, ...locateInQueue(db, frameId, p.filter ?? {}) };
}

function frameOfRef(db: Db, ref: string): number {
  const text = ref.trim();
  if (/^\d+$/.test(text)) {
    const id = Number(text);
    if (!Number.isSafeInteger(id) || !frameInfo(db, id)) throw new NotFoundError(`no frame "${ref}": frame ${text} does not exist`);
    return id;
  }
  try {
    return frameRef(db, text);
  } catch (e) {
    if (e instanceof DecisionError) throw new NotFoundError(`no frame "${ref}": ${e.message}`);
    throw e;
  }
}

export function pairs(db: Db, p: RequestPayload<'review.pairs'>): PairCount[] {
  return pairCounts(db, p.status ?? 'open').map((c) => ({ given: c.given, suggested: c.suggested, count: c.n }));
}

export function frame(db: Db, p: RequestPayload<'review.frame'>): FrameDetail {
  if (!frameInfo(db, p.frameId)) throw new NotFoundError(`frame ${p.frameId} does not exist`);
  const d = storeFrameDetail(db, p.frameId, { context: p.context });
  const open = d.flags.find((f) => f.status === 'open') ?? d.flags[0];
  const flag: QueueItem | null = open
    ? {
        flagId: open.id,
        frameId: d.frameId,
        video: d.video,
        split: d.split,
        idx: d.idx,
        given: open.given,
        suggested: open.suggested,
        current: d.current,
        original: d.original,
        score: open.score,
        allAgree: Boolean(open.all_agree),
        rule: open.rule,
        status: open.status,
        decision: asDecision(open.decision),
        netProbs: d.probs.map((q) => q[open.suggested] ?? 0),
      }
    : null;
  return {
    frameId: d.frameId,
    video: d.video,
    split: d.split,
    idx: d.idx,
    original: d.original,
    current: d.current,
    hasFace: d.hasFace,
    probs: d.probs.length ? d.probs : null,
    consensus: d.consensus,
    flag,
    neighbours: d.neighbours.map((n) => ({
      frameId: n.frameId,
      idx: n.idx,
      current: n.current,
      consensus: n.consensus,
      flagged: Boolean(n.flag && n.flag.status === 'open'),
    })),
    timeline: p.timeline === false ? null : frameTimeline(db, d.videoId, d.runId, d.idx, p.window ?? TIMELINE_WINDOW),
    history: d.decisions.map((x) => ({ action: x.action, before: x.label_before, after: x.label_after, at: x.created_at })),
    prediction: d.runId !== null && d.probs.length ? framePrediction(db, d.runId, d.video) : null,
  };
}

export function segments(db: Db, p: RequestPayload<'review.segments'>): SegmentItem[] {
  return flagSegments(db, { filter: p.filter, limit: p.limit, minLength: 2 }).map((s) => ({
    video: s.video,
    start: s.startIdx,
    end: s.endIdx,
    given: s.given[0] ?? -1,
    suggested: s.suggested,
    frameIds: s.frameIds,
    score: s.maxScore,
  }));
}

export function counts(db: Db): Results['review.counts'] {
  const runId = flaggedRunId(db);
  const run = runId === null ? null : { id: runId, degenerate: runDegenerate(db, runId), source: predictionSource(db, runId) };
  const newest = latestPredictedRun(db)?.id ?? null;
  return { ...reviewTally(db), run, newerPredictions: runId !== null && newest !== null && newest > runId ? newest : null };
}

/** flags.plan: out-of-sample scoring's folds, cost and whether it is the default (review/out-of-sample.ts). */
export function plan(db: Db): Results['flags.plan'] {
  return outOfSamplePlan(db);
}

/** Decided frames, each once (store/decisions.ts decidedFrames), paged newest first. */
export function decisions(db: Db, p: RequestPayload<'review.decisions'>): Results['review.decisions'] {
  const limit = p.limit ?? 100;
  const { items, total } = decidedFrames(db, { before: p.before, limit });
  const last = items.at(-1);
  return {
    items: items.map(({ decisionId: _id, ...x }) => ({ ...x, action: x.action as DecidedFrame['action'] })),
    next: items.length === limit && last ? last.decisionId : null,
    total,
  };
}

/** Starts the scoring job (the options are checked first, so a bad run or rule is the request's error). */
export function score(core: Core, p: RequestPayload<'flags.score'>): Results['flags.score'] {
  const projectDir = core.options.projectLabel ?? core.projectDir;
  const opts = { runId: p.runId, rule: p.rule, threshold: p.threshold, smooth: p.smooth, projectDir };
  // A missing run is a 404 but stays a ScoringError, the class the CLI prints as one line.
  if (p.runId !== undefined && !getRun(core.db, p.runId)) throw asNotFound(new ScoringError(`run ${p.runId} does not exist`));
  checkScoreOptions(core.db, opts);
  return core.jobs.start('flags.score', async (c): Promise<ScoreSummary> => {
    const r = await scoreRunAsync(core.db, { ...opts, signal: c.signal, onProgress: c.progress });
    const degenerate = runDegenerate(core.db, r.runId);
    return p.detail ? { ...r, degenerate } : { runId: r.runId, flagged: r.flagged, scored: r.scored, rule: r.rule, degenerate };
  });
}

/** From this many frames, a decision is applied in batches (decideInBatches) and reports progress as a job. */
export const BULK_DECIDE = 2000;

const reviewWrites = new WeakMap<Core, Promise<unknown>>();

/** Decisions, undo and redo of one core run one after another, so none lands inside a bulk decision. */
function inTurn<T>(core: Core, fn: () => T | Promise<T>): Promise<T> {
  const run = (reviewWrites.get(core) ?? Promise.resolve()).then(fn);
  reviewWrites.set(
    core,
    run.catch(() => undefined),
  );
  return run;
}

export function decide(core: Core, p: RequestPayload<'review.decide'>): Promise<Results['review.decide']> {
  return inTurn(core, async () => {
    const opts = { frameIds: p.frameIds, action: p.action, label: p.label, actor: actorOf(core) };
    const r = await missingFrameIs404(() => (p.frameIds.length < BULK_DECIDE ? decideFrames(core.db, opts) : bulkDecide(core, opts)));
    core.emit('review.changed', { frameIds: r.changes.map((c) => c.frameId) });
    return { decided: r.changes.length, groupId: r.groupId, ...(p.detail ? { action: r.action, changes: r.changes } : {}) };
  });
}

/** A decision on a frame that does not exist stays a DecisionError (the CLI prints it) and becomes a 404. */
async function missingFrameIs404<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DecisionError && /^frame \S+ does not exist$/.test(e.message)) throw asNotFound(e);
    throw e;
  }
}

/** A large decision as a progress-only job; resolves with decideInBatches' result. */
function bulkDecide(core: Core, opts: Parameters<typeof decideInBatches>[1]): ReturnType<typeof decideInBatches> {
  return new Promise((resolve, reject) => {
    core.jobs.start(
      'review.decide',
      async (c) => {
        try {
          const r = await decideInBatches(core.db, { ...opts, onProgress: c.progress });
          resolve(r);
          return { decided: r.changes.length, groupId: r.groupId };
        } catch (e) {
          reject(e as Error);
          throw e;
        }
      },
      undefined,
      { cancellable: false },
    );
  });
}

/** Who the decisions are recorded as: the host's CoreOptions.actor ('cli' from the command line), else 'ui'. */
function actorOf(core: Core): string {
  return core.options.actor ?? 'ui';
}

/** The reverted group, for a request that asked for `detail`. */
function detailOf(r: RevertResult | null, detail: boolean | undefined): DecisionDetail {
  return detail && r ? { groupId: r.groupId, action: r.action, changes: r.changes } : {};
}

export function undo(core: Core, p: RequestPayload<'review.undo'>): Promise<Results['review.undo']> {
  return inTurn(core, () => {
    const r = undoGroup(core.db, { actor: actorOf(core) });
    if (r) core.emit('review.changed', { frameIds: r.changes.map((c) => c.frameId) });
    return { undone: r?.changes.length ?? 0, ...detailOf(r, p.detail) };
  });
}

export function redo(core: Core, p: RequestPayload<'review.redo'>): Promise<Results['review.redo']> {
  return inTurn(core, () => {
    const r = redoGroup(core.db, { actor: actorOf(core) });
    if (r) core.emit('review.changed', { frameIds: r.changes.map((c) => c.frameId) });
    return { redone: r?.changes.length ?? 0, ...detailOf(r, p.detail) };
  });
}

/** A `VIDEO:FRAME` reference's frame id; a bad reference is the request's error (a DecisionError). */
export function frameId(db: Db, p: RequestPayload<'review.frameId'>): Results['review.frameId'] {
  return { frameId: frameRef(db, p.ref) };
}

export function exportPreview(db: Db): Results['export.preview'] {
  const p = previewExport(db, { limit: 50 });
  return {
    changes: p.changed,
    pairs: p.pairs.map((x) => ({ given: x.from, suggested: x.to, count: x.n })),
    // the standing decision's action; a change no decision explains (an older tool's) says so
    sample: p.first.map((x) => ({ video: x.video, idx: x.frame, original: x.original, cleaned: x.cleaned, action: x.action ?? 'changed' })),
  };
}

/**
 * Starts the export job. The output folder is checked first (a refused path, or files already
 * there with ifExists 'ask', is the request's error and starts no job); 'new' picks the fresh
 * sibling folder here, and the result's outDir names it.
 */
export function exportRun(core: Core, p: RequestPayload<'export.run'>): Results['export.run'] {
  const outDir = core.path(exportTarget(core.readDb, core.path(p.outDir), p.ifExists ?? 'ask'));
  return core.jobs.start('export.run', async (c): Promise<ExportResult> => {
    // One WAL snapshot for the whole export: a read transaction on its own read-only connection,
    // so decisions committed while the files are written appear in none of them.
    const snapshot = openDb(core.projectDir, { readonly: true });
    try {
      snapshot.exec('BEGIN');
      snapshot.prepare('SELECT count(*) FROM videos').get(); // the first read fixes the snapshot
      const r = await exportProjectAsync(snapshot, {
        format: p.format,
        outDir,
        signal: c.signal,
        onProgress: c.progress,
        recordDb: core.db,
      });
      return { format: r.format, paths: r.files, summary: r.summary, outDir: r.outDir, exportId: r.exportId };
    } finally {
      if (snapshot.inTransaction) snapshot.exec('ROLLBACK');
      snapshot.close();
    }
  });
}
