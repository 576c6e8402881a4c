// Which frames train and which validate: splits by name, whole videos held out (seeded) when the
// project has no validation split, folds by video (or by stretch of one label) for cross-fitting. Pure functions over store rows.
import { isImageSet, type FrameRecord, type VideoRow } from '../store/dataset';
import type { TrainConfig } from './config';
import { deriveSeed, Rng } from './rng';

export interface LabelledFrame extends FrameRecord {
  /** The label trained on (current or original per config). */
  target: number;
}

export interface SplitPlan {
  classes: number;
  train: LabelledFrame[];
  val: LabelledFrame[];
  /** How validation was chosen, in words (stored with the run). */
  validation: string;
  valVideos: string[];
  /** Frames skipped because their label is outside the model's classes (e.g. Other with 7 classes). */
  outOfRange: number;
}

/** Both faces of a two-person video (`x_left`, `x_right`) belong together. */
export function videoGroup(name: string): string {
  return name.replace(/_(left|right)$/, '');
}

export function resolveClasses(cfg: TrainConfig, videos: readonly VideoRow[]): number {
  if (cfg.classes !== 'auto') return cfg.classes;
  return videos.some((v) => v.label_set === 'abaw8') ? 8 : 7;
}

function usable(cfg: TrainConfig, videos: readonly VideoRow[]): Set<number> {
  return new Set(videos.filter((v) => !cfg.sources || cfg.sources.includes(v.source)).map((v) => v.id));
}

function withTarget(f: FrameRecord, cfg: TrainConfig): LabelledFrame {
  return { ...f, target: cfg.labelSource === 'original' ? f.originalLabel : f.label };
}

/** Seeded choice of whole video groups: `share` of them (at least one when share > 0 and there are two). */
export function holdOutGroups(names: readonly string[], share: number, seed: number): Set<string> {
  const groups = [...new Set(names.map(videoGroup))].sort();
  if (share <= 0 || groups.length < 2) return new Set();
  const count = Math.min(groups.length - 1, Math.max(1, Math.round(share * groups.length)));
  const rng = new Rng(deriveSeed(seed, 'holdout'));
  rng.shuffle(groups);
  return new Set(groups.slice(0, count));
}

/** Video group → fold (0..k-1), seeded, balanced in group count. */
export function assignFolds(names: readonly string[], k: number, seed: number): Map<string, number> {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`crossfit: folds must be an integer >= 2, got ${k}`);
  const groups = [...new Set(names.map(videoGroup))].sort();
  if (groups.length < k) throw new RangeError(`crossfit: ${k} folds need at least ${k} videos, the project has ${groups.length}`);
  const rng = new Rng(deriveSeed(seed, 'folds'));
  rng.shuffle(groups);
  const out = new Map<string, number>();
  groups.forEach((g, i) => out.set(g, i % k));
  return out;
}

function finish(cfg: TrainConfig, classes: number, train: LabelledFrame[], val: LabelledFrame[], validation: string): SplitPlan {
  let outOfRange = 0;
  const keep = (f: LabelledFrame) => {
    if (f.target < 0) return false;
    if (f.target >= classes) {
      outOfRange++;
      return false;
    }
    return true;
  };
  const stride = cfg.frameStride;
  const trainKept = train.filter((f) => keep(f) && (stride === 1 || (f.idx - 1) % stride === 0));
  const valKept = val.filter(keep);
  return { classes, train: trainKept, val: valKept, validation, valVideos: [...new Set(valKept.map((f) => f.video))].sort(), outOfRange };
}

/** Train/validation frames of a normal run. `frames` are the project's frames with a crop. */
export function planSplit(frames: readonly FrameRecord[], videos: readonly VideoRow[], cfg: TrainConfig): SplitPlan {
  const classes = resolveClasses(cfg, videos);
  const ok = usable(cfg, videos);
  const all = frames.filter((f) => ok.has(f.videoId)).map((f) => withTarget(f, cfg));
  const isVal = (f: LabelledFrame) => cfg.valSplits.includes(f.split);
  const isTrain = (f: LabelledFrame) => (cfg.trainSplits ? cfg.trainSplits.includes(f.split) : !isVal(f));
  const val = all.filter((f) => isVal(f) && f.target >= 0);
  if (val.length > 0) {
    return finish(cfg, classes, all.filter(isTrain), val, `splits ${cfg.valSplits.join(', ')}`);
  }
  const candidates = all.filter(isTrain);
  const held = holdOutGroups(
    candidates.map((f) => f.video),
    cfg.valFraction,
    cfg.splitSeed,
  );
  if (held.size === 0) return finish(cfg, classes, candidates, [], 'none');
  return finish(
    cfg,
    classes,
    candidates.filter((f) => !held.has(videoGroup(f.video))),
    candidates.filter((f) => held.has(videoGroup(f.video))),
    `${held.size} held-out video(s), ${Math.round(cfg.valFraction * 100)}% by video, seed ${cfg.splitSeed}`,
  );
}

