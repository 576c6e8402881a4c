// The scoring pass: read a run's predictions, score every labelled frame, apply a rule, write flags.
// Rules (src/shared/api.ts FlagRule):
//   all-agree           every network's argmax is the same class, not the given label, and score >= 0.25
//   confident-learning  the confident class (most probable class reaching its threshold t_k) is not the label
//   score-threshold     consensus ≠ label and the ranking score >= threshold (the default rule; by
//                       default 0.15 on smoothed in-sample predictions, 0.2 on a frame's own, 0.25
//                       on a cross-fit's out-of-sample predictions)
// `threshold`, when given with the other two rules, is an extra minimum score.
// Scoring a cross-fit whose project has a trained run with predictions, each video's stretches of
// one label that the cross-fit contradicts in good part keep its out-of-sample verdicts, and every
// other frame takes the trained run's in-sample verdict (byStretch); each flag names the run whose
// predictions raised it. An image list that names subjects is judged the same way, its stretches
// consecutive lines of one subject with one label; one that names none takes the cross-fit's alone.
// The given label is the frame's CURRENT label, so scoring after a retrain checks the cleaned labels.
// A frame a reviewer decided (accepted, relabelled, excluded) is never flagged again by a later
// scoring pass: the person's verdict stands until they undo it. A frame they KEPT is flagged again
// only when the new score is strictly higher than the score of the flag they kept (stronger
// evidence than they overruled).
// A scoring pass replaces every OPEN flag (of any run), so the queue shows the latest pass only;
// decided flags stay as history.
import type { Db } from '../../../store/db';
import { frameSubjects, imageSetIds, videoIds } from '../../../store/dataset';
import { protectedFrames } from '../../../store/decisions';
import { replaceOpenFlags, type NewFlag } from '../../../store/flags';
import { latestPredictedRun, runHasPredictions, videoPredictions, type VideoPredictions } from '../../../store/predictions';
import { inSampleCompanion } from './out-of-sample';
import { getRun } from '../../../store/runs';
import { DEFAULT_FLAG_RULE, DEFAULT_SCORE_THRESHOLD, type FlagRule } from '../../../shared/api';
import {
  DEFAULT_OUT_OF_SAMPLE_SCORE_THRESHOLD,
  DEFAULT_UNSMOOTHED_SCORE_THRESHOLD,
  defaultScoreThreshold,
} from '../../../shared/review-types';
import {
  ClassThresholds,
  combinedScore,
  confidentLearningSuggestion,
  frameScores,
  meanProbs,
  smoothProbs,
  temporalScores,
  type FrameScores,
} from './scores';
import { ProgressTracker, throwIfAborted, type ProgressFn } from '../../../shared/progress';

export { DEFAULT_OUT_OF_SAMPLE_SCORE_THRESHOLD, DEFAULT_SCORE_THRESHOLD, DEFAULT_UNSMOOTHED_SCORE_THRESHOLD };
/**
 * all-agree's minimum score unless a threshold is given (0 turns it off): the networks agreeing on
 * another class by a thin margin is mostly their own mistake. On the default path's demo data
 * (bench/default-path.ts, symmetric 30 % noise, seeds 1-2) it raised precision from 0.66-0.71 to
 * 0.81-0.83 for recall 0.97 -> 0.89-0.93.
 */
export const DEFAULT_ALL_AGREE_MIN_SCORE = 0.25;
/** The smoothing the app and the CLI ask for unless told otherwise (the core's own default is 0). */
export const RECOMMENDED_SMOOTHING = 2;
/**
 * Scoring a cross-fit, a stretch of one given label at least this long, at least STRETCH_MIN_SHARE
 * of which the cross-fit contradicts, keeps the cross-fit's verdicts; elsewhere the trained run's
 * in-sample verdict stands (byStretch). Chosen on kept default-path projects (12 x 150 demo, 30 %
 * noise; bench/default-path.ts --keep, then bench/flag-rules.ts): the cross-fit alone gave symmetric
 * 0.78 / 0.92, pair-flip 0.67 / 0.80 (seed 2) and segment 0.65 / 0.91 (seed 1); by stretch (10
 * frames, a fifth) 0.84 / 0.96, 0.68 / 0.87 and 0.64 / 0.89; in-sample alone 0.85 / 0.96, 0.71 /
 * 0.87 and 0.31 / 0.12. Longer or stricter stretches lost segment recall, shorter ones pair-flip
 * precision.
 */
