import { afterEach, describe, expect, it } from 'vitest';
import {
  countPredictions,
  decodeProbs,
  framesWithPredictions,
  iteratePredictions,
  latestPredictedRun,
  predictedFrameIds,
  putPredictions,
  runHasPredictions,
  videoPredictions,
} from '../../../src/store/predictions';
import { createRun, latestRun, updateRun } from '../../../src/store/runs';
import { addRun, C, makeProject, nets, peaked, type TestProject } from './fixtures';

let p: TestProject;
afterEach(() => p?.cleanup());

describe('predictions store', () => {
  it('writes a batch, counts it, and refuses a wrong number of probabilities without writing any', () => {
    p = makeProject([{ name: 'v', labels: [0, 1, 2] }]);
    const f = (i: number) => p.frame('v', i);
    const runId = addRun(p.db, 2, [
      [f(1), nets(peaked(0), peaked(0))],
      [f(3), nets(peaked(2), peaked(4))],
    ]);
    expect(countPredictions(p.db, runId)).toBe(2);
    expect(predictedFrameIds(p.db, runId)).toEqual(new Set([f(1), f(3)]));
    expect(runHasPredictions(p.db, runId)).toBe(true);
    expect(() =>
      putPredictions(p.db, runId, 2, C, [
        { frameId: f(2), probs: nets(peaked(1), peaked(1)) },
        { frameId: f(2), probs: new Float32Array(3) },
      ]),
    ).toThrow(`frame ${f(2)}: expected ${2 * C} probabilities, got 3`);
    expect(countPredictions(p.db, runId)).toBe(2);
  });

  it('decodes a blob that is not 4-byte aligned', () => {
    const probs = Float32Array.from([0.25, 0.5, 0.125]);
    const bytes = Buffer.alloc(13);
    Buffer.from(probs.buffer).copy(bytes, 1);
    expect(Array.from(decodeProbs(bytes.subarray(1)))).toEqual([0.25, 0.5, 0.125]);
  });

  it('the newest run with predictions is not the newest run with a checkpoint', () => {
    p = makeProject([{ name: 'v', labels: [0] }]);
    expect(latestPredictedRun(p.db)).toBeUndefined();
    const predicted = addRun(p.db, 1, [[p.frame('v', 1), nets(peaked(0))]]);
    const trained = createRun(p.db, { kind: 'train', config: {} });
    updateRun(p.db, trained, { checkpoint_dir: 'ckpt' });
    expect(latestPredictedRun(p.db)?.id).toBe(predicted);
    expect(latestRun(p.db)?.id).toBe(trained);
    expect(runHasPredictions(p.db, trained)).toBe(false);
  });

  it('reads a video in frame order: scoring arrays and a window of frames', () => {
    p = makeProject([{ name: 'v', labels: [0, 1, 2, 3], hasFace: [1, 1, 0, 1] }]);
    const f = (i: number) => p.frame('v', i);
    const runId = addRun(p.db, 2, [
      [f(4), nets(peaked(3), peaked(3))],
      [f(1), nets(peaked(0), peaked(4))],
    ]);
    const videoId = (p.db.prepare('SELECT video_id FROM frames WHERE id = ?').get(f(1)) as { video_id: number }).video_id;
    const vp = videoPredictions(p.db, runId, videoId)!;
    expect(vp).toMatchObject({ frameIds: [f(1), f(4)], idx: [1, 4], labels: [0, 3], nets: 2, classes: C });
    expect(vp.probs).toHaveLength(2 * 2 * C);
    expect(vp.probs[C + 4]).toBeCloseTo(0.9, 6);
    expect(videoPredictions(p.db, runId, 999)).toBeNull();

    const near = framesWithPredictions(p.db, runId, videoId, 1, 3);
    expect(near.map((n) => [n.idx, n.hasFace, n.current, n.prediction?.nets ?? null])).toEqual([
      [1, true, 0, 2],
      [2, true, 1, null],
      [3, false, 2, null],
    ]);
    expect(near[0]!.imagePath.endsWith('/v/00001.jpg')).toBe(true);
    expect(framesWithPredictions(p.db, null, videoId, 1, 4).every((n) => n.prediction === null)).toBe(true);

    // two iterations of one run at once each get their own statement
    const outer = [...iteratePredictions(p.db, runId)].map((r) => r.frameId);
    const nested: number[] = [];
    for (const a of iteratePredictions(p.db, runId))
      for (const b of iteratePredictions(p.db, runId)) nested.push(a.frameId * 1000 + b.frameId);
    expect(outer).toEqual([f(1), f(4)]);
    expect(nested).toHaveLength(4);
  });
});
