import { describe, expect, it } from 'vitest';
import { duration, num, pct, thin, ticks, visibleRange } from '../../../src/renderer/src/format';
import { isTrainJob, jobLabel, JOB_LABELS } from '../../../src/renderer/src/jobs';
import { importIssues, importSummary } from '../../../src/renderer/src/stores/project';
import { defaultForm, formToConfig } from '../../../src/renderer/src/stores/training';
import { parseTrainConfig } from '../../../src/trainer/config';

describe('renderer logic', () => {
  it('renders only the rows in view for a 100k-item grid', () => {
    const rows = Math.ceil(100_000 / 5);
    const r = visibleRange(196 * 10_000, 600, 196, rows, 2);
    expect(r.first).toBe(9998);
    expect(r.last).toBe(10_006);
    expect(visibleRange(0, 600, 196, 0)).toEqual({ first: 0, last: -1 });
    expect(visibleRange(1e9, 600, 196, 3).last).toBe(2);
  });

  it('makes nice ticks and thins long series keeping the last point', () => {
    expect(ticks(0, 1, 4)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(ticks(3, 3)).toEqual([3]);
    const pts = Array.from({ length: 10_000 }, (_, i) => i);
    const t = thin(pts, 500);
    expect(t.length).toBe(500);
    expect(t[t.length - 1]).toBe(9999);
  });

  it('formats numbers, percentages and durations', () => {
    expect(pct(0.4567)).toBe('45.7 %');
    expect(pct(null)).toBe('—');
    expect(num(0.00001)).toBe('1.00e-5');
    expect(duration(3725)).toBe('1 h 2 min');
    expect(duration(null)).toBe('—');
  });

  it('names every job kind for people and tells training jobs apart', () => {
    expect(jobLabel('train.finetune')).toBe('Fine-tuning');
    expect(jobLabel('infer')).toBe('Inference');
    for (const label of Object.values(JOB_LABELS)) expect(label).not.toMatch(/\./);
    expect(['train.train', 'train.finetune', 'train.pretrain'].every((k) => isTrainJob(k as never))).toBe(true);
    expect(isTrainJob('infer')).toBe(false);
    expect(isTrainJob('import.abaw')).toBe(false);
  });

  it('lists per-file import errors and warnings', () => {
    const result = {
      videos: [
        { name: 'a', outcome: 'inserted', lines: 10 },
        { name: 'b', outcome: 'failed', error: 'b.txt: line 3: label 9 out of range' },
      ],
      warnings: [{ file: '/x/a.txt', line: null, reason: '2 crops missing' }],
      errors: [{ file: '/x/b.txt', line: 3, reason: 'label 9 out of range' }],
      frames: 10,
    };
    const issues = importIssues(result);
    expect(issues).toHaveLength(3);
    expect(issues[0]).toEqual({ file: '/x/b.txt', line: 3, reason: 'label 9 out of range', severity: 'error' });
    expect(importSummary(result)).toBe('1 of 2 videos imported, 10 frames');
  });

  it("sends a config the trainer's schema accepts", () => {
    const cfg = parseTrainConfig(formToConfig(defaultForm()), 'ui');
    expect(cfg.model).toBe('tiny');
    expect(cfg.augment.flip?.p).toBe(0.5);
    const off = defaultForm();
    off.augment.erase = false;
    off.rampUp = 2;
    expect(parseTrainConfig(formToConfig(off)).augment.erase?.p).toBe(0);
  });
});
