// Convolution training kernels for the tfjs `wasm` backend (tfjs 4.22): Conv2DBackpropFilter,
// which wasm lacks, and Conv2DBackpropInput, whose shipped version is a naive loop (~10x slower
// than the XNNPACK forward conv). Both use the fast kernels wasm has (XNNPACK Conv2D, plain
// BatchMatMul) plus exact index permutations (im2col, transposes, filter flips) done in JS on the
// wasm heap, so results equal the reference gradients up to float32 summation order.
//
// The kernels call other wasm kernel functions directly with TensorInfos (no engine tensors), so
// intermediates never touch engine bookkeeping; each is released with backend.disposeData.
// Heap views are taken after the last allocation of a step: an allocation may grow the wasm
// memory, which detaches earlier views in the single-threaded build. wasm-kernels.ts registers them.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type Info = tf.TensorInfo;
export type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Attrs = Record<string, unknown>;

export const WASM = 'wasm';
export const CONV2D_BACKPROP_FILTER = 'Conv2DBackpropFilter';
export const CONV2D_BACKPROP_INPUT = 'Conv2DBackpropInput';

// ---------------------------------------------------------------------------------------------
// Plumbing: run a registered wasm kernel on TensorInfos, free intermediates, view the heap.

function runWasm(backend: BackendWasm, name: string, inputs: Record<string, Info>, attrs: Attrs = {}): Info {
  const kernel = tf.getKernel(name, WASM);
  if (kernel == null) throw new Error(`wasm-kernels: wasm kernel '${name}' is not registered`);
  return kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend }) as Info;
}

export function free(backend: BackendWasm, info: Info): void {
  backend.disposeData(info.dataId);
}

/** Same data, new shape; valid only while `info` lives (wasm kernels read shape from the info). */
function view(info: Info, shape: number[]): Info {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export function heap(backend: BackendWasm, info: Info): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

function explicitPad(top: number, bottom: number, left: number, right: number): Pad {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

function conv2d(backend: BackendWasm, x: Info, filter: Info, strides: [number, number], dilations: [number, number], pad: Pad): Info {
  return runWasm(backend, 'Conv2D', { x, filter }, { strides, dilations, pad, dataFormat: 'NHWC', dimRoundingMode: undefined });
}

function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  return runWasm(backend, 'Transpose', { x }, { perm });
}

function slice(backend: BackendWasm, x: Info, begin: number[], size: number[]): Info {
  return runWasm(backend, 'Slice', { x }, { begin, size });
}

function requireChannelsLast(kernel: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`wasm-kernels: ${kernel} supports only dataFormat 'NHWC' on wasm, got '${String(dataFormat)}'`);
  }
}

// ---------------------------------------------------------------------------------------------
// Strategy. Both formulations of each gradient are exact; which is faster depends on the shape.

export type ConvGradStrategy = 'auto' | 'matmul' | 'conv';
const strategy: { filter: ConvGradStrategy; input: ConvGradStrategy } = { filter: 'auto', input: 'auto' };

/** Forces one formulation (benchmarks and tests compare them); 'auto' picks by shape. */
export function setConvGradStrategy(next: Partial<{ filter: ConvGradStrategy; input: ConvGradStrategy }>): void {
  Object.assign(strategy, next);
}

// ---------------------------------------------------------------------------------------------
// Layout helpers, all exact copies/permutations on the wasm heap (no arithmetic but col2im's
// sums, which add the same products in the same order as a direct loop).

/** dst[c * rows + r] = src[r * cols + c] for a rows x cols matrix; cache-blocked. */
function transposeInto(src: Float32Array, srcOff: number, rows: number, cols: number, dst: Float32Array, dstOff: number): void {
  const T = 16;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(r0 + T, rows);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(c0 + T, cols);
      for (let r = r0; r < r1; r++) {
        const s = srcOff + r * cols;
        for (let c = c0; c < c1; c++) dst[dstOff + c * rows + r] = src[s + c];
      }
    }
  }
}

/**
 * Patch matrix of x for a conv: row n = (b, oh, ow), column (kh, kw, ci) = the filter layout,
 * zero where the window hangs over the padding. `transposed` writes it column-major instead.
 */
function im2col(x: Float32Array, c: tf.backend_util.Conv2DInfo, dst: Float32Array, transposed: boolean): void {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = c;
  const { top: pt, left: pl } = c.padInfo;
  const KC = KH * KW * Ci;
  const N = B * OH * OW;
  dst.fill(0, 0, N * KC);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const n = (b * OH + oh) * OW + ow;
        for (let kh = 0; kh < KH; kh++) {
          const i = oh * sh + kh - pt;
          if (i < 0 || i >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const j = ow * sw + kw - pl;
            if (j < 0 || j >= W) continue;
            const from = ((b * H + i) * W + j) * Ci;
            const col = (kh * KW + kw) * Ci;
            if (transposed) {
              for (let ci = 0; ci < Ci; ci++) dst[(col + ci) * N + n] = x[from + ci];
            } else if (Ci >= 16) {
              dst.set(x.subarray(from, from + Ci), n * KC + col);
            } else {
              const to = n * KC + col;
              for (let ci = 0; ci < Ci; ci++) dst[to + ci] = x[from + ci];
            }
          }
        }
      }
    }
  }
}

