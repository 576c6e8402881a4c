import { describe, expect, it } from 'vitest';
import { blendExpression, expressionFor, neutralExpression } from '../../../../src/main/core/demo/expression';
import { renderBackground, renderFace, type FaceFrame } from '../../../../src/main/core/demo/faces';
import { createScratch } from '../../../../src/main/core/demo/raster';
import { randomAppearance } from '../../../../src/main/core/demo/plan';
import { createRng } from '../../../../src/main/core/demo/rng';

const size = 64;

function baseFrame(id: number): Omit<FaceFrame, 'expression'> {
  return {
    appearance: randomAppearance(createRng(id, 'face-test')),
    pose: { cx: 0.5, cy: 0.52, scale: 0.41, roll: 0.05, yaw: 0, gaze: 0 },
    lighting: { angle: 1, strength: 0.5, brightness: 0, contrast: 1, cast: [1, 1, 1], blur: 0, noise: 0 },
  };
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
};

describe('renderFace', () => {
  it('is deterministic and draws a face over the background', () => {
    const f = { ...baseFrame(1), expression: neutralExpression() };
    const bg = renderBackground(f.appearance, size, size);
    const a = renderFace(f, size, bg, createScratch(size, size, 9), 0);
    const b = renderFace(f, size, bg, createScratch(size, size, 9), 0);
    expect(a).toHaveLength(size * size * 3);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    // The centre pixel is skin, not background.
    const c = ((size / 2) * size + size / 2) * 3;
    const skin = f.appearance.skin;
    expect(Math.abs(a[c] - bg[c]) + Math.abs(a[c + 1] - bg[c + 1]) + Math.abs(a[c + 2] - bg[c + 2])).toBeGreaterThan(0);
    expect(Math.abs(a[c] - skin[0])).toBeLessThan(60);
  });

  it('draws the seven classes visibly differently for the same person and pose', () => {
    const ids = 8;
    const diff = Array.from({ length: 7 }, () => new Array<number>(7).fill(0));
    for (let id = 0; id < ids; id++) {
      const base = baseFrame(id);
      const bg = renderBackground(base.appearance, size, size);
      const scratch = createScratch(size, size, id);
      const imgs = Array.from({ length: 7 }, (_, c) =>
        renderFace({ ...base, expression: expressionFor(c, 0, 1, neutralExpression()) }, size, bg, scratch, 0),
      );
      for (let a = 0; a < 7; a++) for (let b = 0; b < 7; b++) diff[a][b] += meanAbsDiff(imgs[a], imgs[b]) / ids;
    }
    for (let a = 0; a < 7; a++) for (let b = a + 1; b < 7; b++) expect(diff[a][b], `classes ${a} vs ${b}`).toBeGreaterThan(0.8);
  });

  it('expression intensity moves the image gradually towards the prototype', () => {
    const base = baseFrame(3);
    const bg = renderBackground(base.appearance, size, size);
    const scratch = createScratch(size, size, 3);
    const neutral = renderFace({ ...base, expression: neutralExpression() }, size, bg, scratch, 0);
    const d = [0.3, 0.6, 1].map((t) =>
      meanAbsDiff(neutral, renderFace({ ...base, expression: expressionFor(6, 0, t, neutralExpression()) }, size, bg, scratch, 0)),
    );
    expect(d[0]).toBeGreaterThan(0);
    expect(d[1]).toBeGreaterThan(d[0]);
    expect(d[2]).toBeGreaterThan(d[1]);
    const half = blendExpression(neutralExpression(), expressionFor(6, 0, 1, neutralExpression()), 0.5);
    expect(half.open).toBeCloseTo((neutralExpression().open + 1) / 2, 5);
  });

  it('a turned-away head shows no face features', () => {
    const base = { ...baseFrame(4), expression: expressionFor(4, 0, 1, neutralExpression()) };
    const bg = renderBackground(base.appearance, size, size);
    const scratch = createScratch(size, size, 4);
    const face = renderFace(base, size, bg, scratch, 0);
    const away = renderFace({ ...base, turnedAway: true }, size, bg, scratch, 0);
    expect(meanAbsDiff(face, away)).toBeGreaterThan(5);
  });

  it('draws into a wider frame at a column offset (two faces in one video frame)', () => {
    const base = { ...baseFrame(5), expression: neutralExpression() };
    const bg = renderBackground(base.appearance, size, size);
    const alone = renderFace(base, size, bg, createScratch(size, size, 1), 0);
    const wide = new Uint8Array(size * 2 * size * 3);
    renderFace(base, size, bg, createScratch(size, size, 1), 0, wide, size, size * 2);
    for (let y = 0; y < size; y += 7) {
      const row = wide.subarray((y * size * 2 + size) * 3, (y * size * 2 + 2 * size) * 3);
      expect(Buffer.from(row).equals(Buffer.from(alone.subarray(y * size * 3, (y + 1) * size * 3)))).toBe(true);
    }
    expect(wide.subarray(0, size * 3).every((v) => v === 0)).toBe(true);
  });

  it('adds sensor noise and blur when asked', () => {
    const base = { ...baseFrame(6), expression: neutralExpression() };
    const bg = renderBackground(base.appearance, size, size);
    const scratch = createScratch(size, size, 6);
    const clean = renderFace(base, size, bg, scratch, 0);
    const noisy = renderFace({ ...base, lighting: { ...base.lighting, noise: 6 } }, size, bg, scratch, 0);
    const noisy2 = renderFace({ ...base, lighting: { ...base.lighting, noise: 6 } }, size, bg, scratch, 12345);
    const blurred = renderFace({ ...base, lighting: { ...base.lighting, blur: 1 } }, size, bg, scratch, 0);
    expect(meanAbsDiff(clean, noisy)).toBeGreaterThan(3);
    expect(meanAbsDiff(noisy, noisy2)).toBeGreaterThan(3); // other frames get other noise
    expect(meanAbsDiff(clean, blurred)).toBeGreaterThan(0.3);
  });
});
