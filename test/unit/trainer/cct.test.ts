import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cctLoss,
  createCctOptimizers,
  disposeCctOptimizers,
  ensembleProbs,
  getLearningRates,
  klDivergence,
  predict,
  setEpochLearningRates,
  trainStep,
} from '../../../src/trainer/cct';
import { registerFastCpuKernels } from '../../../src/trainer/cpu-kernels';
import { createResNet, disposeResNet, readWeights, type ResNet } from '../../../src/trainer/resnet';
import { deriveSeed } from '../../../src/trainer/rng';
import { lambdaAt } from '../../../src/trainer/schedule';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerFastCpuKernels();
});

const scalar = (t: tf.Scalar) => t.dataSync()[0];

// Two networks, one sample, two classes: p1 = softmax([0,0]) = (.5,.5), p2 = softmax([ln 3, 0]) = (.75,.25), y = 0.
// CE1 = ln 2 = 0.693147, CE2 = -ln .75 = 0.287682 → L_sup = 0.980829
// KL(p2‖p1) = .75 ln 1.5 + .25 ln .5 = 0.130812;  KL(p1‖p2) = .5 ln(2/3) + .5 ln 2 = 0.143841
const L1 = () => tf.tensor2d([[0, 0]]);
const L2 = () => tf.tensor2d([[Math.log(3), 0]]);

