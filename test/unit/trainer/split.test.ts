// Fold assignment for cross-fitting: by video, and by stretch of one given label within each video.
import { describe, expect, it } from 'vitest';
import { assignFolds, assignStretchFolds, planFold, type LabelledFrame } from '../../../src/trainer/split';
import { parseTrainConfig } from '../../../src/trainer/config';
import type { VideoRow } from '../../../src/store/dataset';

let nextId = 1;
/** One video's frames with these labels (frame idx 1..n). */
function video(videoId: number, labels: number[]): LabelledFrame[] {
  return labels.map((label, k) => ({
    frameId: nextId++,
    videoId,
    video: `v${videoId}`,
    split: 'Train_Set',
    idx: k + 1,
    label,
    originalLabel: label,
    imagePath: '',
    target: label,
  }));
}

const row = (id: number, source = 'abaw'): VideoRow => ({
  id,
  name: `v${id}`,
  video_file: null,
  fps: null,
  frame_count: 0,
  split: 'Train_Set',
  source,
  label_set: 'abaw7',
  header: null,
  annotation_file: null,
  frames_dir: null,
  content_hash: null,
  imported_at: '',
});

/** Labels of runs of these lengths, alternating classes so each run is its own stretch. */
const runs = (...lengths: number[]) => lengths.flatMap((n, i) => Array<number>(n).fill(i % 7));

describe('assignStretchFolds', () => {
  const frames = [...video(1, runs(20, 1, 15, 30, 12, 3, 25)), ...video(2, runs(18, 22, 2, 14, 30, 9))];

  it('keeps every stretch of one label in one fold, and deals each video to every fold', () => {
    const a = assignStretchFolds(frames, 3, 7);
    expect(a.size).toBe(frames.length);
    for (let i = 1; i < frames.length; i++) {
      const [p, f] = [frames[i - 1]!, frames[i]!];
      if (p.videoId === f.videoId && p.target === f.target) expect(a.get(f.frameId)).toBe(a.get(p.frameId));
    }
    for (const v of [1, 2]) {
      const folds = new Set(frames.filter((f) => f.videoId === v).map((f) => a.get(f.frameId)));
      expect([...folds].sort()).toEqual([0, 1, 2]);
    }
  });

  it('is seeded: the same seed gives the same folds, another seed others', () => {
    const a = assignStretchFolds(frames, 3, 7);
    expect(assignStretchFolds(frames, 3, 7)).toEqual(a);
    expect(assignStretchFolds(frames, 3, 8)).not.toEqual(a);
  });

  it("holds out a mislabelled stretch whole, and the fold trains on the same person's other stretches", () => {
    // frames 21..35 of video 1 carry a wrong label (class 5) as one stretch
    const noisy = video(3, [
      ...Array<number>(20).fill(0),
      ...Array<number>(15).fill(5),
      ...Array<number>(20).fill(1),
      ...Array<number>(20).fill(0),
    ]);
    const a = assignStretchFolds(noisy, 2, 1);
    const fold = a.get(noisy[20]!.frameId)!;
    expect(noisy.slice(20, 35).every((f) => a.get(f.frameId) === fold)).toBe(true);
    expect(noisy.some((f) => a.get(f.frameId) !== fold)).toBe(true);
  });

  it('breaks a stretch where frames are missing, and deals the images of an image list one by one', () => {
    const gap = video(4, Array<number>(40).fill(2)).filter((f) => f.idx <= 20 || f.idx > 22);
    const seen = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const a = assignStretchFolds(gap, 2, seed);
      seen.add(`${a.get(gap[0]!.frameId)}${a.get(gap[gap.length - 1]!.frameId)}`);
    }
    expect(seen.size).toBeGreaterThan(1); // the two sides of the gap are two stretches
    const images = video(5, Array<number>(60).fill(3));
    const a = assignStretchFolds(images, 3, 1, new Set([5]));
    const sizes = [0, 1, 2].map((k) => images.filter((f) => a.get(f.frameId) === k).length);
    expect(sizes).toEqual([20, 20, 20]);
    // the same frames as one video's frames are one stretch
    expect(() => assignStretchFolds(images, 3, 1)).toThrow(/at least 3 stretches/);
  });

  it('an image list that names subjects deals each subject whole, across its splits', () => {
    const train = video(31, runs(8, 8, 8, 8, 8, 8)).map((f, i) => ({ ...f, subject: `p${i % 6}` }));
    const val = video(32, runs(6, 6)).map((f, i) => ({ ...f, split: 'Validation_Set', subject: `p${i % 3}` }));
    const loose = video(33, Array<number>(9).fill(2)); // no subject: dealt one by one
    const all = [...train, ...val, ...loose];
    const a = assignStretchFolds(all, 3, 4, new Set([31, 32, 33]));
    const foldsOf = new Map<string, Set<number>>();
    for (const f of [...train, ...val]) {
      const set = foldsOf.get(f.subject!) ?? new Set<number>();
      set.add(a.get(f.frameId)!);
      foldsOf.set(f.subject!, set);
    }
    // every subject sits in exactly one fold, its validation images with its training images
    expect([...foldsOf.values()].every((set) => set.size === 1)).toBe(true);
    // six subjects over three folds: two each
    const perFold = [0, 1, 2].map((k) => [...foldsOf.values()].filter((set) => set.has(k)).length);
    expect(perFold).toEqual([2, 2, 2]);
    expect(new Set(loose.map((f) => a.get(f.frameId))).size).toBe(3);
  });

  it('refuses more folds than stretches, with the counts', () => {
    expect(() => assignStretchFolds(video(6, Array<number>(30).fill(1)), 3, 1)).toThrow(/3 folds need at least 3 stretches.*has 1/);
    expect(() => assignStretchFolds(frames, 1, 1)).toThrow(/folds must be an integer >= 2/);
  });
});

