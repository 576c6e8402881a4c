import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  WASM_TRAINING_KERNELS,
  batchNormTrain,
  registerWasmTrainingKernels,
  setConvGradStrategy,
  type ConvGradStrategy,
  unregisterWasmTrainingKernels,
  wasmTrainingKernelsRegistered,
} from '../../../src/trainer/wasm-kernels';
import { values } from '../../helpers/values';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Backend = 'wasm' | 'cpu';

function relErr(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** Runs fn on each backend with fresh tensors and returns its outputs as arrays; checks leaks. */
async function onBoth(fn: () => tf.Tensor[]): Promise<Record<Backend, Float32Array[]>> {
  const result = {} as Record<Backend, Float32Array[]>;
  for (const name of ['wasm', 'cpu'] as Backend[]) {
    await tf.setBackend(name);
    const before = tf.memory().numTensors;
    // Kernel intermediates live only in the backend, so count its buffers too.
    const buffersBefore = tf.backend().numDataIds();
    const outs = tf.tidy(fn);
    result[name] = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    expect(tf.memory().numTensors, `tensor leak on ${name}`).toBe(before);
    expect(tf.backend().numDataIds(), `buffer leak on ${name}`).toBe(buffersBefore);
  }
  return result;
}

function expectClose(r: Record<Backend, Float32Array[]>, label: string, tol = 1e-5): void {
  r.cpu.forEach((ref, i) => {
    const e = relErr(r.wasm[i], ref);
    expect(e, `${label} output ${i}: relative error ${e}`).toBeLessThan(tol);
  });
}

beforeAll(async () => {
  registerWasmTrainingKernels();
  expect(await tf.setBackend('wasm')).toBe(true);
  expect(await tf.setBackend('cpu')).toBe(true);
});

afterAll(() => {
  // Leave the registry as other test files in this worker expect it.
  unregisterWasmTrainingKernels();
});

describe('registerWasmTrainingKernels', () => {
  it('adds Conv2DBackpropFilter and is idempotent', () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    for (const name of WASM_TRAINING_KERNELS) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
  });

  it('restores the shipped kernels and registers again', () => {
    const shipped = tf.getKernel('Conv2DBackpropInput', 'wasm');
    unregisterWasmTrainingKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).not.toBe(shipped?.kernelFunc);
    registerWasmTrainingKernels();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(shipped?.kernelFunc);
  });
});