describe('cctLoss', () => {
  it('pins the KL direction: klDivergence(p, q) = KL(p‖q)', () => {
    tf.tidy(() => {
      expect(scalar(klDivergence(L2(), L1()))).toBeCloseTo(0.130812, 5);
      expect(scalar(klDivergence(L1(), L2()))).toBeCloseTo(0.143841, 5);
    });
  });

  it('matches the hand case for two networks', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0], 'int32');
      const { total, sup, cons } = cctLoss([L1(), L2()], y, 0.3);
      expect(scalar(sup)).toBeCloseTo(0.980829, 5);
      expect(scalar(cons)).toBeCloseTo(0.130812 + 0.143841, 5);
      expect(scalar(total)).toBeCloseTo(0.7 * 0.980829 + 0.3 * 0.274653, 5);
      const scaled = cctLoss([L1(), L2()], y, 0.3, { scaleByN: true });
      expect(scalar(scaled.sup)).toBeCloseTo(0.980829 / 2, 5);
      expect(scalar(scaled.cons)).toBeCloseTo(0.274653 / 2, 5);
      expect(scalar(cctLoss([L1(), L2()], y, 0).total)).toBeCloseTo(0.980829, 5);
      expect(scalar(cctLoss([L1(), L2()], y, 1).total)).toBeCloseTo(0.274653, 5);
    });
  });

  it('sums KL over all ordered pairs for three networks and averages CE over the batch', () => {
    tf.tidy(() => {
      const logits = [
        [
          [1, 0, -1],
          [0.5, 0.2, 0.1],
        ],
        [
          [0, 2, 0],
          [-1, 0, 3],
        ],
        [
          [0.3, 0.3, 0.3],
          [2, -2, 0],
        ],
      ];
      const labels = [2, 0];
      const softmax = (z: number[]) => {
        const e = z.map(Math.exp);
        const s = e.reduce((a, b) => a + b);
        return e.map((v) => v / s);
      };
      let sup = 0;
      let cons = 0;
      for (let j = 0; j < 3; j++) {
        for (let b = 0; b < 2; b++) sup += -Math.log(softmax(logits[j][b])[labels[b]]) / 2;
        for (let k = 0; k < 3; k++) {
          if (k === j) continue;
          for (let b = 0; b < 2; b++) {
            const pk = softmax(logits[k][b]);
            const pj = softmax(logits[j][b]);
            cons += pk.reduce((s, p, c) => s + p * Math.log(p / pj[c]), 0) / 2;
          }
        }
      }
      const out = cctLoss(
        logits.map((l) => tf.tensor2d(l)),
        tf.tensor1d(labels, 'int32'),
        0.6,
      );
      expect(scalar(out.sup)).toBeCloseTo(sup, 5);
      expect(scalar(out.cons)).toBeCloseTo(cons, 5);
      expect(scalar(out.total)).toBeCloseTo(0.4 * sup + 0.6 * cons, 5);
    });
  });

  it('one network: no consistency term, and λ from the schedule is 0 so the loss is plain CE', () => {
    tf.tidy(() => {
      const lambda = lambdaAt(50, { rampUp: 10, numNets: 1 });
      const out = cctLoss([L2()], tf.tensor1d([0], 'int32'), lambda);
      expect(lambda).toBe(0);
      expect(scalar(out.cons)).toBe(0);
      expect(scalar(out.total)).toBeCloseTo(0.287682, 5);
    });
  });

  it('sends consistency gradients into both networks (nothing detached), matching finite differences', () => {
    const y = tf.tensor1d([0], 'int32');
    const cons = (a: tf.Tensor2D, b: tf.Tensor2D) => cctLoss([a, b], y, 1).cons;
    const a0 = [0.2, -0.4];
    const b0 = [Math.log(3), 0];
    const [ga, gb] = tf.tidy(() =>
      tf
        .grads(cons as (...t: tf.Tensor[]) => tf.Scalar)([tf.tensor2d([a0]), tf.tensor2d([b0])])
        .map((g) => [...g.dataSync()]),
    );
    const f = (a: number[], b: number[]) => tf.tidy(() => scalar(cons(tf.tensor2d([a]), tf.tensor2d([b]))));
    const eps = 1e-3;
    for (let c = 0; c < 2; c++) {
      const da = [...a0];
      const db = [...b0];
      da[c] += eps;
      db[c] += eps;
      const dam = [...a0];
      const dbm = [...b0];
      dam[c] -= eps;
      dbm[c] -= eps;
      expect(ga[c]).toBeCloseTo((f(da, b0) - f(dam, b0)) / (2 * eps), 3);
      expect(gb[c]).toBeCloseTo((f(a0, db) - f(a0, dbm)) / (2 * eps), 3);
      expect(Math.abs(ga[c])).toBeGreaterThan(0.01);
      expect(Math.abs(gb[c])).toBeGreaterThan(0.01);
    }
    y.dispose();
  });

  it('rejects mismatched shapes and bad λ', () => {
    tf.tidy(() => {
      const y = tf.tensor1d([0], 'int32');
      expect(() => cctLoss([L1(), tf.tensor2d([[0, 0, 0]])], y, 0.5)).toThrow(/all logits must be \[1, 2\]/);
      expect(() => cctLoss([L1()], tf.tensor1d([0, 1], 'int32'), 0.5)).toThrow(/labels must be \[1\]/);
      expect(() => cctLoss([L1()], y, 1.5)).toThrow(/lambda/);
      expect(() => cctLoss([], y, 0.5)).toThrow(/at least one/);
    });
  });
});

describe('ensembleProbs', () => {
  it('is the mean of the softmaxes', () => {
    tf.tidy(() => {
      const p = ensembleProbs([L1(), L2()]).arraySync();
      expect(p[0][0]).toBeCloseTo(0.625, 6);
      expect(p[0][1]).toBeCloseTo(0.375, 6);
    });
  });
});