export const STRETCH_MIN_FRAMES = 10;
export const STRETCH_MIN_SHARE = 0.2;

export class ScoringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScoringError';
  }
}

export interface ScoreOptions {
  runId?: number;
  rule?: FlagRule;
  threshold?: number;
  /**
   * Score each frame on its predictions averaged over ±smooth frames of the same video (scores.ts
   * smoothProbs); 0 scores every frame on its own predictions. Image datasets are never smoothed.
   */
  smooth?: number;
  /** Shown in the "run concord infer" hint. */
  projectDir?: string;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  /** Order of computeFlags' result: best score first (default), or by video and frame. */
  order?: 'score' | 'frame';
  /**
   * For a cross-fit: the trained run whose in-sample verdicts judge the frames outside the
   * stretches the cross-fit contradicts as a whole (byStretch); default the newest training run
   * with predictions (out-of-sample.ts inSampleCompanion), null for the cross-fit's verdicts alone.
   */
  companion?: number | null;
}

export interface ScoreResult {
  runId: number;
  rule: FlagRule;
  /** Labelled frames with a prediction that were scored. */
  scored: number;
  flagged: number;
  /** Candidates left out because a reviewer kept them on stronger or equal evidence. */
  suppressedByReview: number;
  /** Frames skipped because their label is outside the model's classes (e.g. Other with a 7-class model). */
  outOfRange: number;
  thresholds?: number[];
}

export interface FlagDetails {
  consensus: number;
  allAgree: boolean;
  selfConfidence: number;
  margin: number;
  agreement: number;
  flicker: boolean;
  boundary: boolean;
  temporal: number;
  score: number;
  mean: number[];
  /** Each network's probability of the suggested class (the review grid's small bars). */
  perNet: number[];
  clThreshold?: number;
}

