// Out-of-sample scoring: whether to offer it, what it costs, and what the scored run's predictions
// are. Networks trained on a frame memorise its label, most of all whole mislabelled stretches of a
// video (the project's grid: 30 % segment noise, in-sample recall 0.14, cross-fitted 0.91), so flags
// are best scored on predictions from networks that never saw the frame: a cross-fit, K folds by
// video, each video predicted by the fold that left it out. Reads only.
import type { Db } from '../../../store/db';
import { imageSetIds, imageSubjectCount, listVideos } from '../../../store/dataset';
import { getRun, listRuns, type RunRow } from '../../../store/runs';
import { runHasPredictions } from '../../../store/predictions';
import { videoGroup } from '../../../trainer/split';
import type { OutOfSamplePlan, PredictionSource } from '../../../shared/review-types';

/**
 * The plan's folds (fewer when the project has fewer video groups; the user may ask for more). On
 * the 12 x 150 demo 3 folds by video did as well as 5 on segment noise (0.65 / 0.92 at seed 1, 5
 * folds 0.60 / 0.93 before the out-of-sample threshold) at half the cost: (K-1) times a training run.
 */
export const MAX_FOLDS = 3;
/** A cross-fit needs at least this many video groups (both faces of a video are one group). */
export const MIN_GROUPS = 3;
/**
 * Out-of-sample is the default only with at least this many video groups: a fold must generalise to
 * people it never saw. On the 8-video demo (each fold trained on about 5 people) the UI's default
 * path scored symmetric noise 0.69 / 0.88 out-of-sample against 0.86 / 0.96 in-sample; on 12 videos
 * out-of-sample reached 0.80 / 0.92 and is what finds segment noise (0.65 / 0.92 vs 0.31 / 0.12).
 */
export const DEFAULT_MIN_GROUPS = 12;
/** The most folds offered for an image list (its images are dealt to folds one by one, or by subject). */
export const MAX_IMAGE_FOLDS = 10;
/** Out-of-sample is the default when its estimate is within this (the time the UI shows). */
export const OUT_OF_SAMPLE_BUDGET_S = 20 * 60;

