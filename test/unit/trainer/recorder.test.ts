import { describe, expect, it } from 'vitest';
import { openDb } from '../../../src/store/db';
import { getRun } from '../../../src/store/runs';
import { stepCount, stepPage } from '../../../src/store/steps';
import { RunRecorder, STEP_BATCH, STEP_FLUSH_MS, type RunConfigRecord } from '../../../src/trainer/recorder';
import { parseTrainConfig } from '../../../src/trainer/config';
import type { StepReport } from '../../../src/trainer/protocol';
import { tempDir } from '../../helpers/tmp';

const step = (epoch: number, s: number, steps: number): StepReport => ({
  epoch,
  step: s,
  steps,
  loss: { total: 1 / s, sup: 0.5 / s, cons: 0.5 / s },
  lambda: 0.1,
  lr: 1e-3,
  imagesPerSec: 12,
});

function recorder() {
  const dir = tempDir();
  const db = openDb(dir, { create: true });
  const record: RunConfigRecord = { ...parseTrainConfig({ model: 'tiny', inputSize: 48 }), classes: 7, mode: 'train' };
  return { db, rec: RunRecorder.create(db, dir, { kind: 'train', record, parentRunId: null }) };
}

describe('run recorder steps', () => {
  it('writes steps in batches of STEP_BATCH, one transaction each, and the rest when the run ends', () => {
    const { db, rec } = recorder();
    const steps = STEP_BATCH * 2 + 7;
    const t0 = Date.now();
    for (let s = 1; s <= steps; s++) rec.step(step(0, s, steps), t0);
    expect(rec.stepBatches).toBe(2);
    expect(stepCount(db, rec.runId)).toBe(STEP_BATCH * 2);
    rec.done();
    expect(rec.stepBatches).toBe(3);
    const stored = stepPage(db, rec.runId, { limit: 10_000 }).steps;
    expect(stored).toHaveLength(steps);
    expect(stored[0]).toEqual({
      x: 1,
      epoch: 0,
      step: 1,
      loss: { total: 1, sup: 0.5, cons: 0.5 },
      lambda: 0.1,
      lr: 1e-3,
      imagesPerSec: 12,
    });
    db.close();
  });

  it('flushes a slow run after STEP_FLUSH_MS, and on pause and cancel', () => {
    const { db, rec } = recorder();
    const t0 = Date.now();
    rec.step(step(1, 1, 10), t0);
    expect(stepCount(db, rec.runId)).toBe(0);
    rec.step(step(1, 2, 10), t0 + STEP_FLUSH_MS + 1);
    expect(stepCount(db, rec.runId)).toBe(2);
    expect(stepPage(db, rec.runId, { limit: 10 }).steps.map((s) => s.x)).toEqual([11, 12]);
    rec.step(step(1, 3, 10), t0 + STEP_FLUSH_MS + 2);
    rec.pauseChanged('paused');
    expect(stepCount(db, rec.runId)).toBe(3);
    rec.step(step(1, 4, 10), t0 + STEP_FLUSH_MS + 3);
    rec.cancelled();
    expect(stepCount(db, rec.runId)).toBe(4);
    db.close();
  });

  it('a resumed run forgets the steps past its checkpoint, which it trains again', () => {
    const { db, rec } = recorder();
    for (let e = 0; e < 3; e++) for (let s = 1; s <= 4; s++) rec.step(step(e, s, 4));
    rec.cancelled();
    expect(stepCount(db, rec.runId)).toBe(12);
    const again = RunRecorder.existing(db, tempDir(), getRun(db, rec.runId)!, {
      ...parseTrainConfig({ model: 'tiny', inputSize: 48 }),
      classes: 7,
      mode: 'train',
    });
    const epoch = (n: number) => ({
      epoch: n,
      loss: { total: 1, sup: 1, cons: 0 },
      lambda: 0,
      lr: 1e-3,
      imagesPerSec: 1,
      etaSeconds: null,
      val: null,
    });
    again.resumed([epoch(0), epoch(1)]);
    expect(stepPage(db, rec.runId, { limit: 100 }).steps.map((s) => s.epoch)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    db.close();
  });
});
