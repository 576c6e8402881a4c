import { describe, expect, it } from 'vitest';
import { DEMO_DEFAULTS } from '../../../../src/main/core/demo/generate';
import { NOISE_KINDS } from '../../../../src/main/core/demo/noise';
import { planDemoData, trackDrawing, TRAIN_SPLIT, VALIDATION_SPLIT, type PlanOptions } from '../../../../src/main/core/demo/plan';

const defaults: PlanOptions = { ...DEMO_DEFAULTS };

describe('planDemoData', () => {
  const plan = planDemoData(defaults);

  it('splits videos about 3/4 train, 1/4 validation, with one two-face train video', () => {
    expect(plan.videos).toHaveLength(12);
    const val = plan.videos.filter((v) => v.split === VALIDATION_SPLIT);
    expect(val).toHaveLength(3);
    const twoFace = plan.videos.filter((v) => v.tracks.length === 2);
    expect(twoFace).toHaveLength(1);
    expect(twoFace[0].split).toBe(TRAIN_SPLIT);
    expect(twoFace[0].tracks.map((t) => t.name)).toEqual([`${twoFace[0].name}_left`, `${twoFace[0].name}_right`]);
    expect(twoFace[0].tracks.every((t) => t.frames === twoFace[0].frames && t.video === twoFace[0].name)).toBe(true);
    expect(new Set(plan.tracks.map((t) => t.name)).size).toBe(plan.tracks.length);
  });

  it('keeps at least one validation video and one train video at the extremes', () => {
    const two = planDemoData({ ...defaults, videos: 2, validationShare: 0.01 });
    expect(two.videos.map((v) => v.split).sort()).toEqual([TRAIN_SPLIT, VALIDATION_SPLIT]);
    const most = planDemoData({ ...defaults, videos: 3, validationShare: 0.99 });
    expect(most.videos.filter((v) => v.split === TRAIN_SPLIT)).toHaveLength(1);
  });

  it('varies frame counts a little around the default, deterministically', () => {
    const counts = plan.videos.map((v) => v.frames);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(Math.floor(150 * 0.85));
    expect(Math.max(...counts)).toBeLessThanOrEqual(Math.ceil(150 * 1.15));
    expect(new Set(counts).size).toBeGreaterThan(1);
    expect(planDemoData(defaults).videos.map((v) => v.frames)).toEqual(counts);
  });

  it('labels come in segments of 12-30 frames and cover every class in both splits', () => {
    for (const t of plan.tracks) {
      expect(t.trueLabels).toHaveLength(t.frames);
      for (const s of t.segments.slice(0, -1)) {
        expect(s.end - s.start).toBeGreaterThanOrEqual(12);
        expect(s.end - s.start).toBeLessThanOrEqual(30);
      }
      // The last one absorbs a short tail.
      const last = t.segments.at(-1)!;
      expect(last.end).toBe(t.frames);
      expect(last.end - last.start).toBeLessThanOrEqual(30 + 6);
      expect(new Set(t.segments.map((s) => s.cls)).size).toBeGreaterThanOrEqual(4); // each person shows several expressions
      t.segments.slice(1).forEach((s, i) => expect(s.cls).not.toBe(t.segments[i].cls));
    }
    for (const split of [TRAIN_SPLIT, VALIDATION_SPLIT]) {
      const seen = new Set(plan.tracks.filter((t) => t.split === split).flatMap((t) => t.segments.map((s) => s.cls)));
      expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
  });

  it('has unannotated runs and frames without a crop, with -1 both true and given', () => {
    const unlabelled = plan.tracks.flatMap((t) => t.trueLabels.flatMap((l, k) => (l === -1 ? [[t, k] as const] : [])));
    expect(unlabelled.length).toBeGreaterThan(0);
    for (const [t, k] of unlabelled) expect(t.givenLabels[k]).toBe(-1);
    const missing = plan.tracks.flatMap((t) => t.missingCrops);
    expect(missing.length).toBeGreaterThan(0);
    for (const t of plan.tracks) for (const f of t.missingCrops) expect(f >= 1 && f <= t.frames).toBe(true);
  });

  for (const kind of NOISE_KINDS) {
    it(`${kind} noise hits the requested rate on train and leaves validation clean`, () => {
      for (const rate of [0.1, 0.3, 0.45]) {
        const p = planDemoData({ ...defaults, noiseKind: kind, noise: rate });
        let wrong = 0;
        let labelled = 0;
        for (const t of p.tracks) {
          t.trueLabels.forEach((l, k) => {
            if (t.split === VALIDATION_SPLIT) expect(t.givenLabels[k]).toBe(l);
            else if (l >= 0) {
              labelled++;
              if (t.givenLabels[k] !== l) wrong++;
            }
          });
        }
        expect(p.trainLabelled).toBe(labelled);
        expect(p.noisy).toBe(wrong);
        expect(Math.abs(wrong / labelled - rate)).toBeLessThan(0.01);
      }
    });
  }

  it('is deterministic for a seed and differs for another seed', () => {
    const again = planDemoData(defaults);
    expect(again.tracks.map((t) => t.givenLabels)).toEqual(plan.tracks.map((t) => t.givenLabels));
    expect(again.tracks.map((t) => t.trueLabels)).toEqual(plan.tracks.map((t) => t.trueLabels));
    const other = planDemoData({ ...defaults, seed: 2 });
    expect(other.tracks.map((t) => t.trueLabels)).not.toEqual(plan.tracks.map((t) => t.trueLabels));
  });

  it('works for tiny videos', () => {
    const p = planDemoData({ ...defaults, videos: 2, frames: 1 });
    for (const t of p.tracks) {
      expect(t.frames).toBe(1);
      expect(t.trueLabels).toHaveLength(1);
    }
  });
});

describe('trackDrawing', () => {
  const plan = planDemoData({ ...defaults, videos: 4, frames: 60 });
  const track = plan.tracks[0];
  const drawing = trackDrawing(track);

  it('changes pose and expression smoothly between neighbouring frames', () => {
    for (let k = 1; k < track.frames; k++) {
      const a = drawing.frame(k - 1);
      const b = drawing.frame(k);
      expect(Math.abs(a.pose.cx - b.pose.cx)).toBeLessThan(0.01);
      expect(Math.abs(a.pose.roll - b.pose.roll)).toBeLessThan(0.03);
      expect(Math.abs(a.expression.curve - b.expression.curve)).toBeLessThan(0.6);
      expect(Math.abs(a.expression.browAngle - b.expression.browAngle)).toBeLessThan(0.6);
    }
  });

  it('marks the frames without a crop as turned away', () => {
    const t = plan.tracks.find((x) => x.missingCrops.length > 0)!;
    const d = trackDrawing(t);
    for (let k = 0; k < t.frames; k++) expect(d.frame(k).turnedAway).toBe(t.missingCrops.includes(k + 1));
  });
});
