// Training kernels for the tfjs `wasm` backend (tfjs 4.22), and their registration.
//
// As shipped, wasm cannot train a convolution: it has no Conv2DBackpropFilter kernel, its
// Conv2DBackpropInput is a naive loop (~10x slower than the XNNPACK forward conv), it has no
// depthwise backprop kernels and its MaxPoolGrad loses the gradient of windows whose max is <= 0.
// The convolution gradients live in wasm-conv-kernels.ts; the depthwise and pooling gradients
// here are direct loops over the wasm heap. Results equal the reference gradients up to float32
// summation order.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  CONV2D_BACKPROP_FILTER,
  CONV2D_BACKPROP_INPUT,
  WASM,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  heap,
  type Info,
  type Pad,
} from './wasm-conv-kernels';

export { setConvGradStrategy, type ConvGradStrategy } from './wasm-conv-kernels';

const DEPTHWISE_BACKPROP_FILTER = 'DepthwiseConv2dNativeBackpropFilter';
const DEPTHWISE_BACKPROP_INPUT = 'DepthwiseConv2dNativeBackpropInput';
const MAX_POOL_GRAD = 'MaxPoolGrad';
const FUSED_BATCH_NORM = 'FusedBatchNorm';

// ---------------------------------------------------------------------------------------------
// Depthwise backprop (wasm has none). Direct loops over the heap: depthwise layers are small.

interface DepthwiseAttrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

function depthwiseInfo(xShape: number[], filterShape: number[], a: DepthwiseAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    true,
    'channelsLast',
  );
}

function depthwiseBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): Info {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const a = args.attrs as unknown as DepthwiseAttrs;
  const c = depthwiseInfo(x.shape, a.filterShape!, a);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CO } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = c;
  const M = CO / C;
  const out = backend.makeOutput([KH, KW, C, M], 'float32');
  const g = heap(backend, out);
  g.fill(0);
  const xs = heap(backend, x);
  const dys = heap(backend, dy);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const gBase = (kh * KW + kw) * CO;
      for (let b = 0; b < B; b++) {
        for (let oh = 0; oh < OH; oh++) {
          const i = oh * sh + kh * dh - c.padInfo.top;
          if (i < 0 || i >= H) continue;
          for (let ow = 0; ow < OW; ow++) {
            const j = ow * sw + kw * dw - c.padInfo.left;
            if (j < 0 || j >= W) continue;
            const xBase = ((b * H + i) * W + j) * C;
            const yBase = ((b * OH + oh) * OW + ow) * CO;
            for (let ch = 0; ch < C; ch++) {
              const xv = xs[xBase + ch];
              for (let m = 0; m < M; m++) g[gBase + ch * M + m] += xv * dys[yBase + ch * M + m];
            }
          }
        }
      }
    }
  }
  return out;
}

function depthwiseBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): Info {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const a = args.attrs as unknown as DepthwiseAttrs;
  const c = depthwiseInfo(a.inputShape!, filter.shape, a);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CO } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = c;
  const M = CO / C;
  const out = backend.makeOutput([B, H, W, C], 'float32');
  const dx = heap(backend, out);
  dx.fill(0);
  const ws = heap(backend, filter);
  const dys = heap(backend, dy);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const i = oh * sh + kh * dh - c.padInfo.top;
        if (i < 0 || i >= H) continue;
        for (let ow = 0; ow < OW; ow++) {
          const yBase = ((b * OH + oh) * OW + ow) * CO;
          for (let kw = 0; kw < KW; kw++) {
            const j = ow * sw + kw * dw - c.padInfo.left;
            if (j < 0 || j >= W) continue;
            const xBase = ((b * H + i) * W + j) * C;
            const wBase = (kh * KW + kw) * CO;
            for (let ch = 0; ch < C; ch++) {
              let acc = 0;
              for (let m = 0; m < M; m++) acc += ws[wBase + ch * M + m] * dys[yBase + ch * M + m];
              dx[xBase + ch] += acc;
            }
          }
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad. wasm ships one, but in tfjs 4.22 it drops the gradient of every window whose
// maximum is <= 0 (e.g. all-zero windows after a ReLU), measured against cpu. Here: first maximum of each window
// (row-major, strictly greater, as the cpu backend), its dy added to that input position.

function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): Info {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: Info; input: Info };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'same' | 'valid' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const c = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = c;
  const { effectiveFilterHeight: KH, effectiveFilterWidth: KW, strideHeight: sh, strideWidth: sw } = c;
  const out = backend.makeOutput(input.shape, 'float32');
  const dx = heap(backend, out);
  dx.fill(0);
  const xs = heap(backend, input);
  const dys = heap(backend, dy);
  const best = new Float32Array(C);
  const where = new Int32Array(C);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const r0 = oh * sh - c.padInfo.top;
      for (let ow = 0; ow < OW; ow++) {
        const q0 = ow * sw - c.padInfo.left;
        best.fill(-Infinity);
        where.fill(-1);
        for (let r = Math.max(r0, 0); r < Math.min(r0 + KH, H); r++) {
          for (let q = Math.max(q0, 0); q < Math.min(q0 + KW, W); q++) {
            const base = ((b * H + r) * W + q) * C;
            for (let ch = 0; ch < C; ch++) {
              const v = xs[base + ch];
              if (v > best[ch]) {
                best[ch] = v;
                where[ch] = base + ch;
              }
            }
          }
        }
        const yBase = ((b * OH + oh) * OW + ow) * C;
        for (let ch = 0; ch < C; ch++) if (where[ch] >= 0) dx[where[ch]] += dys[yBase + ch];
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Registration.

const ourKernels: tf.KernelConfig[] = [
  { kernelName: CONV2D_BACKPROP_FILTER, backendName: WASM, kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: CONV2D_BACKPROP_INPUT, backendName: WASM, kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc },
  { kernelName: DEPTHWISE_BACKPROP_FILTER, backendName: WASM, kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: DEPTHWISE_BACKPROP_INPUT, backendName: WASM, kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc },
  { kernelName: MAX_POOL_GRAD, backendName: WASM, kernelFunc: maxPoolGrad as unknown as tf.KernelFunc },
];

/** Kernels that were registered on wasm before ours replaced them (for benchmarks and restore). */
const originals = new Map<string, tf.KernelConfig | undefined>();
let originalBatchNormGradient: tf.GradConfig | undefined;

/** Names of the wasm kernels this module adds or replaces. */
export const WASM_TRAINING_KERNELS: readonly string[] = ourKernels.map((k) => k.kernelName);

/**
 * Registers the training kernels on backend 'wasm' (and a Tile-free FusedBatchNorm gradient,
 * which is global but exact). Safe to call any number of times, before or after the wasm
 * backend is initialised (none of these kernels needs a setup step).
 */
export function registerWasmTrainingKernels(): void {
  for (const config of ourKernels) {
    const current = tf.getKernel(config.kernelName, WASM);
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (!originals.has(config.kernelName)) originals.set(config.kernelName, current);
    if (current != null) tf.unregisterKernel(config.kernelName, WASM);
    tf.registerKernel(config);
  }
  const grad = tf.getGradient(FUSED_BATCH_NORM);
  if (grad !== fusedBatchNormGradConfig) {
    originalBatchNormGradient = grad;
    tf.registerGradient(fusedBatchNormGradConfig);
  }
}

/** Puts back what registerWasmTrainingKernels replaced (benchmarks compare old vs new). */
export function unregisterWasmTrainingKernels(): void {
  for (const config of ourKernels) {
    if (tf.getKernel(config.kernelName, WASM)?.kernelFunc !== config.kernelFunc) continue;
    tf.unregisterKernel(config.kernelName, WASM);
    const original = originals.get(config.kernelName);
    if (original != null) tf.registerKernel(original);
  }
  if (tf.getGradient(FUSED_BATCH_NORM) === fusedBatchNormGradConfig && originalBatchNormGradient != null) {
    tf.registerGradient(originalBatchNormGradient);
  }
}

/** Whether wasm currently runs our version of each kernel. */
export function wasmTrainingKernelsRegistered(): boolean {
  return ourKernels.every((k) => tf.getKernel(k.kernelName, WASM)?.kernelFunc === k.kernelFunc);
}

// ---------------------------------------------------------------------------------------------
// Batch norm.

/**
 * Core's FusedBatchNorm gradient builds dx with tile(); Tile is slow on wasm. This is the same
 * formula with broadcasting instead (scale/variance are per-channel, channels last), so the
 * values are identical. Mean and variance keep their own gradients, as in core.
 */
const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: FUSED_BATCH_NORM,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const g = Array.isArray(dy) ? dy[0] : dy;
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved as tf.Tensor[];
    const scaleValue = scale == null ? tf.scalar(1) : scale;
    const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor): tf.Tensor => (reductionAxes.length > 0 ? tf.sum(t, reductionAxes) : t);
    const xMinusMean = tf.sub(x, mean);
    const dyTimesScale = tf.mul(g, scaleValue);
    const rstd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const minusHalfRCube = tf.mul(tf.mul(tf.mul(rstd, rstd), rstd), tf.scalar(-0.5));
    return {
      x: () => tf.reshape(tf.mul(tf.mul(g, rstd), scaleValue), x.shape),
      mean: () => tf.reshape(reduce(tf.mul(tf.mul(rstd, tf.scalar(-1)), dyTimesScale)), mean.shape),
      variance: () => tf.reshape(reduce(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyTimesScale)), mean.shape),
      scale: () => tf.reshape(reduce(tf.mul(g, tf.mul(xMinusMean, rstd))), mean.shape),
      offset: () => tf.reshape(reduce(g), mean.shape),
    };
  },
};

export { batchNormTrain, type BatchNormTrainResult } from './batch-norm';