export interface Candidate extends NewFlag {
  details: FlagDetails;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

function resolveRun(db: Db, opts: ScoreOptions): number {
  const hint = `run \`concord infer ${opts.projectDir ?? '<project>'}\` first`;
  if (opts.runId !== undefined) {
    if (!getRun(db, opts.runId)) throw new ScoringError(`run ${opts.runId} does not exist`);
    if (!runHasPredictions(db, opts.runId)) throw new ScoringError(`run ${opts.runId} has no predictions; ${hint}`);
    return opts.runId;
  }
  const run = latestPredictedRun(db);
  if (!run) throw new ScoringError(`no predictions in this project; ${hint}`);
  return run.id;
}

/** A rule's minimum score: the given threshold, else the rule's default for these predictions. */
function minScoreOf(given: number | undefined, rule: FlagRule, outOfSample: boolean, smoothed: boolean): number | undefined {
  if (given !== undefined) return given;
  if (rule === 'score-threshold') return defaultScoreThreshold({ outOfSample, smoothed });
  return rule === 'all-agree' ? DEFAULT_ALL_AGREE_MIN_SCORE : undefined;
}

/**
 * The options' rule, run, minimum score and smoothing, or a ScoringError saying what is wrong (reads
 * only). minScoreFor gives the minimum score for a frame scored on smoothed predictions or on its
 * own: a given threshold, else the rule's default (score-threshold's: defaultScoreThreshold, stricter
 * on its own and on a cross-fit's out-of-sample predictions).
 */
export function checkScoreOptions(
  db: Db,
  opts: ScoreOptions,
): { rule: FlagRule; runId: number; minScoreFor: (smoothed: boolean) => number | undefined; smooth: number } {
  const rule = opts.rule ?? DEFAULT_FLAG_RULE;
  if (!['all-agree', 'confident-learning', 'score-threshold'].includes(rule)) throw new ScoringError(`unknown rule "${rule}"`);
  const runId = resolveRun(db, opts);
  const given = opts.threshold;
  if (given !== undefined && !(given >= 0 && given <= 1)) throw new ScoringError(`threshold ${given} is outside [0, 1]`);
  const outOfSample = getRun(db, runId)?.kind === 'crossfit';
  const minScoreFor = (smoothed: boolean) => minScoreOf(given, rule, outOfSample, smoothed);
  const smooth = opts.smooth ?? 0;
  if (!(Number.isInteger(smooth) && smooth >= 0 && smooth <= 100))
    throw new ScoringError(`smoothing ${smooth} is not a whole number of frames in [0, 100]`);
  return { rule, runId, minScoreFor, smooth };
}

/**
 * Score a run and return the flags the rule would raise (best first unless order = 'frame'). Reads only: the detection
 * bench uses it to compare rules without touching the queue.
 */
export function computeFlags(db: Db, opts: ScoreOptions = {}): { result: ScoreResult; flags: Candidate[] } {
  const steps = scoringSteps(db, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** computeFlags, giving the event loop a turn about every `sliceMs` of work (between videos). */
export async function computeFlagsAsync(
  db: Db,
  opts: ScoreOptions & { sliceMs?: number } = {},
): Promise<{ result: ScoreResult; flags: Candidate[] }> {
  const steps = scoringSteps(db, opts);
  const slice = opts.sliceMs ?? 20;
  let since = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - since >= slice) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      since = performance.now();
    }
  }
}

/** The scoring pass as steps: it yields after each video, so a caller may pause between them. */
function* scoringSteps(db: Db, opts: ScoreOptions): Generator<void, { result: ScoreResult; flags: Candidate[] }, void> {
  const { rule, runId, minScoreFor, smooth } = checkScoreOptions(db, opts);
  const videos = videoIds(db);
  const imageSets = imageSetIds(db);
  const smoothed = (videoId: number) => smooth > 0 && !imageSets.has(videoId);
  const predictionsOf = (videoId: number, run = runId) => {
    const vp = videoPredictions(db, run, videoId);
    if (vp && smoothed(videoId)) vp.probs = smoothProbs(vp.probs, vp.idx, vp.nets, vp.classes, smooth);
    return vp;
  };

  let thresholds: number[] | undefined;
  if (rule === 'confident-learning') {
    // first pass: t_c over every labelled frame of the run
    let acc: ClassThresholds | null = null;
    for (const v of videos) {
      throwIfAborted(opts.signal, 'scoring');
      const vp = predictionsOf(v);
      yield;
      if (!vp) continue;
      const size = vp.nets * vp.classes;
      acc ??= new ClassThresholds(vp.classes);
      vp.labels.forEach((label, i) => {
        if (label >= 0 && label < vp.classes) acc!.add(meanProbs(vp.probs.subarray(i * size, (i + 1) * size), vp.nets, vp.classes), label);
      });
    }
    thresholds = acc?.thresholds() ?? [];
  }

  const kept = protectedFrames(db);
  const result: ScoreResult = { runId, rule, scored: 0, flagged: 0, suppressedByReview: 0, outOfRange: 0, thresholds };
  const flags: Candidate[] = [];
  const tracker = new ProgressTracker('score', videos.length, opts.onProgress);
  // a cross-fit's stretches it does not contradict as a whole are judged by the trained run (in-sample)
  const companion = opts.companion === undefined ? inSampleCompanion(db, runId) : opts.companion;
  const judge = { rule, thresholds, kept };

  for (const videoId of videos) {
    if (tracker.done > 0) yield;
    throwIfAborted(opts.signal, 'scoring');
    tracker.add(1);
    const vp = predictionsOf(videoId);
    if (!vp) continue;
    const own = judgeVideo(vp, runId, minScoreFor(smoothed(videoId)), judge);
    result.scored += own.scored;
    result.outOfRange += own.outOfRange;
    let verdicts = own.verdicts;
    // stretches: a video's smoothed frames, or an image list's consecutive lines of one subject
    const subjects = imageSets.has(videoId) && companion !== null ? frameSubjects(db, videoId) : null;
    if (companion !== null && (smoothed(videoId) || subjects?.size)) {
      const inSample = predictionsOf(videoId, companion);
      if (inSample) {
        const other = judgeVideo(inSample, companion, minScoreOf(opts.threshold, rule, false, smoothed(videoId)), judge).verdicts;
        verdicts = byStretch(own.order, verdicts, other, subjects);
      }
    }
    for (const v of verdicts.values()) {
      if (v === 'suppressed') result.suppressedByReview++;
      else if (v !== null) flags.push(v);
    }
  }
  if ((opts.order ?? 'score') === 'score') flags.sort((a, b) => b.score - a.score || a.frameId - b.frameId);
  result.flagged = flags.length;
  return { result, flags };
}

