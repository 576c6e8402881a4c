// Convolution training on tfjs wasm, in ms (best of BENCH_REPS, default 5; the machine is shared,
// so the minimum is the least noisy figure):
//  - per ResNet-18 layer shape (112x112 input, batch 8): forward conv, Conv2DBackpropInput as
//    shipped vs ours (each formulation and the automatic pick), Conv2DBackpropFilter (ours; wasm
//    ships none);
//  - batch norm forward+backward: resnet.ts-style moments formula vs batchNormTrain;
//  - whole training steps (images/s), each in a child process because the wasm thread count is
//    fixed per process: ResNet-18 on wasm with 1 and N threads, with the shipped input-gradient
//    kernel, and the 'small' preset on wasm vs the pure-JS cpu backend.
// Prints one JSON line.  Run: npx tsx bench/conv-kernels.ts   (BENCH_QUICK=1 for a short run)
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  batchNormTrain,
  registerWasmTrainingKernels,
  setConvGradStrategy,
  unregisterWasmTrainingKernels,
} from '../src/trainer/wasm-kernels';
import { initWasmBackend } from '../src/trainer/wasm-threads';
import { registerFastCpuKernels } from '../src/trainer/cpu-kernels';
import { createResNet, disposeResNet, forward, trainableVariables, type ResNetPreset } from '../src/trainer/resnet';

const QUICK = process.env.BENCH_QUICK === '1';
const REPS = Number(process.env.BENCH_REPS ?? (QUICK ? 2 : 5));
const round = (v: number): number => Math.round(v * 10) / 10;

/** Best-of-n wall time in ms; outputs are read back so lazy work is counted. */
function best(f: () => tf.TensorContainer, reps = REPS): number {
  tf.dispose(f());
  let min = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = f();
    for (const t of (Array.isArray(out) ? out : [out]) as tf.Tensor[]) if (t instanceof tf.Tensor) t.dataSync();
    min = Math.min(min, performance.now() - t0);
    tf.dispose(out);
  }
  return round(min);
}

type Shape4 = [number, number, number, number];
interface Layer {
  name: string;
  x: Shape4;
  w: Shape4;
  s: number;
  pad: 'same' | 'valid' | number;
}
const LAYERS: Layer[] = [
  { name: 'stem_7x7s2', x: [8, 112, 112, 3], w: [7, 7, 3, 64], s: 2, pad: 3 },
  { name: 'layer1_3x3', x: [8, 28, 28, 64], w: [3, 3, 64, 64], s: 1, pad: 1 },
  { name: 'layer2_3x3s2', x: [8, 28, 28, 64], w: [3, 3, 64, 128], s: 2, pad: 1 },
  { name: 'layer2_down_1x1s2', x: [8, 28, 28, 64], w: [1, 1, 64, 128], s: 2, pad: 'valid' },
  { name: 'layer2_3x3', x: [8, 14, 14, 128], w: [3, 3, 128, 128], s: 1, pad: 1 },
  { name: 'layer3_3x3', x: [8, 7, 7, 256], w: [3, 3, 256, 256], s: 1, pad: 1 },
  { name: 'layer4_3x3', x: [8, 4, 4, 512], w: [3, 3, 512, 512], s: 1, pad: 1 },
];

function layerFigures(l: Layer): Record<string, number> {
  return tf.tidy(() => {
    const x = tf.randomNormal(l.x) as tf.Tensor4D;
    const w = tf.randomNormal(l.w) as tf.Tensor4D;
    const dy = tf.randomNormal(tf.conv2d(x, w, l.s, l.pad).shape) as tf.Tensor4D;
    // A fresh filter each call, as in training (XNNPACK repacks changed weights every step).
    const fwd = (): tf.Tensor => tf.tidy(() => tf.conv2d(x, w.add(0) as tf.Tensor4D, l.s, l.pad));
    const input = (): tf.Tensor =>
      tf.tidy(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy, filter: w.add(0) },
              { strides: l.s, pad: l.pad, dataFormat: 'NHWC', inputShape: l.x },
            ) as tf.Tensor,
      );
    const filter = (): tf.Tensor =>
      tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x, dy }, { strides: l.s, pad: l.pad, dataFormat: 'NHWC', filterShape: l.w }) as tf.Tensor;
    const out: Record<string, number> = { forward: best(fwd) };
    unregisterWasmTrainingKernels();
    out.input_shipped = best(input, Math.min(REPS, 2));
    registerWasmTrainingKernels();
    out.input_new = best(input);
    out.filter_new = best(filter);
    if (!QUICK) {
      for (const s of ['matmul', 'conv'] as const) {
        setConvGradStrategy({ input: s, filter: s });
        out[`input_${s}`] = best(input);
        out[`filter_${s}`] = best(filter);
      }
      setConvGradStrategy({ input: 'auto', filter: 'auto' });
    }
    return out;
  });
}