describe('training tiny networks', () => {
  const cfg = { depth: 'tiny' as const, inputSize: 32, numClasses: 7 };
  const B = 8;
  let nets: ResNet[];
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;

  beforeAll(() => {
    nets = [0, 1].map((i) => createResNet(cfg, deriveSeed(1, 'net', i)));
    // separable: the class (0-3) sets a strong constant offset in one colour channel (3: none)
    [x, y] = tf.tidy(() => {
      const labels = tf.tensor1d(
        Array.from({ length: B }, (_, i) => i % 4),
        'int32',
      );
      const signal = tf.oneHot(labels, 3).toFloat().reshape([B, 1, 1, 3]).mul(2);
      const noise = tf.randomNormal([B, 32, 32, 3], 0, 0.5, 'float32', 42);
      return [noise.add(signal) as tf.Tensor4D, labels as tf.Tensor1D];
    });
  });
  afterAll(() => {
    nets.forEach(disposeResNet);
    tf.dispose([x, y]);
  });

  it('loss falls over 30 steps without leaking tensors, and updates backbone and head', async () => {
    const opt = createCctOptimizers();
    const w0 = await readWeights(nets[0]);
    const first = await trainStep({ nets, optimizers: opt, x, y, lambda: 0.3 });
    const baseline = tf.memory().numTensors; // after the first step created Adam's moments
    let last = first;
    for (let s = 1; s < 30; s++) {
      last = await trainStep({ nets, optimizers: opt, x, y, lambda: lambdaAt(s / 10, { rampUp: 3, beta: 4 }) });
      expect(tf.memory().numTensors).toBe(baseline);
    }
    expect(Number.isFinite(last.total)).toBe(true);
    expect(last.sup).toBeLessThan(0.25 * first.sup);
    expect(last.total).toBeLessThan(0.5 * first.total);
    expect(first.cons).toBeGreaterThan(0);
    const w1 = await readWeights(nets[0]);
    expect([...w1.get('conv1.weight')!]).not.toEqual([...w0.get('conv1.weight')!]);
    expect([...w1.get('fc.weight')!]).not.toEqual([...w0.get('fc.weight')!]);
    expect([...w1.get('bn1.running_mean')!]).not.toEqual([...w0.get('bn1.running_mean')!]);

    const before = tf.memory().numTensors;
    const pred = await predict(nets, x);
    expect(tf.memory().numTensors).toBe(before);
    expect(pred.perNet).toHaveLength(2);
    expect(pred.ensemble).toHaveLength(B * 7);
    let correct = 0;
    const labels = y.dataSync();
    for (let b = 0; b < B; b++) {
      const row = [...pred.ensemble.subarray(b * 7, b * 7 + 7)];
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      if (row.indexOf(Math.max(...row)) === labels[b]) correct++;
    }
    expect(correct).toBeGreaterThanOrEqual(6);
    disposeCctOptimizers(opt);
  });

  it('uses two learning rates: a zero head rate leaves fc untouched while the backbone moves', async () => {
    const opt = createCctOptimizers({ headLr: 0 });
    const w0 = await readWeights(nets[1]);
    await trainStep({ nets, optimizers: opt, x, y, lambda: 0.5 });
    const w1 = await readWeights(nets[1]);
    expect([...w1.get('fc.weight')!]).toEqual([...w0.get('fc.weight')!]);
    expect([...w1.get('fc.bias')!]).toEqual([...w0.get('fc.bias')!]);
    expect([...w1.get('layer4.0.conv2.weight')!]).not.toEqual([...w0.get('layer4.0.conv2.weight')!]);
    disposeCctOptimizers(opt);
  });

  it('sets per-epoch learning rates as base · 0.95^epoch', () => {
    const opt = createCctOptimizers();
    expect(getLearningRates(opt)).toEqual({ backbone: 1e-3, head: 1e-2 });
    const lr = setEpochLearningRates(opt, 2);
    expect(lr.backbone).toBeCloseTo(9.025e-4, 12);
    expect(getLearningRates(opt).head).toBeCloseTo(9.025e-3, 12);
    disposeCctOptimizers(opt);
  });

  it('rejects labels outside [0, C)', async () => {
    const opt = createCctOptimizers();
    const bad = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, -1], 'int32');
    const before = tf.memory().numTensors;
    await expect(trainStep({ nets, optimizers: opt, x, y: bad, lambda: 0.5 })).rejects.toThrow(
      /label -1 at batch index 7 is outside \[0, 7\)/,
    );
    expect(tf.memory().numTensors).toBe(before);
    bad.dispose();
    disposeCctOptimizers(opt);
  });
});