const seconds = (r: RunRow) => (r.finished_at ? (Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000 : null);

/**
 * The plan the Review view shows next to Score: folds, the estimate (from the newest finished
 * training run on this machine: each of K folds trains on (K-1)/K of the videos for the same epochs,
 * so about (K-1) times that run), and whether out-of-sample is the default (enough video groups,
 * DEFAULT_MIN_GROUPS, and an estimate within the budget).
 */
export function outOfSamplePlan(db: Db): OutOfSamplePlan {
  const images = imageSetIds(db);
  const groups = new Set(
    listVideos(db)
      .filter((v) => !images.has(v.id))
      .map((v) => videoGroup(v.name)),
  ).size;
  // an image list is folded image by image, or by subject where it names them (split.ts planFold),
  // a video project by video group
  const imageOnly = groups === 0 && images.size > 0;
  const subjects = imageOnly ? imageSubjectCount(db) : 0;
  const maxFolds = imageOnly ? (subjects ? Math.min(MAX_IMAGE_FOLDS, subjects) : MAX_IMAGE_FOLDS) : groups;
  const folds = Math.min(MAX_FOLDS, maxFolds);
  const runs = listRuns(db); // newest first
  const crossfit = runs.filter(
    (r) => r.kind === 'crossfit' && r.parent_run_id === null && r.status === 'done' && runHasPredictions(db, r.id),
  )[0];
  // a run that trained here (it left a checkpoint), not one imported or seeded with predictions
  const measured = runs.filter(
    (r) => (r.kind === 'train' || r.kind === 'finetune') && r.status === 'done' && r.checkpoint_dir !== null && (seconds(r) ?? 0) > 0,
  )[0];
  const base = {
    folds,
    maxFolds,
    videoGroups: groups,
    imageSubjects: subjects,
    crossfitRun: crossfit?.id ?? null,
    trainedRun: measured?.id ?? null,
    budgetSeconds: OUT_OF_SAMPLE_BUDGET_S,
  };
  if (groups < MIN_GROUPS && !imageOnly) {
    const why = `${groups} video${groups === 1 ? '' : 's'}`;
    return {
      ...base,
      available: false,
      recommended: false,
      estimateSeconds: null,
      basis: null,
      reason: `out-of-sample scoring folds by video and needs at least ${MIN_GROUPS}; this project has ${why}`,
    };
  }
  if (imageOnly && subjects > 0 && subjects < MIN_GROUPS) {
    return {
      ...base,
      available: false,
      recommended: false,
      estimateSeconds: null,
      basis: null,
      reason: `out-of-sample scoring of this image list folds by subject and needs at least ${MIN_GROUPS}; its images name ${subjects}`,
    };
  }
  if (!measured) {
    return {
      ...base,
      available: true,
      recommended: false,
      estimateSeconds: null,
      basis: null,
      reason: 'train once first: the estimate comes from how long a run takes on this machine',
    };
  }
  const t = seconds(measured)!;
  const estimate = Math.round((folds - 1) * t);
  const inBudget = estimate <= OUT_OF_SAMPLE_BUDGET_S;
  // people a fold never saw: video groups, or an image list's subjects (images without are independent)
  const people = imageOnly ? subjects : groups;
  const fewPeople = (!imageOnly || subjects > 0) && people < DEFAULT_MIN_GROUPS;
  const recommended = inBudget && !fewPeople;
  const reason = !inBudget
    ? `out-of-sample would take about ${Math.round(estimate / 60)} min here, over the ${OUT_OF_SAMPLE_BUDGET_S / 60} min a default may take: in-sample is the default`
    : fewPeople
      ? `out-of-sample is offered, not the default: with ${people} ${imageOnly ? 'subjects' : 'video groups'} each fold trains on about ${Math.round((people * (folds - 1)) / folds)} people, too few to judge faces it never saw (the default needs ${DEFAULT_MIN_GROUPS} ${imageOnly ? 'subjects' : 'groups'}): in-sample is the default`
      : `out-of-sample is the default here: ${imageOnly ? `${folds} folds of the images${subjects ? ` by subject (${subjects})` : ''}` : `${groups} video groups`}, about ${Math.max(1, Math.round(estimate / 60))} min on this machine`;
  return {
    ...base,
    available: true,
    recommended,
    estimateSeconds: estimate,
    basis: `run ${measured.id} took ${Math.round(t)} s; ${folds} folds each train on ${folds - 1}/${folds} of the ${imageOnly ? (subjects ? 'subjects' : 'images') : 'videos'}`,
    reason,
  };
}

/** What a run's predictions are, for the flags scored on them. */
export function predictionSource(db: Db, runId: number): PredictionSource {
  const r = getRun(db, runId);
  if (r?.kind === 'crossfit') {
    const folds = (JSON.parse(r.config) as { crossfit?: { folds?: number } }).crossfit?.folds ?? null;
    // an image list that names no subjects has no stretches: the cross-fit judges it alone
    const images = imageSetIds(db);
    const stretches = listVideos(db).some((v) => !images.has(v.id)) || imageSubjectCount(db) > 0;
    const companion = stretches ? inSampleCompanion(db, runId) : null;
    const text = `out-of-sample: each frame predicted by the ${folds ?? 'K'}-fold cross-fit's model that left it out`;
    return {
      outOfSample: 'all',
      folds,
      text:
        companion === null
          ? text
          : `${text}; its verdicts stand on the stretches of one label it contradicts in good part, and run ${companion} (in-sample) judges the other frames`,
    };
  }
  return {
    outOfSample: 'validation',
    folds: null,
    text: 'in-sample for training frames (the networks trained on them); validation frames are out-of-sample',
  };
}

/** Whether one frame's prediction from `runId` is out-of-sample: a cross-fit's always, else its video was held out for validation. */
export function framePrediction(db: Db, runId: number, video: string): { runId: number; outOfSample: boolean; text: string } {
  const r = getRun(db, runId);
  if (r?.kind === 'crossfit')
    return { runId, outOfSample: true, text: 'out-of-sample (cross-fit: predicted by the fold that never trained on this frame)' };
  const valVideos = (JSON.parse(r?.config ?? '{}') as { split?: { valVideos?: string[] } }).split?.valVideos ?? [];
  return valVideos.includes(video)
    ? { runId, outOfSample: true, text: 'out-of-sample (a validation video: the networks never trained on it)' }
    : { runId, outOfSample: false, text: 'in-sample (the networks trained on this frame and its label)' };
}

/**
 * The trained run whose in-sample verdicts judge a cross-fit's frames outside the stretches it
 * contradicts as a whole (flags.ts byStretch): the newest train or finetune run with predictions.
 * Null for a run that is not a cross-fit, or when no trained run has predicted.
 */
export function inSampleCompanion(db: Db, runId: number): number | null {
  if (getRun(db, runId)?.kind !== 'crossfit') return null;
  const r = listRuns(db).find(
    (x) => (x.kind === 'train' || x.kind === 'finetune') && x.parent_run_id === null && runHasPredictions(db, x.id),
  );
  return r?.id ?? null;
}