/** Inverse of im2col with accumulation: dx[b, i, j, ci] = sum of the patch entries that read it. */
function col2im(cols: Float32Array, c: tf.backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = c;
  const { top: pt, left: pl } = c.padInfo;
  const KC = KH * KW * Ci;
  dx.fill(0, 0, B * H * W * Ci);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const i = oh * sh + kh - pt;
        if (i < 0 || i >= H) continue;
        for (let ow = 0; ow < OW; ow++) {
          const from0 = ((b * OH + oh) * OW + ow) * KC + kh * KW * Ci;
          for (let kw = 0; kw < KW; kw++) {
            const j = ow * sw + kw - pl;
            if (j < 0 || j >= W) continue;
            const to = ((b * H + i) * W + j) * Ci;
            const from = from0 + kw * Ci;
            for (let ci = 0; ci < Ci; ci++) dx[to + ci] += cols[from + ci];
          }
        }
      }
    }
  }
}

function matMul(backend: BackendWasm, a: Info, b: Info, m: number, k: number, n: number): Info {
  // Only the plain product: wasm's transposeA/transposeB paths are ~13x slower (measured).
  return runWasm(backend, 'BatchMatMul', { a: view(a, [1, m, k]), b: view(b, [1, k, n]) }, { transposeA: false, transposeB: false });
}