type Verdict = Candidate | 'suppressed' | null;

/** One video's verdict per scored frame under one run's predictions: a flag, suppressed by a review, or none. */
function judgeVideo(
  vp: VideoPredictions,
  runId: number,
  minScore: number | undefined,
  o: { rule: FlagRule; thresholds: number[] | undefined; kept: ReturnType<typeof protectedFrames> },
): { verdicts: Map<number, Verdict>; order: { frameId: number; idx: number; label: number }[]; scored: number; outOfRange: number } {
  const { rule, thresholds, kept } = o;
  const size = vp.nets * vp.classes;
  // frames scored: labelled, with a label the model knows
  const pos: number[] = [];
  const scores: FrameScores[] = [];
  let outOfRange = 0;
  for (let i = 0; i < vp.labels.length; i++) {
    const label = vp.labels[i]!;
    if (label < 0) continue;
    if (label >= vp.classes) {
      outOfRange++;
      continue;
    }
    pos.push(i);
    scores.push(frameScores(vp.probs.subarray(i * size, (i + 1) * size), vp.nets, vp.classes, label));
  }
  const t = temporalScores(
    pos.map((i) => vp.idx[i]!),
    pos.map((i) => vp.labels[i]!),
    scores.map((s) => s.consensus),
  );
  const verdicts = new Map<number, Verdict>();
  const order = pos.map((i) => ({ frameId: vp.frameIds[i]!, idx: vp.idx[i]!, label: vp.labels[i]! }));
  pos.forEach((i, k) => {
    const s = scores[k]!;
    const label = vp.labels[i]!;
    const frameId = vp.frameIds[i]!;
    verdicts.set(frameId, null);
    const temporal = t.flicker[k] || t.boundary[k] ? 1 : 0;
    const score = combinedScore(s.margin, s.agreement, temporal);
    let suggested: number | null;
    if (rule === 'all-agree') suggested = s.allAgree && s.consensus !== label ? s.consensus : null;
    else if (rule === 'score-threshold') suggested = s.consensus !== label ? s.consensus : null;
    else suggested = confidentLearningSuggestion(s.mean, label, thresholds!);
    if (suggested === null) return;
    if (minScore !== undefined && score < minScore) return;
    const prior = kept.get(frameId);
    if (prior && (prior.action !== 'keep' || prior.score === null || !(score > prior.score))) {
      verdicts.set(frameId, 'suppressed');
      return;
    }
    const details: FlagDetails = {
      consensus: s.consensus,
      allAgree: s.allAgree,
      selfConfidence: round(s.selfConfidence),
      margin: round(s.margin),
      agreement: round(s.agreement),
      flicker: t.flicker[k] === 1,
      boundary: t.boundary[k] === 1,
      temporal,
      score: round(score),
      mean: Array.from(s.mean, round),
      perNet: Array.from({ length: vp.nets }, (_, j) => round(vp.probs[i * size + j * vp.classes + suggested!]!)),
    };
    if (thresholds) details.clThreshold = round(thresholds[suggested]!);
    verdicts.set(frameId, {
      runId,
      frameId,
      videoId: vp.videoId,
      idx: vp.idx[i]!,
      rule,
      given: label,
      suggested,
      score,
      allAgree: s.allAgree,
      details,
    });
  });
  return { verdicts, order, scored: pos.length, outOfRange };
}

