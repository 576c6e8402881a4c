import { describe, expect, it } from 'vitest';
import { logTicks, seriesCsv, smoothEma, toCsv, windowPoints, zoomWindow } from '../../../src/renderer/src/chart-math';
import { configDiff, flattenConfig, showValue } from '../../../src/renderer/src/config-diff';
import { CPU_RECIPE, describeRecipe, GPU_RECIPE, recipeFor } from '../../../src/renderer/src/recipe';
import { configToSend, defaultForm, expectedRecipe, stepsCsv, STEPS_CSV_HEADER } from '../../../src/renderer/src/stores/training';
import { defaultRecipe } from '../../../src/trainer/config';
import type { RunSummary } from '../../../src/shared/api';

describe('chart math', () => {
  it("smooths like TensorBoard's debiased EMA", () => {
    const pts = [1, 2, 3, 4].map((y, x) => ({ x, y }));
    expect(smoothEma(pts, 0)).toEqual(pts);
    const s = smoothEma(pts, 0.5);
    expect(s[0]!.y).toBeCloseTo(1); // debiased: the first point is itself, not pulled to 0
    expect(s[1]!.y).toBeCloseTo((0.5 * 0.5 * 1 + 0.5 * 2) / (1 - 0.25));
    const flat = smoothEma(
      Array.from({ length: 50 }, (_, x) => ({ x, y: 3 })),
      0.99,
    );
    for (const p of flat) expect(p.y).toBeCloseTo(3);
    expect(
      smoothEma(
        [
          { x: 0, y: 1 },
          { x: 1, y: NaN },
          { x: 2, y: 1 },
        ],
        0.6,
      )[2]!.y,
    ).toBeCloseTo(1);
  });

  it('gives log ticks by decade, and zoom windows inside the data', () => {
    expect(logTicks(0.001, 10)).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks(0.5, 2).every((t) => t > 0)).toBe(true);
    expect(logTicks(0, 1)).toEqual([]);
    expect(zoomWindow(80, 20, [0, 100])).toEqual([20, 80]);
    expect(zoomWindow(-5, 200, [0, 100])).toEqual([0, 100]);
    expect(zoomWindow(50, 50.1, [0, 100])).toBeNull();
    const pts = Array.from({ length: 10 }, (_, x) => ({ x, y: x }));
    expect(windowPoints(pts, 3.5, 6.5).map((p) => p.x)).toEqual([3, 4, 5, 6, 7]);
  });

  it('writes CSV with a header and quoting', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          [1, 'x,y'],
          [NaN, null],
        ],
      ),
    ).toBe('a,b\n1,"x,y"\n,\n');
    expect(
      seriesCsv('epoch', [
        { name: 'acc', points: [{ x: 1, y: 0.5 }] },
        { name: 'f1', points: [{ x: 0, y: 0.2 }] },
      ]),
    ).toBe('epoch,acc,f1\n0,,0.2\n1,0.5,\n');
    const csv = stepsCsv([{ x: 7, epoch: 0, step: 7, loss: { total: 1, sup: 0.6, cons: 0.4 }, lambda: 0, lr: 0.001, imagesPerSec: 9.5 }]);
    expect(csv).toBe(`${STEPS_CSV_HEADER.join(',')}\n7,0,7,1,0.6,0.4,0,0.001,9.5\n`);
  });
});

describe('run comparison config diff', () => {
  it('flattens nested keys and keeps only the ones that differ', () => {
    expect(flattenConfig({ a: 1, split: { valFraction: 0.2, inner: { k: [1, 2] } } })).toEqual({
      a: 1,
      'split.valFraction': 0.2,
      'split.inner.k': [1, 2],
    });
    const rows = configDiff([
      { epochs: 3, model: 'tiny', split: { valFraction: 0.2, valVideos: ['a', 'b'] }, augment: { flip: { p: 0.5 } } },
      { epochs: 5, model: 'tiny', split: { valFraction: 0.2, valVideos: ['a', 'b'] }, augment: { flip: { p: 0.5 } } },
      { epochs: 3, model: 'tiny', split: { valFraction: 0.3, valVideos: ['a', 'b'] }, rampUp: null },
    ]);
    expect(rows).toEqual([
      { key: 'augment.flip.p', values: ['0.5', '0.5', '—'] },
      { key: 'epochs', values: ['3', '5', '3'] },
      { key: 'rampUp', values: ['—', '—', 'none'] },
      { key: 'split.valFraction', values: ['0.2', '0.2', '0.3'] },
    ]);
    expect(showValue(['a', 'b'])).toBe('a, b');
    expect(configDiff([{ a: 1 }, { a: 1 }])).toEqual([]);
  });
});

describe('backend default recipe', () => {
  it('matches the trainer’s defaultRecipe for GPU and CPU backends', () => {
    for (const [name, gpu] of [
      ['tensorflow-gpu', true],
      ['webgpu', true],
      ['tensorflow', false],
      ['wasm', false],
      ['cpu', false],
    ] as const) {
      const { gpu: isGpu, ...fields } = recipeFor(name);
      expect(isGpu).toBe(gpu);
      expect(fields).toEqual(defaultRecipe({ name }));
    }
    expect(recipeFor('webgpu', 'GPU (llvmpipe, software)')).toBe(CPU_RECIPE);
    expect(describeRecipe(GPU_RECIPE)).toBe('ResNet-18 at 112 px, 20 epochs (GPU)');
    expect(describeRecipe(CPU_RECIPE)).toBe('tiny at 48 px, 10 epochs, from the shipped pretrained weights (CPU)');
  });

  it('the preselected preset leaves model, input size, epochs and batch to the backend', () => {
    const sent = configToSend(defaultForm(), 'auto');
    for (const k of ['model', 'inputSize', 'epochs', 'batch']) expect(sent).not.toHaveProperty(k);
    expect(configToSend(defaultForm(), 'quick')).toMatchObject({ model: 'tiny', inputSize: 48 });
    const run = (backend: string, auto = true) =>
      ({ backend, device: null, config: auto ? { backend: 'auto' } : { backend } }) as unknown as RunSummary;
    expect(expectedRecipe('auto', [])).toBeNull();
    expect(expectedRecipe('auto', [run('wasm', false), run('tensorflow-gpu')])).toBe(GPU_RECIPE);
    expect(expectedRecipe('wasm', [run('tensorflow-gpu')])).toBe(CPU_RECIPE);
  });
});