describe('conv2d gradients on wasm match cpu', () => {
  const B = 2;
  const CI = 3;
  const CO = 4;
  const cases: { k: number; s: number; pad: Pad; h: number; w: number; strategy: ConvGradStrategy }[] = [];
  for (const strategy of ['auto', 'matmul', 'conv'] as ConvGradStrategy[]) {
    for (let k = 1; k <= 7; k++) {
      for (let s = 1; s <= 3; s++) {
        // Numeric padding is what resnet.ts uses (torch-style symmetric padding).
        const pads: Pad[] = [
          'same',
          'valid',
          [
            [0, 0],
            [1, 2],
            [2, 0],
            [0, 0],
          ],
          Math.floor(k / 2),
        ];
        for (const pad of pads) {
          // One odd and one even height; width differs from height to catch axis mix-ups.
          for (const h of [k + 2 + (k % 2), k + 3 + (k % 2)]) cases.push({ k, s, pad, h, w: h + 1, strategy });
        }
      }
    }
    // Outputs that start entirely inside the padding, and padding wider than the kernel.
    cases.push({
      k: 1,
      s: 2,
      pad: [
        [0, 0],
        [3, 4],
        [0, 5],
        [0, 0],
      ],
      h: 3,
      w: 4,
      strategy,
    });
    cases.push({
      k: 2,
      s: 3,
      pad: [
        [0, 0],
        [4, 0],
        [0, 4],
        [0, 0],
      ],
      h: 5,
      w: 6,
      strategy,
    });
    cases.push({
      k: 3,
      s: 1,
      pad: [
        [0, 0],
        [0, 3],
        [3, 0],
        [0, 0],
      ],
      h: 4,
      w: 5,
      strategy,
    });
  }

  afterAll(() => setConvGradStrategy({ input: 'auto', filter: 'auto' }));

  it.each(cases)('$strategy k=$k s=$s pad=$pad in=$h x $w', async ({ k, s, pad, h, w, strategy }) => {
    setConvGradStrategy({ input: strategy, filter: strategy });
    const xv = values(B * h * w * CI, k * 100 + s * 10 + h);
    const wv = values(k * k * CI * CO, k * 7 + s);
    let outShape: number[] = [];
    // Probe the forward shape once to make dy.
    tf.tidy(() => {
      outShape = tf.conv2d(tf.tensor4d(xv, [B, h, w, CI]), tf.tensor4d(wv, [k, k, CI, CO]), s, pad).shape;
    });
    const dyv = values(
      outShape.reduce((a, b) => a * b, 1),
      k + s + h + 1,
    );
    const r = await onBoth(() => {
      const x = tf.tensor4d(xv, [B, h, w, CI]);
      const f = tf.tensor4d(wv, [k, k, CI, CO]);
      const dy = tf.tensor(dyv, outShape);
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), dy)))([
        x,
        f,
      ]);
      return [dx, df];
    });
    expectClose(r, `conv k=${k} s=${s}`);
  });

  it('uses the 1x1 matmul path with a larger batch and gives the same filter gradient', async () => {
    const xv = values(4 * 5 * 6 * 8, 1);
    const dyv = values(4 * 5 * 6 * 5, 2);
    const wv = values(8 * 5, 3);
    const r = await onBoth(() => {
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid'), tf.tensor4d(dyv, [4, 5, 6, 5]))),
      )([tf.tensor4d(xv, [4, 5, 6, 8]), tf.tensor4d(wv, [1, 1, 8, 5])]);
      return [dx, df];
    });
    expectClose(r, '1x1');
  });

  it('makes a conv net trainable on wasm (one SGD step lowers the loss)', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const w1 = tf.tidy(() => tf.variable<tf.Rank.R4>(tf.tensor4d(values(3 * 3 * 3 * 6, 9), [3, 3, 3, 6]).mul(0.3)));
    const w2 = tf.tidy(() => tf.variable<tf.Rank.R4>(tf.tensor4d(values(3 * 3 * 6 * 2, 8), [3, 3, 6, 2]).mul(0.3)));
    const x = tf.tensor4d(values(4 * 9 * 9 * 3, 7), [4, 9, 9, 3]);
    const loss = (): tf.Scalar =>
      tf.tidy(() => {
        const h = tf.relu(tf.conv2d(x, w1, 2, 'same'));
        const y = tf.conv2d(tf.maxPool(h, 2, 1, 'valid'), w2, 1, 'valid');
        return tf.mean(tf.square(tf.sub(y, 0.5))) as tf.Scalar;
      });
    const opt = tf.train.sgd(0.1);
    const value = (): number => {
      const l = loss();
      const v = l.dataSync()[0];
      l.dispose();
      return v;
    };
    const l0 = value();
    for (let i = 0; i < 3; i++) opt.minimize(loss, true)?.dispose();
    const l1 = value();
    expect(l1).toBeLessThan(l0);
    tf.dispose([w1, w2, x]);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('depthwise and pooling gradients on wasm match cpu', () => {
  const cases: { k: number; s: number; m: number; pad: 'same' | 'valid' }[] = [];
  for (const k of [1, 2, 3, 5])
    for (const s of [1, 2]) for (const m of [1, 2]) for (const pad of ['same', 'valid'] as const) cases.push({ k, s, m, pad });

  it.each(cases)('depthwise k=$k s=$s multiplier=$m $pad', async ({ k, s, m, pad }) => {
    const B = 2,
      H = 7,
      W = 6,
      C = 3;
    const xv = values(B * H * W * C, k + s + m);
    const wv = values(k * k * C * m, k * s * m);
    const r = await onBoth(() => {
      const x = tf.tensor4d(xv, [B, H, W, C]);
      const f = tf.tensor4d(wv, [k, k, C, m]);
      const fwd = (a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad);
      const y = fwd(x, f);
      const dy = tf.tensor(values(y.size, 5), y.shape);
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fwd(a, b), dy)))([x, f]);
      return [dx, df];
    });
    expectClose(r, `depthwise k=${k}`);
  });

  const pools: { k: number; s: number; pad: 'same' | 'valid' | number }[] = [];
  for (const k of [1, 2, 3]) for (const s of [1, 2, 3]) for (const pad of ['same', 'valid'] as const) pools.push({ k, s, pad });
  pools.push({ k: 3, s: 2, pad: 1 }); // resnet.ts stem max-pool (torch MaxPool2d(3, 2, padding=1))

  it.each(pools)('maxPool and avgPool k=$k s=$s $pad', async ({ k, s, pad }) => {
    const xv = values(2 * 7 * 8 * 3, k * 3 + s);
    const r = await onBoth(() => {
      const x = tf.tensor4d(xv, [2, 7, 8, 3]);
      const y = tf.maxPool(x, k, s, pad);
      const dy = tf.tensor(values(y.size, 11), y.shape);
      return [
        y,
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, s, pad), dy)))(x),
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(a as tf.Tensor4D, k, s, pad), dy)))(x),
      ];
    });
    expectClose(r, 'pool');
  });

  it('replaces the shipped wasm MaxPoolGrad, which drops the gradient of windows whose maximum is <= 0', async () => {
    unregisterWasmTrainingKernels();
    try {
      const xv = values(2 * 4 * 4, 3).map((v) => -Math.abs(v));
      const r = await onBoth(() => {
        const x = tf.tensor4d(xv, [2, 4, 4, 1]);
        return [
          tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), tf.range(1, 9).reshape([2, 2, 2, 1]))))(x),
        ];
      });
      // If a later tfjs fixes the kernel this fails, and the replacement can be dropped.
      expect(relErr(r.wasm[0], r.cpu[0])).toBeGreaterThan(1e-3);
    } finally {
      registerWasmTrainingKernels();
    }
  });
});