/**
 * Frame → fold (0..k-1) when folds hold out stretches: in each video (in frame order) the maximal
 * runs of one target label, unlabelled frames included as their own runs, are shuffled and dealt to
 * the folds round-robin (one deal across the project, from a seeded start), so each fold holds about
 * 1/k of every video and sees the rest of it. A mislabelled stretch is one run (or part of one with a neighbour it was labelled as),
 * so the fold that predicts it never trained on any of it. Images of an image list (`images`: their
 * video ids) are dealt one by one, shuffled within the list; images that name a subject (a person,
 * or the video they were cut from) are dealt with all that subject's images, across the list's splits.
 */
export function assignStretchFolds(
  frames: readonly LabelledFrame[],
  k: number,
  seed: number,
  images: ReadonlySet<number> = new Set(),
): Map<number, number> {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`crossfit: folds must be an integer >= 2, got ${k}`);
  const byVideo = new Map<number, LabelledFrame[]>();
  for (const f of frames) {
    const list = byVideo.get(f.videoId);
    if (list) list.push(f);
    else byVideo.set(f.videoId, [f]);
  }
  const rng = new Rng(deriveSeed(seed, 'stretch-folds'));
  const out = new Map<number, number>();
  // one deal across the project from a seeded start: each video's stretches go to consecutive folds
  let next = rng.int(k);
  let stretches = 0;
  const deal = (runs: LabelledFrame[][]): void => {
    rng.shuffle(runs);
    for (const run of runs) {
      for (const f of run) out.set(f.frameId, next);
      next = (next + 1) % k;
    }
    stretches += runs.length;
  };
  // an image list's subjects, across all its splits: each subject's images are one run
  const subjects = new Map<string, LabelledFrame[]>();
  for (const id of [...byVideo.keys()].sort((a, b) => a - b)) {
    const list = byVideo
      .get(id)!
      .slice()
      .sort((a, b) => a.idx - b.idx);
    const runs: LabelledFrame[][] = [];
    for (const f of list) {
      if (images.has(id) && f.subject != null) {
        const same = subjects.get(f.subject);
        if (same) same.push(f);
        else subjects.set(f.subject, [f]);
        continue;
      }
      const last = runs[runs.length - 1];
      const prev = last?.[last.length - 1];
      if (!images.has(id) && prev && prev.target === f.target && f.idx - prev.idx <= 1) last.push(f);
      else runs.push([f]);
    }
    deal(runs);
  }
  if (subjects.size) deal([...subjects.keys()].sort().map((s) => subjects.get(s)!));
  if (stretches > 0 && stretches < k)
    throw new RangeError(`crossfit: ${k} folds need at least ${k} stretches of frames or images, the project has ${stretches}`);
  return out;
}

/** Fold k of a cross-fit: train on the other folds' labelled frames, validate (and later predict) on fold k. */
export function planFold(
  frames: readonly FrameRecord[],
  videos: readonly VideoRow[],
  cfg: TrainConfig,
  folds: number,
  fold: number,
): SplitPlan & { heldOut: FrameRecord[] } {
  const classes = resolveClasses(cfg, videos);
  const ok = usable(cfg, videos);
  const mine = frames.filter((f) => ok.has(f.videoId));
  const all = mine.map((f) => withTarget(f, cfg));
  // an image list has no videos to fold by: its images are dealt to the folds one by one, or by subject
  const images = new Set(videos.filter((v) => isImageSet(v.source)).map((v) => v.id));
  let inFold: (f: FrameRecord) => boolean;
  if (cfg.foldBy === 'stretch') {
    const assignment = assignStretchFolds(all, folds, cfg.splitSeed, images);
    inFold = (f) => assignment.get(f.frameId) === fold;
  } else {
    const fromVideos = mine.filter((f) => !images.has(f.videoId));
    const byGroup = fromVideos.length ? assignFolds([...new Set(fromVideos.map((f) => f.video))], folds, cfg.splitSeed) : new Map();
    const byImage = assignStretchFolds(
      all.filter((f) => images.has(f.videoId)),
      folds,
      cfg.splitSeed,
      images,
    );
    inFold = (f) => (images.has(f.videoId) ? byImage.get(f.frameId) : byGroup.get(videoGroup(f.video))) === fold;
  }
  const plan = finish(
    cfg,
    classes,
    all.filter((f) => !inFold(f)),
    all.filter(inFold),
    `fold ${fold + 1} of ${folds} by ${cfg.foldBy === 'stretch' ? 'stretch of one label within each video' : 'video'}${images.size ? (mine.some((f) => images.has(f.videoId) && f.subject != null) ? ', images by subject' : ', images one by one') : ''}, seed ${cfg.splitSeed}`,
  );
  return { ...plan, heldOut: mine.filter(inFold) };
}