/** A 1x1, stride-1, unpadded conv is a matmul over pixels; its patch matrix is x itself. */
function isPointwise(c: tf.backend_util.Conv2DInfo): boolean {
  return (
    c.filterHeight === 1 &&
    c.filterWidth === 1 &&
    c.strideHeight === 1 &&
    c.strideWidth === 1 &&
    c.padInfo.top === 0 &&
    c.padInfo.left === 0 &&
    c.outHeight === c.inHeight &&
    c.outWidth === c.inWidth
  );
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter: dW[(kh,kw,ci), co] = sum_n patches[n, (kh,kw,ci)] * dy[n, co], one
// plain matmul over the im2col matrix. Either patches^T . dy (transpose the patches) or
// (dy^T . patches)^T (transpose dy and the small result), whichever moves fewer floats.

export function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): Info {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as {
    strides: number | [number, number];
    pad: Pad;
    dataFormat: string;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  requireChannelsLast(CONV2D_BACKPROP_FILTER, dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  return filterGradient(backend, x, dy, info);
}

function filterGradient(backend: BackendWasm, x: Info, dy: Info, c: tf.backend_util.Conv2DInfo): Info {
  let use = strategy.filter;
  if (use === 'auto') {
    // Measured (bench/conv-kernels.ts): the dilated conv wins on large images, the matmul on
    // 1x1 filters and on small images with many channels (ResNet layers 3-4).
    const pixels = c.batchSize * c.outHeight * c.outWidth;
    use =
      (c.filterHeight === 1 && c.filterWidth === 1) || pixels <= FILTER_MATMUL_MAX_PIXELS_PER_CHANNEL * c.outChannels ? 'matmul' : 'conv';
  }
  return use === 'conv' ? filterGradientConv(backend, x, dy, c) : filterGradientMatMul(backend, x, dy, c);
}

const FILTER_MATMUL_MAX_PIXELS_PER_CHANNEL = 4;

/**
 * The same sum as a convolution: input = x as [Ci, H, W, B] (channels play the batch), filter =
 * dy as [OH, OW, B, Co], stride 1, dilation = the forward stride, padding chosen so the output is
 * exactly KH x KW (rows no output reads are cropped). XNNPACK reads patches through its
 * indirection buffer, so nothing is copied but two transposes.
 */
function filterGradientConv(backend: BackendWasm, x: Info, dy: Info, c: tf.backend_util.Conv2DInfo): Info {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = c;
  const { top: pt, left: pl } = c.padInfo;
  const temps: Info[] = [];
  try {
    const padBottom = KH + (OH - 1) * sh - H - pt;
    const padRight = KW + (OW - 1) * sw - W - pl;
    let xT = transpose(backend, x, [3, 1, 2, 0]);
    temps.push(xT);
    if (padBottom < 0 || padRight < 0) {
      xT = slice(backend, xT, [0, 0, 0, 0], [Ci, H + Math.min(padBottom, 0), W + Math.min(padRight, 0), B]);
      temps.push(xT);
    }
    const dyT = transpose(backend, dy, [1, 2, 0, 3]);
    temps.push(dyT);
    const g = conv2d(backend, xT, dyT, [1, 1], [sh, sw], explicitPad(pt, Math.max(padBottom, 0), pl, Math.max(padRight, 0)));
    temps.push(g);
    return transpose(backend, g, [1, 2, 0, 3]);
  } finally {
    for (const t of temps) free(backend, t);
  }
}

function filterGradientMatMul(backend: BackendWasm, x: Info, dy: Info, c: tf.backend_util.Conv2DInfo): Info {
  const { batchSize: B, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co, filterHeight: KH, filterWidth: KW } = c;
  const N = B * OH * OW;
  const KC = KH * KW * Ci;
  const pointwise = isPointwise(c);
  const costPatchesT = KC * N;
  const costDyT = N * Co + KC * Co + (pointwise ? 0 : KC * N * 0.25);
  const temps: Info[] = [];
  try {
    if (costPatchesT <= costDyT) {
      const patchesT = backend.makeOutput([KC, N], 'float32');
      temps.push(patchesT);
      const src = heap(backend, x);
      const dst = heap(backend, patchesT);
      if (pointwise) transposeInto(src, 0, N, Ci, dst, 0);
      else im2col(src, c, dst, true);
      const g = matMul(backend, patchesT, dy, KC, N, Co);
      return { ...g, shape: [KH, KW, Ci, Co] };
    }
    let patches = x;
    if (!pointwise) {
      patches = backend.makeOutput([N, KC], 'float32');
      temps.push(patches);
      im2col(heap(backend, x), c, heap(backend, patches), false);
    }
    const dyT = backend.makeOutput([Co, N], 'float32');
    temps.push(dyT);
    transposeInto(heap(backend, dy), 0, N, Co, heap(backend, dyT), 0);
    const gT = matMul(backend, dyT, patches, Co, N, KC);
    temps.push(gT);
    const g = backend.makeOutput([KH, KW, Ci, Co], 'float32');
    transposeInto(heap(backend, gT), 0, Co, KC, heap(backend, g), 0);
    return g;
  } finally {
    for (const t of temps) free(backend, t);
  }
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput. Two exact formulations, picked by shape:
//  - stride 1: dx = 'valid'/padded stride-1 XNNPACK conv of dy with the filter flipped in both
//    spatial axes and in/out channels swapped (one JS permutation; Reverse is slow on wasm);
//    best when the image is large relative to the filter (the conv packs the whole filter).
//  - otherwise (strided, cropped, or small images with big filters): patches = dy . W^T as one
//    plain matmul, then col2im sums them into dx. No zero-upsampling, so stride 2 does no
//    wasted work.

export function conv2dBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): Info {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as {
    strides: number | [number, number];
    pad: Pad;
    dataFormat: string;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  requireChannelsLast(CONV2D_BACKPROP_INPUT, dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  return inputGradient(backend, dy, filter, info);
}

/** Pixels per output channel above which the flipped-filter conv beats matmul + col2im. */
const CONV_PATH_MIN_PIXELS_PER_CHANNEL = 4;

function inputGradient(backend: BackendWasm, dy: Info, filter: Info, c: tf.backend_util.Conv2DInfo): Info {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = c;
  const { top: pt, left: pl } = c.padInfo;
  const N = B * OH * OW;
  const KC = KH * KW * Ci;
  const taps = KH * KW;

  if (isPointwise(c)) {
    const wT = backend.makeOutput([Co, Ci], 'float32');
    try {
      transposeInto(heap(backend, filter), 0, Ci, Co, heap(backend, wT), 0);
      const dx = matMul(backend, dy, wT, N, Co, Ci);
      return { ...dx, shape: [B, H, W, Ci] };
    } finally {
      free(backend, wT);
    }
  }

  const padTop = KH - 1 - pt;
  const padLeft = KW - 1 - pl;
  const padBottom = H + pt - OH;
  const padRight = W + pl - OW;
  const convPossible = sh === 1 && sw === 1 && padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0;
  const convPath = convPossible && (strategy.input === 'conv' || (strategy.input === 'auto' && N >= CONV_PATH_MIN_PIXELS_PER_CHANNEL * Co));
  if (convPath) {
    // wFlip[k, co, ci] = w[taps - 1 - k, ci, co]: reversing the flat (kh, kw) index flips both axes.
    const wFlip = backend.makeOutput([KH, KW, Co, Ci], 'float32');
    try {
      const src = heap(backend, filter);
      const dst = heap(backend, wFlip);
      for (let k = 0; k < taps; k++) transposeInto(src, (taps - 1 - k) * Ci * Co, Ci, Co, dst, k * Ci * Co);
      return conv2d(backend, dy, wFlip, [1, 1], [1, 1], explicitPad(padTop, padBottom, padLeft, padRight));
    } finally {
      free(backend, wFlip);
    }
  }

  const temps: Info[] = [];
  try {
    const wT = backend.makeOutput([Co, KC], 'float32');
    temps.push(wT);
    transposeInto(heap(backend, filter), 0, KC, Co, heap(backend, wT), 0);
    const patches = matMul(backend, dy, wT, N, Co, KC);
    temps.push(patches);
    const dx = backend.makeOutput([B, H, W, Ci], 'float32');
    col2im(heap(backend, patches), c, heap(backend, dx));
    return dx;
  } finally {
    for (const t of temps) free(backend, t);
  }
}
