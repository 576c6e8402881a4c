// Out-of-sample scoring's plan (folds, estimate, default) and what each run's predictions are.
import { afterEach, describe, expect, it } from 'vitest';
import { finishedRun, makeProject, nets, peaked, type TestProject } from '../../store/fixtures';
import { createRun, updateRun } from '../../../../src/store/runs';
import { putPredictions } from '../../../../src/store/predictions';
import {
  framePrediction,
  DEFAULT_MIN_GROUPS,
  MAX_FOLDS,
  MAX_IMAGE_FOLDS,
  OUT_OF_SAMPLE_BUDGET_S,
  outOfSamplePlan,
  predictionSource,
} from '../../../../src/main/core/review/out-of-sample';

let p: TestProject | null = null;
afterEach(() => {
  p?.cleanup();
  p = null;
});

const videos = (n: number, source = 'abaw') =>
  Array.from({ length: n }, (_, i) => ({ name: `v${i}`, split: i === 0 ? 'Validation_Set' : 'Train_Set', labels: [0, 1, 2], source }));

describe('outOfSamplePlan', () => {
  it('is not available with fewer than 3 video groups, and says why', () => {
    p = makeProject([
      { name: 'a_left', labels: [0] },
      { name: 'a_right', labels: [1] },
      { name: 'b', labels: [2] },
    ]);
    const plan = outOfSamplePlan(p.db);
    // both faces of video a are one group: 2 groups
    expect(plan).toMatchObject({ available: false, recommended: false, videoGroups: 2, folds: 2, maxFolds: 2 });
    expect(plan.reason).toMatch(/needs at least 3; this project has 2 videos/);
  });

  it('folds an image list by image: available with up to MAX_IMAGE_FOLDS folds, estimated like a video project', () => {
    p = makeProject(videos(4, 'csv'));
    expect(outOfSamplePlan(p.db)).toMatchObject({ available: true, videoGroups: 0, folds: MAX_FOLDS, maxFolds: MAX_IMAGE_FOLDS });
    finishedRun(p, 'train', 60);
    const plan = outOfSamplePlan(p.db);
    expect(plan).toMatchObject({ available: true, recommended: true, estimateSeconds: (MAX_FOLDS - 1) * 60 });
    expect(plan.basis).toContain('of the images');
    expect(plan.reason).toMatch(/folds of the images/);
  });

  it('folds an image list that names subjects by subject: the default needs as many subjects as video groups', () => {
    p = makeProject(videos(4, 'csv'));
    // 2 subjects: too few to fold by
    p.db.prepare("UPDATE frames SET subject = 's' || (id % 2)").run();
    expect(outOfSamplePlan(p.db)).toMatchObject({ available: false, imageSubjects: 2 });
    expect(outOfSamplePlan(p.db).reason).toMatch(/folds by subject and needs at least 3; its images name 2/);
    // 6 subjects: offered, capped at 6 folds, but fewer people than the default needs
    p.db.prepare("UPDATE frames SET subject = 's' || (id % 6)").run();
    finishedRun(p, 'train', 60);
    let plan = outOfSamplePlan(p.db);
    expect(plan).toMatchObject({ available: true, recommended: false, imageSubjects: 6, maxFolds: 6, folds: MAX_FOLDS });
    expect(plan.reason).toMatch(/with 6 subjects each fold trains on about 4 people/);
    // as many subjects as the default needs: the default, by subject
    p.db.prepare(`UPDATE frames SET subject = 's' || (id % ${DEFAULT_MIN_GROUPS})`).run();
    plan = outOfSamplePlan(p.db);
    expect(plan).toMatchObject({ available: true, recommended: true, imageSubjects: DEFAULT_MIN_GROUPS });
    expect(plan.reason).toMatch(new RegExp(`folds of the images by subject \\(${DEFAULT_MIN_GROUPS}\\)`));
    expect(plan.basis).toContain('of the subjects');
  });

  it('offers it without an estimate before any finished training run (a run with predictions but no checkpoint was not trained here)', () => {
    p = makeProject(videos(8));
    const seeded = createRun(p.db, { kind: 'train', config: {} });
    updateRun(p.db, seeded, { status: 'done', finished: true });
    const plan = outOfSamplePlan(p.db);
    expect(plan).toMatchObject({ available: true, recommended: false, folds: MAX_FOLDS, estimateSeconds: null });
    expect(plan.reason).toMatch(/train once first/);
  });

  it('estimates (K-1) times the newest finished training run and defaults to it within the budget', () => {
    p = makeProject(videos(DEFAULT_MIN_GROUPS));
    finishedRun(p, 'train', 10_000); // an older, slow run: not the basis
    const id = finishedRun(p, 'train', 90);
    const plan = outOfSamplePlan(p.db);
    expect(plan).toMatchObject({ available: true, recommended: true, folds: 3, estimateSeconds: 2 * 90, crossfitRun: null });
    expect(plan.basis).toContain(`run ${id} took 90 s`);
  });

  it('is offered but not the default with fewer than DEFAULT_MIN_GROUPS video groups, and says why', () => {
    p = makeProject(videos(8));
    finishedRun(p, 'train', 90);
    const plan = outOfSamplePlan(p.db);
    expect(plan).toMatchObject({ available: true, recommended: false, folds: 3, estimateSeconds: 2 * 90 });
    expect(plan.reason).toMatch(/8 video groups each fold trains on about 5 people.*in-sample is the default/);
  });

  it('is not the default when the estimate is over the budget', () => {
    p = makeProject(videos(4));
    finishedRun(p, 'train', OUT_OF_SAMPLE_BUDGET_S); // 3 folds: 2x the run
    const plan = outOfSamplePlan(p.db);
    expect(plan).toMatchObject({ available: true, recommended: false, folds: 3, maxFolds: 4, estimateSeconds: 2 * OUT_OF_SAMPLE_BUDGET_S });
    expect(plan.reason).toMatch(/in-sample is the default/);
  });

  it('names the newest finished cross-fit with predictions (not its fold children)', () => {
    p = makeProject(videos(6));
    finishedRun(p, 'train', 60);
    const parent = finishedRun(p, 'crossfit', 240, { crossfit: { folds: 5 } });
    finishedRun(p, 'crossfit', 50, { crossfit: { parentRunId: parent, folds: 5, fold: 0 } }, parent);
    expect(outOfSamplePlan(p.db).crossfitRun).toBeNull(); // no predictions yet
    putPredictions(p.db, parent, 3, 7, [{ frameId: p.frame('v1', 1), probs: nets(peaked(0), peaked(0), peaked(0)) }]);
    expect(outOfSamplePlan(p.db).crossfitRun).toBe(parent);
  });
});

describe('prediction sources', () => {
  it("a cross-fit's predictions are all out-of-sample; a training run's only on its validation videos", () => {
    p = makeProject(videos(4));
    const train = finishedRun(p, 'train', 60, { split: { valVideos: ['v0'] } });
    const cf = finishedRun(p, 'crossfit', 60, { crossfit: { folds: 4 } });
    expect(predictionSource(p.db, cf)).toMatchObject({ outOfSample: 'all', folds: 4 });
    expect(predictionSource(p.db, train)).toMatchObject({ outOfSample: 'validation', folds: null });
    expect(framePrediction(p.db, train, 'v0')).toMatchObject({ outOfSample: true });
    expect(framePrediction(p.db, train, 'v1')).toMatchObject({ outOfSample: false });
    expect(framePrediction(p.db, cf, 'v1')).toMatchObject({ outOfSample: true });
  });
});