/**
 * A stretch (a run of consecutive frames with one given label) of at least STRETCH_MIN_FRAMES that
 * the cross-fit contradicts on at least STRETCH_MIN_SHARE of its frames keeps the cross-fit's
 * verdicts: networks that never saw it disagree with much of it, the way a mislabelled stretch
 * looks, and the trained run has memorised it. Every other frame takes the trained run's verdict
 * (in-sample, where CCT's consensus resists isolated noise and each network saw all the people);
 * a frame the trained run did not predict keeps the cross-fit's. In an image list that names
 * subjects (`subjects`, by frame id) a stretch is consecutive lines of one subject with one label,
 * as a list of frames cut from video reads; an image without a subject is a stretch of its own.
 */
function byStretch(
  order: readonly { frameId: number; idx: number; label: number }[],
  outOfSample: Map<number, Verdict>,
  inSample: Map<number, Verdict>,
  subjects: ReadonlyMap<number, string> | null = null,
): Map<number, Verdict> {
  const out = new Map<number, Verdict>();
  const sameSubject = (a: number, b: number) => {
    if (!subjects) return true;
    const s = subjects.get(a);
    return s !== undefined && s === subjects.get(b);
  };
  let start = 0;
  for (let k = 1; k <= order.length; k++) {
    const prev = order[k - 1]!;
    const cur = order[k];
    if (cur && cur.label === prev.label && cur.idx - prev.idx <= 1 && sameSubject(cur.frameId, prev.frameId)) continue;
    const stretch = order.slice(start, k);
    const contradicted = stretch.filter((f) => outOfSample.get(f.frameId) != null).length;
    const whole = stretch.length >= STRETCH_MIN_FRAMES && contradicted >= STRETCH_MIN_SHARE * stretch.length;
    for (const f of stretch) {
      const mine = outOfSample.get(f.frameId) ?? null;
      out.set(f.frameId, whole || !inSample.has(f.frameId) ? mine : (inSample.get(f.frameId) ?? null));
    }
    start = k;
  }
  return out;
}

/**
 * Score a run (default: the newest with predictions) and replace the open flags with the result,
 * in one transaction. Decided flags are kept.
 */
export function scoreRun(db: Db, opts: ScoreOptions = {}): ScoreResult {
  // inserted in frame order: equal scores then page in frame order, and segment scans read the table in order
  const { result, flags } = computeFlags(db, { ...opts, order: 'frame' });
  replaceOpenFlags(db, scoredRunLast(flags, result.runId));
  return result;
}

/** scoreRun for hosts that must stay responsive: the scoring yields between videos; the write is one transaction. */
export async function scoreRunAsync(db: Db, opts: ScoreOptions = {}): Promise<ScoreResult> {
  const { result, flags } = await computeFlagsAsync(db, { ...opts, order: 'frame' });
  throwIfAborted(opts.signal, 'scoring');
  replaceOpenFlags(db, scoredRunLast(flags, result.runId));
  return result;
}

/**
 * Flags judged by a cross-fit's companion run first, then the scored run's, each in frame order:
 * the newest flag names the run that was scored (store/flags.ts flaggedRunId).
 */
function scoredRunLast(flags: Candidate[], runId: number): Candidate[] {
  return [...flags.filter((f) => f.runId !== runId), ...flags.filter((f) => f.runId === runId)];
}