function batchNormFigures(): Record<string, number> {
  return tf.tidy(() => {
    const x = tf.randomNormal([8, 28, 28, 64]);
    const g = tf.ones([64]);
    const b = tf.zeros([64]);
    const dy = tf.randomNormal([8, 28, 28, 64]);
    // resnet.ts: moments, then x * scale + shift; autodiff through tf.moments.
    const plain = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(xx, [0, 1, 2]);
      const scale = gg.mul(tf.rsqrt(variance.add(1e-5)));
      return xx.mul(scale).add(bb.sub(mean.mul(scale)));
    };
    const ours = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor): tf.Tensor => batchNormTrain(xx, gg, bb, 1e-5).y;
    const step = (f: typeof plain) => (): tf.Tensor[] =>
      tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(f(a, c, d), dy)))([x, g, b]);
    return { moments_formula: best(step(plain)), batchNormTrain: best(step(ours)) };
  });
}

// ------------------------------------------------------------------------------------------
// Training steps (child processes).

interface StepResult {
  ms: number;
  imagesPerSecond: number;
  threads: number;
  backend: string;
}

async function trainStep(
  backend: 'wasm' | 'cpu',
  threads: number,
  preset: ResNetPreset,
  batch: number,
  shippedInput: boolean,
  steps: number,
): Promise<StepResult> {
  const shipped = tf.getKernel('Conv2DBackpropInput', 'wasm');
  let actualThreads = 1;
  if (backend === 'wasm') {
    actualThreads = (await initWasmBackend(threads)).threads;
    registerWasmTrainingKernels();
    if (shippedInput && shipped) {
      tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
      tf.registerKernel(shipped);
    }
  } else {
    await tf.setBackend('cpu');
    registerFastCpuKernels();
  }
  const net = createResNet({ depth: preset, numClasses: 7, inputSize: 112 }, 1);
  const { backbone, head } = trainableVariables(net);
  const opt = tf.train.adam(1e-3);
  const x = tf.randomNormal([batch, 112, 112, 3]) as tf.Tensor4D;
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % 7),
      'int32',
    ),
    7,
  );
  const step = (): void => {
    tf.tidy(() => {
      opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(net, x, true)) as tf.Scalar, false, [...backbone, ...head]);
    });
  };
  step();
  let min = Infinity;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    // Force the last update through before stopping the clock.
    backbone[0].dataSync();
    min = Math.min(min, performance.now() - t0);
  }
  tf.dispose([x, y]);
  opt.dispose();
  disposeResNet(net);
  return { ms: round(min), imagesPerSecond: round((batch * 1000) / min), threads: actualThreads, backend };
}

function runChild(args: string[]): StepResult | { error: string } {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20 * 60_000,
    });
    const line = out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    return line ? (JSON.parse(line) as StepResult) : { error: 'no output' };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) {
    const [backend, threads, preset, batch, shipped, steps] = process.argv.slice(childAt + 1);
    const r = await trainStep(
      backend as 'wasm' | 'cpu',
      Number(threads),
      preset as ResNetPreset,
      Number(batch),
      shipped === '1',
      Number(steps),
    );
    console.log(JSON.stringify(r));
    return;
  }
  await initWasmBackend(1);
  registerWasmTrainingKernels();
  const layers: Record<string, Record<string, number>> = {};
  for (const l of LAYERS) layers[l.name] = layerFigures(l);
  const batchNorm = batchNormFigures();

  const cores = os.availableParallelism();
  const steps = QUICK ? '1' : '3';
  const training: Record<string, unknown> = {
    resnet18_wasm_1thread: runChild(['wasm', '1', 'resnet18', '8', '0', steps]),
    [`resnet18_wasm_${cores}threads`]: runChild(['wasm', String(cores), 'resnet18', '8', '0', steps]),
    resnet18_wasm_1thread_shipped_input_grad: runChild(['wasm', '1', 'resnet18', '8', '1', QUICK ? '1' : '2']),
    small_wasm_1thread: runChild(['wasm', '1', 'small', '8', '0', steps]),
    small_cpu: runChild(['cpu', '1', 'small', '8', '0', '1']),
  };
  console.log(
    JSON.stringify({
      bench: 'conv-kernels',
      tfjs: tf.version.tfjs,
      cpus: cores,
      loadavg: os.loadavg().map(round),
      reps: REPS,
      unit: 'ms (best of reps); training: ms per step and images/s, batch 8, 112x112, Adam',
      layers,
      batchNorm_8x28x28x64_fwd_bwd: batchNorm,
      training,
    }),
  );
}

await main();
