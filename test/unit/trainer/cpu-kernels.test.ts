import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFastCpuKernels } from '../../../src/trainer/cpu-kernels';

type Case = { x: [number, number, number, number]; f: [number, number, number, number]; stride: number; pad: 'valid' | 'same' | number };
const CASES: Case[] = [
  { x: [2, 9, 9, 3], f: [7, 7, 3, 4], stride: 2, pad: 3 }, // the ResNet stem, odd size
  { x: [2, 8, 8, 3], f: [3, 3, 3, 5], stride: 1, pad: 1 },
  { x: [1, 8, 6, 2], f: [3, 3, 2, 3], stride: 2, pad: 'same' }, // asymmetric padding
  { x: [3, 5, 5, 4], f: [1, 1, 4, 2], stride: 2, pad: 'valid' },
];

function filterGrads(): number[][] {
  return CASES.map((c, i) =>
    tf.tidy(() => {
      const x = tf.randomNormal(c.x, 0, 1, 'float32', i + 1) as tf.Tensor4D;
      const w = tf.randomNormal(c.f, 0, 1, 'float32', i + 5) as tf.Tensor4D;
      const g = tf.randomNormal(tf.conv2d(x, w, c.stride, c.pad).shape, 0, 1, 'float32', i + 10);
      // d/dW Σ conv(x, W)·g is exactly Conv2DBackpropFilter(x, g)
      const dW = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, c.stride, c.pad), g)))(w);
      return [...dW.dataSync()];
    }),
  );
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('registerFastCpuKernels', () => {
  it('gives the same filter gradients as the stock cpu kernel', () => {
    const stock = filterGrads();
    expect(registerFastCpuKernels()).toBe(true);
    expect(registerFastCpuKernels()).toBe(true); // idempotent
    const fast = filterGrads();
    fast.forEach((g, i) => {
      expect(g.length).toBe(stock[i].length);
      g.forEach((v, k) => expect(v).toBeCloseTo(stock[i][k], 4));
    });
  });
});