describe('batch norm', () => {
  /** The plain formula; its gradient comes from autodiff through tf.moments. */
  function plainBatchNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
  }

  it.each([
    { shape: [2, 3, 4, 5], backend: 'cpu' as Backend },
    { shape: [2, 3, 4, 5], backend: 'wasm' as Backend },
    { shape: [7, 3], backend: 'cpu' as Backend },
    { shape: [7, 3], backend: 'wasm' as Backend },
  ])('batchNormTrain $shape on $backend: value, statistics and gradients equal the formula', async ({ shape, backend }) => {
    await tf.setBackend(backend);
    const c = shape[shape.length - 1];
    const size = shape.reduce((a, b) => a * b, 1);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.tensor(values(size, 3), shape).mul(2).add(0.7);
      const g = tf.tensor1d(values(c, 4)).add(1.5);
      const b = tf.tensor1d(values(c, 5));
      const dy = tf.tensor(values(size, 6), shape);
      const eps = 1e-3;
      const ours = batchNormTrain(x, g, b, eps);
      const ref = plainBatchNorm(x, g, b, eps);
      expect(relErr(ours.y.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
      const axes = Array.from({ length: shape.length - 1 }, (_, i) => i);
      const m = tf.moments(x, axes);
      expect(relErr(ours.mean.dataSync(), m.mean.dataSync())).toBeLessThan(1e-6);
      expect(relErr(ours.variance.dataSync(), m.variance.dataSync())).toBeLessThan(1e-6);
      const gOurs = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(batchNormTrain(a, gg, bb, eps).y, dy)))([
        x,
        g,
        b,
      ]);
      const gRef = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(plainBatchNorm(a, gg, bb, eps), dy)))([x, g, b]);
      gOurs.forEach((t, i) => {
        expect(t.shape).toEqual(gRef[i].shape);
        const e = relErr(t.dataSync(), gRef[i].dataSync());
        expect(e, `gradient ${i}: ${e}`).toBeLessThan(1e-5);
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('batchNormTrain names the bad shape', () => {
    tf.tidy(() => {
      expect(() => batchNormTrain(tf.zeros([2, 3]), tf.ones([4]), tf.zeros([3]))).toThrow(/3 elements/);
    });
  });

  it('the Tile-free FusedBatchNorm gradient equals autodiff of the formula on wasm and cpu', async () => {
    const shape = [2, 3, 3, 4];
    const r = await onBoth(() => {
      const x = tf.tensor4d(values(72, 1), shape as [number, number, number, number]);
      const mean = tf.tensor1d(values(4, 2));
      const variance = tf.tensor1d(values(4, 3)).abs().add(0.5);
      const scale = tf.tensor1d(values(4, 4));
      const offset = tf.tensor1d(values(4, 5));
      const dy = tf.tensor(values(72, 6), shape);
      return tf.grads((a: tf.Tensor, mu: tf.Tensor, v: tf.Tensor, sc: tf.Tensor, of: tf.Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(a, mu, v, of, sc, 1e-3), dy)),
      )([x, mean, variance, scale, offset]);
    });
    expectClose(r, 'fused batch norm');
    // Independent reference: the formula through autodiff on cpu.
    await tf.setBackend('cpu');
    const ref = tf.tidy(() => {
      const x = tf.tensor4d(values(72, 1), shape as [number, number, number, number]);
      const mean = tf.tensor1d(values(4, 2));
      const variance = tf.tensor1d(values(4, 3)).abs().add(0.5);
      const scale = tf.tensor1d(values(4, 4));
      const offset = tf.tensor1d(values(4, 5));
      const dy = tf.tensor(values(72, 6), shape);
      return tf
        .grads((a: tf.Tensor, mu: tf.Tensor, v: tf.Tensor, sc: tf.Tensor, of: tf.Tensor) =>
          tf.sum(tf.mul(tf.add(tf.mul(tf.div(tf.sub(a, mu), tf.sqrt(tf.add(v, 1e-3))), sc), of), dy)),
        )([x, mean, variance, scale, offset])
        .map((t) => t.dataSync() as Float32Array);
    });
    ref.forEach((a, i) => expect(relErr(r.cpu[i], a), `input ${i}`).toBeLessThan(1e-5));
  });
});
