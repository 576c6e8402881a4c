import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { cctLoss, createCctOptimizers, disposeCctOptimizers, optimizerVariableOrder } from '../../../src/trainer/cct';
import { applyAdam } from '../../../src/trainer/fused-adam';
import { createResNet, disposeResNet, forward } from '../../../src/trainer/resnet';
import { registerWasmTrainingKernels } from '../../../src/trainer/wasm-kernels';
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
    registerWasmTrainingKernels(); // wasm ships no Conv2DBackpropFilter
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

  it('the next convolution sees the updated filter (XNNPACK caches operators per filter buffer)', () => {
    const before = tf.memory().numTensors;
    const w = tf.tidy(() => tf.variable(tf.tensor4d(values(3 * 3 * 4 * 6, 1), [3, 3, 4, 6]), true, `conv-filter-${++uid}`));
    const x = tf.tensor4d(values(2 * 5 * 5 * 4, 2), [2, 5, 5, 4]);
    const opt = tf.train.adam(0.1);
    tf.tidy(() => tf.conv2d(x, w, 1, 'same').dataSync()); // builds and caches the operator for w's buffer
    const g = tf.tensor4d(values(w.size, 3), w.shape as [number, number, number, number]);
    applyAdam(opt, [{ name: w.name, tensor: g }]);
    const seen = tf.tidy(() => Array.from(tf.conv2d(x, w, 1, 'same').dataSync()));
    const fresh = tf.tidy(() =>
      Array.from(tf.conv2d(x, tf.tensor4d(w.dataSync(), w.shape as [number, number, number, number]), 1, 'same').dataSync()),
    );
    expect(seen).toEqual(fresh);
    tf.dispose([w, x, g]);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('three training steps of a tiny ResNet on wasm give the stock optimiser’s weights exactly', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(values(4 * 32 * 32 * 3, 7), [4, 32, 32, 3]);
    const y = tf.tensor1d([0, 3, 5, 6], 'int32');
    const runs = [false, true].map((fused) => {
      const net = createResNet({ depth: 'tiny', inputSize: 32, numClasses: 7 }, 1);
      const opt = createCctOptimizers();
      const order = optimizerVariableOrder([net]);
      const vars = [...order.backbone, ...order.head].map((e) => e.variable);
      for (let step = 0; step < 3; step++) {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => cctLoss([forward(net, x, true)], y, 0).total, vars);
          for (const [o, part] of [
            [opt.backbone, order.backbone],
            [opt.head, order.head],
          ] as const) {
            const g = part.map((e) => ({ name: e.variable.name, tensor: grads[e.variable.name] }));
            if (fused) applyAdam(o, g);
            else o.applyGradients(g);
          }
        });
      }
      const weights = vars.map((v) => Array.from(v.dataSync()));
      disposeCctOptimizers(opt);
      disposeResNet(net);
      return weights;
    });
    expect(runs[1]).toEqual(runs[0]);
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
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
