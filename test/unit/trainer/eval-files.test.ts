import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { HEADER7, tempDir, writeFile } from '../../helpers/tmp';
import { evaluateFiles, EvalFilesError, readLabelFile } from '../../../src/trainer/eval-files';
import { evalCommand } from '../../../src/main/cli/train';

function fixture(): { pred: string; gt: string; root: string } {
  const root = tempDir();
  const gt = join(root, 'gt');
  const pred = join(root, 'pred');
  writeFile(join(gt, 'Validation_Set', 'a.txt'), [HEADER7, 0, 1, 1, -1, 2].join('\n') + '\n');
  writeFile(join(gt, 'Validation_Set', 'b_left.txt'), [HEADER7, 6, 6, 0].join('\r\n') + '\r\n');
  // a has the header line, b_left does not: both are accepted.
  writeFile(join(pred, 'a.txt'), [HEADER7, 0, 1, 2, 3, 2].join('\n'));
  writeFile(join(pred, 'b_left.txt'), [6, 0, 0].join('\n') + '\n\n');
  return { pred, gt, root };
}

describe('evaluateFiles', () => {
  it('scores a hand-checked example pooled over all frames, skipping -1', () => {
    const { pred, gt, root } = fixture();
    const r = evaluateFiles({ predDir: pred, gtDir: gt });
    // pairs (true, pred): (0,0) (1,1) (1,2) (2,2) (6,6) (6,0) (0,0); the -1 frame predicted 3 is skipped
    expect(r.frames).toBe(7);
    expect(r.skippedUnannotated).toBe(1);
    expect(r.classes).toBe(7);
    expect(r.accuracy).toBeCloseTo(5 / 7, 12);
    // F1: class 0 = 2·2/(2+3) = 0.8; classes 1, 2, 6 = 2/3; classes 3, 4, 5 have nothing → 0
    expect(r.perClassF1[0]).toBeCloseTo(0.8, 12);
    expect(r.perClassF1[1]).toBeCloseTo(2 / 3, 12);
    expect(r.perClassF1[2]).toBeCloseTo(2 / 3, 12);
    expect(r.perClassF1[6]).toBeCloseTo(2 / 3, 12);
    expect(r.perClassF1[3]).toBe(0);
    expect(r.macroF1).toBeCloseTo(0.4, 12);
    expect(r.overall).toBeCloseTo(0.67 * 0.4 + 0.33 * (5 / 7), 12);
    expect(r.confusion[6]).toEqual([1, 0, 0, 0, 0, 0, 1]);
    expect(r.confusion[1]).toEqual([0, 1, 1, 0, 0, 0, 0]);
    expect(r.perFile.find((f) => f.video === 'a')).toEqual({ video: 'a', frames: 4, accuracy: 0.75 });
    rmSync(root, { recursive: true, force: true });
  });

  it('names the missing prediction file', () => {
    const { pred, gt, root } = fixture();
    rmSync(join(pred, 'b_left.txt'));
    expect(() => evaluateFiles({ predDir: pred, gtDir: gt })).toThrow(/b_left\.txt: prediction file missing for annotation .*b_left\.txt/);
    rmSync(root, { recursive: true, force: true });
  });

  it('rejects a prediction file whose line count differs, with both counts', () => {
    const { pred, gt, root } = fixture();
    writeFile(join(pred, 'a.txt'), [0, 1, 2, 3].join('\n'));
    expect(() => evaluateFiles({ predDir: pred, gtDir: gt })).toThrow(/a\.txt: has 4 prediction lines but .*a\.txt has 5 frame lines/);
    rmSync(root, { recursive: true, force: true });
  });

  it('reports a bad line with its number, and a class outside the set', () => {
    const root = tempDir();
    const f = writeFile(join(root, 'x.txt'), [HEADER7, 0, 'abc'].join('\n'));
    expect(() => readLabelFile(f)).toThrow(EvalFilesError);
    expect(() => readLabelFile(f)).toThrow(/x\.txt:3: "abc" is not an integer label/);
    writeFile(join(root, 'gt', 'v.txt'), [HEADER7, 7].join('\n'));
    writeFile(join(root, 'pred', 'v.txt'), '0\n');
    expect(() => evaluateFiles({ predDir: join(root, 'pred'), gtDir: join(root, 'gt') })).toThrow(
      /v\.txt:2: label 7 is outside 0\.\.6 \(use 8 classes/,
    );
    const r8 = evaluateFiles({ predDir: join(root, 'pred'), gtDir: join(root, 'gt'), classes: 8 });
    expect(r8.classes).toBe(8);
    expect(r8.accuracy).toBe(0);
    rmSync(root, { recursive: true, force: true });
  });

  it('prints the table and JSON through the eval command', async () => {
    const { pred, gt, root } = fixture();
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
    expect(await evalCommand(['--pred', pred, '--gt', gt, '--json'], io)).toBe(0);
    expect(JSON.parse(out[0]).macroF1).toBeCloseTo(0.4, 12);
    out.length = 0;
    expect(await evalCommand(['--pred', pred, '--gt', gt], io)).toBe(0);
    expect(out.join('\n')).toMatch(/accuracy 0\.7143 {2}macro F1 0\.4000/);
    expect(await evalCommand(['--pred', join(root, 'nope'), '--gt', gt], io)).toBe(1);
    expect(err.join('\n')).toMatch(/nope: folder not found/);
    rmSync(root, { recursive: true, force: true });
  });
});
