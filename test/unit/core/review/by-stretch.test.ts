// Scoring a cross-fit with the trained run's in-sample predictions beside it (flags.ts byStretch):
// a stretch of one label the cross-fit contradicts in good part keeps its out-of-sample flags (the
// trained run memorised it); elsewhere the trained run judges, so the cross-fit's mistakes on
// people it never saw do not become flags; each flag names the run whose predictions raised it.
import { afterEach, describe, expect, it } from 'vitest';
import { computeFlags, scoreRun, STRETCH_MIN_FRAMES } from '../../../../src/main/core/review/flags';
import { flaggedRunId } from '../../../../src/store/flags';
import { putPredictions } from '../../../../src/store/predictions';
import { createRun } from '../../../../src/store/runs';
import { predictionSource } from '../../../../src/main/core/review/out-of-sample';
import { addRun, makeProject, nets, peaked, type TestProject } from '../../store/fixtures';

let p: TestProject;
afterEach(() => p?.cleanup());

/**
 * One video of 40 frames. Given labels: 1-12 class 0 (truly 3: a mislabelled stretch), 13-40 class 1
 * except frame 14, class 2 (an isolated error; truly 1).
 * In-sample (trained run): memorised 1-12 as 0; says 1 on 13-40, frame 14 included.
 * Cross-fit: says 3 on 1-12 and 1 on 13-40, except 30-33 where it says 4 (wrong, a face it never
 * saw: 4 of the 26 frames of that stretch, under STRETCH_MIN_SHARE).
 */
function project(source = 'abaw'): { trained: number; crossfit: number } {
  const labels = Array.from({ length: 40 }, (_, i) => (i < 12 ? 0 : i === 13 ? 2 : 1));
  p = makeProject([{ name: 'v', labels, source }]);
  const f = (i: number) => p.frame('v', i);
  const all = (c: (i: number) => number) =>
    Array.from({ length: 40 }, (_, k): [number, Float32Array] => [f(k + 1), nets(peaked(c(k + 1)), peaked(c(k + 1)), peaked(c(k + 1)))]);
  const trained = addRun(
    p.db,
    3,
    all((i) => (i <= 12 ? 0 : 1)),
  );
  const crossfit = createRun(p.db, { kind: 'crossfit', config: { crossfit: { folds: 3 } } });
  const oos = all((i) => (i <= 12 ? 3 : i >= 30 && i <= 33 ? 4 : 1));
  putPredictions(
    p.db,
    crossfit,
    3,
    7,
    oos.map(([frameId, probs]) => ({ frameId, probs })),
  );
  return { trained, crossfit };
}

const flagged = (flags: { idx: number }[]) => flags.map((x) => x.idx).sort((a, b) => a - b);

describe('scoring a cross-fit by stretch', () => {
  it('keeps the cross-fit on a contradicted stretch and lets the trained run judge the rest', () => {
    const { trained, crossfit } = project();
    expect(STRETCH_MIN_FRAMES).toBeLessThanOrEqual(12);
    const alone = computeFlags(p.db, { runId: crossfit, smooth: 2, companion: null }).flags;
    // the cross-fit alone also flags its own mistake on 30-33
    expect(flagged(alone)).toEqual(expect.arrayContaining([1, 12, 14, 31, 32]));
    const { flags } = computeFlags(p.db, { runId: crossfit, smooth: 2 });
    expect(flagged(flags)).toEqual([...Array.from({ length: 12 }, (_, i) => i + 1), 14]);
    expect(flags.filter((x) => x.idx <= 12).every((x) => x.runId === crossfit && x.suggested === 3)).toBe(true);
    expect(flags.find((x) => x.idx === 14)).toMatchObject({ runId: trained, given: 2, suggested: 1 });
    // the trained run alone misses the memorised stretch
    expect(flagged(computeFlags(p.db, { runId: trained, smooth: 2 }).flags)).toEqual([14]);
  });

  it('stores each flag under the run that raised it, the scored run last, and says so in the source', () => {
    const { trained, crossfit } = project();
    scoreRun(p.db, { runId: crossfit, smooth: 2 });
    const runs = p.db.prepare("SELECT run_id, COUNT(*) n FROM flags WHERE status = 'open' GROUP BY run_id ORDER BY run_id").all();
    expect(runs).toEqual([
      { run_id: trained, n: 1 },
      { run_id: crossfit, n: 12 },
    ]);
    expect(flaggedRunId(p.db)).toBe(crossfit);
    expect(predictionSource(p.db, crossfit).text).toContain(`run ${trained} (in-sample) judges the other frames`);
  });

  it('judges an image list by stretch only where it names subjects: consecutive lines of one subject with one label', () => {
    // no subjects: an image list has no stretches, the cross-fit judges alone (and the source says so)
    let { trained, crossfit } = project('csv');
    expect(flagged(computeFlags(p.db, { runId: crossfit, smooth: 2 }).flags)).toEqual(expect.arrayContaining([1, 12, 14, 31, 32]));
    expect(predictionSource(p.db, crossfit).text).not.toContain('in-sample');
    p.cleanup();
    // one subject throughout: the same verdicts as the video's
    ({ trained, crossfit } = project('csv'));
    p.db.prepare("UPDATE frames SET subject = 'a'").run();
    const { flags } = computeFlags(p.db, { runId: crossfit, smooth: 2 });
    expect(flagged(flags)).toEqual([...Array.from({ length: 12 }, (_, i) => i + 1), 14]);
    expect(flags.find((x) => x.idx === 14)).toMatchObject({ runId: trained, suggested: 1 });
    expect(predictionSource(p.db, crossfit).text).toContain(`run ${trained} (in-sample) judges the other frames`);
    // lines 1-6 and 7-12 of two subjects: two stretches, each under STRETCH_MIN_FRAMES, go to the trained run
    p.db.prepare("UPDATE frames SET subject = CASE WHEN idx <= 6 THEN 'b' ELSE 'a' END").run();
    expect(flagged(computeFlags(p.db, { runId: crossfit, smooth: 2 }).flags)).toEqual([14]);
  });
});
