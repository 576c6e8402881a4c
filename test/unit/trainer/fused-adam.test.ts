import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { applyAdam } from '../../../src/trainer/fused-adam';
import { values } from '../../helpers/values';

const SHAPES = [[3, 3, 4, 5], [5], [7, 2]];
let uid = 0;

function makeVars(tag: string): tf.Variable[] {
  uid++;
  // tidy frees the initial values; variables outlive it
  return tf.tidy(() =>
    SHAPES.map((shape, i) =>
      tf.variable(
        tf.tensor(
          values(
            shape.reduce((a, b) => a * b, 1),
            10 + i,
          ),
          shape,
        ),
        true,
        `${tag}${uid}_${i}`,
      ),
    ),
  );
}

function grads(vars: tf.Variable[], step: number): { name: string; tensor: tf.Tensor }[] {
  // mixed magnitudes, exact zeros included, so the bias correction and epsilon both matter
  return vars.map((v, i) => ({
    name: v.name,
    tensor: tf.tensor(
      values(v.size, 100 * step + i).map((x, k) => (k % 7 === 0 ? 0 : x * 10 ** (i - 2))),
      v.shape,
    ),
  }));
}

/** Runs 4 steps (learning rate changed half-way) with `apply`; returns weights and the optimiser state. */
async function run(apply: (opt: tf.AdamOptimizer, g: { name: string; tensor: tf.Tensor }[]) => void, shareFirst = false) {
  const vars = makeVars('adam');
  const opt = tf.train.adam(1e-2, 0.9, 0.999, 1e-8);
  const shared = shareFirst ? vars[0].clone() : null;
  const sharedBefore = shared ? Array.from(shared.dataSync()) : null;
  for (let step = 0; step < 4; step++) {
    if (step === 2) (opt as unknown as { learningRate: number }).learningRate = 3e-3;
    const g = grads(vars, step);
    apply(opt, g);
    tf.dispose(g.map((x) => x.tensor));
  }
  const weights = vars.map((v) => Array.from(v.dataSync()));
  const state = await opt.getWeights();
  const stateValues = state.map((s) => ({ name: s.name.replace(/^adam\d+_/, ''), values: Array.from(s.tensor.dataSync()) }));
  const sharedAfter = shared ? Array.from(shared.dataSync()) : null;
  state[0].tensor.dispose(); // the iteration count is a fresh scalar; the rest are the live moments
  opt.dispose();
  tf.dispose([...vars, ...(shared ? [shared] : [])]);
  return { weights, stateValues, sharedBefore, sharedAfter };
}

describe('applyAdam', () => {
  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  it('on wasm equals AdamOptimizer.applyGradients bit for bit: weights, both moments, iterations', async () => {
    const before = tf.memory().numTensors;
    const stock = await run((opt, g) => opt.applyGradients(g));
    const fused = await run(applyAdam);
    expect(fused.weights).toEqual(stock.weights);
    expect(fused.stateValues).toEqual(stock.stateValues);
    expect(fused.stateValues[0].values).toEqual([4]); // iterations advanced once per call
    // the update did move every weight that had a non-zero gradient history
    expect(fused.weights[0].some((w, k) => w !== values(fused.weights[0].length, 10)[k])).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves a tensor that shares a variable’s data untouched (stock path for that variable)', async () => {
    const stock = await run((opt, g) => opt.applyGradients(g));
    const fused = await run(applyAdam, true);
    expect(fused.weights).toEqual(stock.weights);
    expect(fused.sharedAfter).toEqual(fused.sharedBefore);
  });

  it('names a gradient whose variable does not exist', () => {
    const opt = tf.train.adam(1e-3);
    const g = tf.zeros([2]);
    expect(() => applyAdam(opt, [{ name: 'no-such-variable', tensor: g }])).toThrow(/no variable named no-such-variable/);
    g.dispose();
    opt.dispose();
  });

  it('on cpu is applyGradients itself', async () => {
    await tf.setBackend('cpu');
    try {
      const stock = await run((opt, g) => opt.applyGradients(g));
      const fused = await run(applyAdam);
      expect(fused.weights).toEqual(stock.weights);
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