describe('planFold', () => {
  const frames = [...video(11, runs(20, 15, 30, 12, 25)), ...video(12, runs(18, 22, 14, 30, 9)), ...video(13, runs(10, 20, 30))];
  const videos = [row(11), row(12), row(13)];

  it('by stretch: every frame is held out by exactly one fold, and never trains in it', () => {
    const cfg = parseTrainConfig({ foldBy: 'stretch', splitSeed: 3 }, 'test');
    const held = new Map<number, number>();
    for (let k = 0; k < 3; k++) {
      const plan = planFold(frames, videos, cfg, 3, k);
      const train = new Set(plan.train.map((f) => f.frameId));
      for (const f of plan.heldOut) {
        expect(train.has(f.frameId)).toBe(false);
        held.set(f.frameId, (held.get(f.frameId) ?? 0) + 1);
      }
      // each fold trains on every video
      expect(new Set(plan.train.map((f) => f.videoId))).toEqual(new Set([11, 12, 13]));
      expect(plan.validation).toContain('by stretch');
    }
    expect(held.size).toBe(frames.length);
    expect([...held.values()].every((n) => n === 1)).toBe(true);
  });

  it('by video (the default): a fold holds out whole videos', () => {
    const cfg = parseTrainConfig({ splitSeed: 3 }, 'test');
    expect(cfg.foldBy).toBe('video');
    const a = assignFolds(['v11', 'v12', 'v13'], 3, 3);
    const plan = planFold(frames, videos, cfg, 3, 0);
    const heldVideos = new Set(plan.heldOut.map((f) => f.video));
    expect([...heldVideos]).toEqual([...a].filter(([, k]) => k === 0).map(([v]) => v));
    expect(plan.train.some((f) => heldVideos.has(f.video))).toBe(false);
  });

  it('by video, an image list that names subjects holds each subject out whole, and says so', () => {
    const list = video(22, runs(10, 10, 10, 10, 10, 10)).map((f, i) => ({ ...f, subject: `s${i % 4}` }));
    const cfg = parseTrainConfig({ splitSeed: 2 }, 'test');
    for (let k = 0; k < 2; k++) {
      const plan = planFold(list, [row(22, 'csv')], cfg, 2, k);
      const held = new Set(plan.heldOut.map((f) => f.subject));
      expect(held.size).toBe(2);
      expect(plan.train.some((f) => held.has(f.subject))).toBe(false);
      expect(plan.validation).toContain('images by subject');
    }
  });

  it('by video, an image list is dealt image by image (it has no videos to fold by)', () => {
    const list = video(21, Array<number>(30).fill(4)); // one image set, one label
    const cfg = parseTrainConfig({ splitSeed: 2 }, 'test');
    const sizes = [0, 1, 2].map((k) => planFold(list, [row(21, 'csv')], cfg, 3, k).heldOut.length);
    expect(sizes).toEqual([10, 10, 10]);
    // mixed with videos: the videos still fold whole
    const mixed = [...frames, ...list];
    const plan = planFold(mixed, [...videos, row(21, 'csv')], cfg, 3, 1);
    const heldVideos = new Set(plan.heldOut.filter((f) => f.videoId !== 21).map((f) => f.video));
    expect(plan.train.some((f) => heldVideos.has(f.video))).toBe(false);
    expect(plan.heldOut.filter((f) => f.videoId === 21)).toHaveLength(10);
    expect(plan.validation).toContain('images one by one');
  });
});
