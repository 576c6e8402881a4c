// predictFlip: each network's probabilities averaged over the crop and its mirror image, with no
// tensor left behind.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { predictBatch } from '../../../src/trainer/infer';
import { createResNet, disposeResNet } from '../../../src/trainer/resnet';
import type { Batch } from '../../../src/trainer/data';

const S = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** count random NHWC images, and the same images mirrored left to right. */
function images(count: number, seed: number): { x: Float32Array; mirrored: Float32Array } {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const x = Float32Array.from({ length: count * S * S * 3 }, rand);
  const mirrored = new Float32Array(x.length);
  for (let n = 0; n < count; n++)
    for (let h = 0; h < S; h++)
      for (let w = 0; w < S; w++)
        for (let c = 0; c < 3; c++) mirrored[((n * S + h) * S + (S - 1 - w)) * 3 + c] = x[((n * S + h) * S + w) * 3 + c]!;
  return { x, mirrored };
}

const batch = (x: Float32Array, count: number): Batch => ({ x, labels: new Int32Array(count), frameIds: [], count, index: 0 });

describe('predictBatch with flip', () => {
  it('averages each network over the image and its mirror, and leaks no tensor', async () => {
    const nets = [0, 1].map((i) => createResNet({ depth: 'tiny', inputSize: S, numClasses: 7 }, 10 + i));
    try {
      const { x, mirrored } = images(3, 7);
      const plain = await predictBatch(nets, batch(x, 3), S);
      const mirror = await predictBatch(nets, batch(mirrored, 3), S);
      const before = tf.memory().numTensors;
      const flipped = await predictBatch(nets, batch(x, 3), S, true);
      expect(tf.memory().numTensors).toBe(before);
      // the networks are not mirror-invariant, so the average differs from the plain prediction
      expect(Math.max(...flipped[0]!.map((v, i) => Math.abs(v - plain[0]![i]!)))).toBeGreaterThan(1e-4);
      flipped.forEach((row, i) => {
        const expected = row.map((_, k) => (plain[i]![k]! + mirror[i]![k]!) / 2);
        row.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 5));
        // still a distribution per network
        for (let n = 0; n < 2; n++) expect(row.slice(n * 7, (n + 1) * 7).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      });
    } finally {
      nets.forEach(disposeResNet);
    }
  });
});
