// The prepared GPU check (bench/gpu-check.sh runs it, here or from its bundle on a bare GPU machine):
// adapter and driver, parity of one CCT step on webgpu against the cpu backend, CCT training and
// ensemble inference images/s of N x ResNet at several batch sizes, peak GPU memory, and the ratio to
// the same step in PyTorch on the same machine (--torch-json, from bench/cct_step_torch.py).
// Prints ONE JSON line on stdout; progress goes to stderr.
//
// Usage: npx tsx bench/gpu-check.ts [--torch-json FILE] [--model resnet18] [--input 112] [--nets 3]
//        [--batches 32,64,128] [--steps 8] [--warmup 2] [--infer-batches 5] [--parity-model resnet18]
//        [--parity-input 64] [--parity-batch 4] [--budget-s 240] [--levers on|off]
// Levers (hardware adapters, --levers on by default): the middle batch again under tfjs flags that
// may speed up training (bigger deferred command submission, the matmul-based Conv2DBackpropInput
// instead of the naive shader), each with its own parity re-check; CONCORD_TFJS_FLAGS applies the
// winner to real runs.
// On a software adapter (llvmpipe, lavapipe) the defaults shrink to a smoke test: ResNet-18 at 32 px,
// batch 4, 1 step, parity on tiny nets at 32 px; flags still win.
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { selectBackend, type BackendInfo } from '../src/trainer/backend';
import { createCctOptimizers, disposeCctOptimizers, predict, queueTrainStep, readLosses, stepGradients } from '../src/trainer/cct';
import { createResNet, disposeResNet, type ResNetPreset } from '../src/trainer/resnet';
import { relError, seededUniform } from './lib/numeric';

const { values } = parseArgs({
  strict: false,
  options: {
    'torch-json': { type: 'string' },
    model: { type: 'string' },
    input: { type: 'string' },
    nets: { type: 'string' },
    batches: { type: 'string' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    'infer-batches': { type: 'string' },
    'parity-model': { type: 'string' },
    'parity-input': { type: 'string' },
    'parity-batch': { type: 'string' },
    'budget-s': { type: 'string' },
    levers: { type: 'string' },
  },
});
const started = performance.now();
const log = (m: string) => process.stderr.write(`gpu-check: ${m} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
const num = (k: string, d: number) => (typeof values[k] === 'string' ? Number(values[k]) : d);
const str = (k: string, d: string) => (typeof values[k] === 'string' ? (values[k] as string) : d);

function nvidiaSmi(): { name: string; driver: string; memoryTotal: string }[] | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .trim()
      .split('\n')
      .map((l) => {
        const [name, driver, memoryTotal] = l.split(',').map((s) => s.trim());
        return { name, driver, memoryTotal };
      });
  } catch {
    return null;
  }
}

const gpuBytes = () => {
  // tfjs-backend-webgpu: bytes of live tensors, and of every buffer its pool holds (the peak that matters).
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return { inUse: m.numBytesInGPU ?? 0, allocated: m.numBytesAllocatedInGPU ?? 0 };
};
const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

/** Parity: losses and every gradient of one CCT step, webgpu against cpu, same weights and batch. */
async function parity(model: ResNetPreset, size: number, batch: number, nets: number) {
  const xs = seededUniform(batch * size * size * 3, 7);
  const ys = Int32Array.from({ length: batch }, (_, i) => i % 7);
  const run = async (backend: string) => {
    await selectBackend(backend);
    const ns = Array.from({ length: nets }, (_, i) => createResNet({ depth: model, inputSize: size, numClasses: 7 }, i + 1));
    const x = tf.tensor4d(xs, [batch, size, size, 3]);
    const y = tf.tensor1d(ys, 'int32');
    const t0 = performance.now();
    try {
      const g = await stepGradients(ns, x, y, 0.5);
      return { ...g, seconds: (performance.now() - t0) / 1000 };
    } finally {
      tf.dispose([x, y]);
      ns.forEach(disposeResNet);
    }
  };
  const cpu = await run('cpu');
  log(`parity: cpu step ${cpu.seconds.toFixed(1)} s`);
  const gpu = await run('webgpu');
  const errs = gpu.grads.map((g, i) => relError(g, cpu.grads[i]));
  const worst = errs.reduce((w, e, i) => (e > errs[w] ? i : w), 0);
  return {
    model,
    input: size,
    batch,
    nets,
    lossRelError: Math.max(
      ...(['total', 'sup', 'cons'] as const).map((k) => Math.abs(gpu.losses[k] - cpu.losses[k]) / Math.max(Math.abs(cpu.losses[k]), 1e-30)),
    ),
    losses: { webgpu: gpu.losses, cpu: cpu.losses },
    gradients: gpu.grads.length,
    maxGradRelError: errs[worst],
    worstGradient: gpu.names[worst],
    within1e4: errs[worst] < 1e-4,
  };
}

interface SpeedResult {
  batch: number;
  trainImagesPerSec?: number;
  stepSeconds?: number;
  /** The same steps awaiting every step's losses before queuing the next (the old loop). */
  trainImagesPerSecSyncReadback?: number;
  inferImagesPerSec?: number;
  peakGpuMiB?: number;
  leakedTensors?: number;
  torchTrainImagesPerSec?: number;
  ratioToTorch?: number;
  error?: string;
}

async function speed(
  model: ResNetPreset,
  size: number,
  netsN: number,
  batch: number,
  steps: number,
  warmup: number,
  inferBatches: number,
): Promise<SpeedResult> {
  await selectBackend('webgpu');
  const nets = Array.from({ length: netsN }, (_, i) => createResNet({ depth: model, inputSize: size, numClasses: 7 }, i + 1));
  const opt = createCctOptimizers();
  const x = tf.tensor4d(seededUniform(batch * size * size * 3, batch), [batch, size, size, 3]);
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 7),
    'int32',
  );
  let peak = 0;
  const sample = () => (peak = Math.max(peak, gpuBytes().allocated));
  try {
    for (let i = 0; i < warmup; i++) await readLosses(queueTrainStep({ nets, optimizers: opt, x, y, lambda: 0.5 }));
    const before = tf.memory().numTensors;
    // As the fit loop does: each step's losses are read while the next one runs.
    let t0 = performance.now();
    let pending: tf.Tensor1D | null = null;
    for (let i = 0; i < steps; i++) {
      const next = queueTrainStep({ nets, optimizers: opt, x, y, lambda: 0.5 });
      if (pending) await readLosses(pending);
      pending = next;
      sample();
    }
    if (pending) await readLosses(pending);
    const stepSeconds = (performance.now() - t0) / 1000 / steps;
    t0 = performance.now();
    const syncSteps = Math.max(2, Math.floor(steps / 2));
    for (let i = 0; i < syncSteps; i++) await readLosses(queueTrainStep({ nets, optimizers: opt, x, y, lambda: 0.5 }));
    const syncSeconds = (performance.now() - t0) / 1000 / syncSteps;
    await predict(nets, x);
    t0 = performance.now();
    for (let i = 0; i < inferBatches; i++) await predict(nets, x);
    const inferSeconds = (performance.now() - t0) / 1000 / inferBatches;
    sample();
    return {
      batch,
      stepSeconds: Math.round(stepSeconds * 1000) / 1000,
      trainImagesPerSec: Math.round((batch / stepSeconds) * 10) / 10,
      trainImagesPerSecSyncReadback: Math.round((batch / syncSeconds) * 10) / 10,
      inferImagesPerSec: Math.round((batch / inferSeconds) * 10) / 10,
      peakGpuMiB: mib(peak),
      leakedTensors: tf.memory().numTensors - before,
    };
  } catch (e) {
    return { batch, error: (e as Error).message.split('\n')[0] };
  } finally {
    tf.dispose([x, y]);
    nets.forEach(disposeResNet);
    disposeCctOptimizers(opt);
  }
}

interface TorchJson {
  framework?: string;
  error?: string;
  input?: number;
  nets?: number;
  device?: string;
  results?: { batch: number; trainImagesPerSec?: number; inferImagesPerSec?: number; peakMemoryMiB?: number | null; error?: string }[];
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = {
    bench: 'gpu-check',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model,
  };
  out.nvidiaSmi = nvidiaSmi();
  let info: BackendInfo;
  try {
    info = await selectBackend('webgpu');
  } catch (e) {
    out.error = (e as Error).message;
    console.log(JSON.stringify(out));
    return;
  }
  const a = info.adapter!;
  out.adapter = a;
  out.versions = info.versions;
  const software = a.software;
  log(`adapter ${info.device}`);
  const model = str('model', 'resnet18') as ResNetPreset;
  const size = num('input', software ? 32 : 112);
  const netsN = num('nets', 3);
  const batches = str('batches', software ? '4' : '32,64,128')
    .split(',')
    .map(Number);
  const steps = num('steps', software ? 1 : 8);
  const warmup = num('warmup', software ? 1 : 2);
  const inferBatches = num('infer-batches', software ? 1 : 5);
  const budget = num('budget-s', 240);
  out.config = { model, input: size, nets: netsN, batches, steps, warmup, inferBatches, software };

  try {
    // Batch norm over a handful of values per channel (ResNet-18's last stage at 32 px is 1x1) is so
    // ill-conditioned that rounding alone moves gradients by O(1): parity needs >= 16 values a channel.
    out.parity = await parity(
      str('parity-model', software ? 'tiny' : 'resnet18') as ResNetPreset,
      num('parity-input', software ? 32 : 64),
      num('parity-batch', software ? 8 : 4),
      netsN,
    );
    log(`parity ${JSON.stringify(out.parity)}`);
  } catch (e) {
    out.parity = { error: (e as Error).message.split('\n')[0] };
  }

  let torch: TorchJson | null = null;
  if (typeof values['torch-json'] === 'string') {
    try {
      torch = JSON.parse(readFileSync(values['torch-json'] as string, 'utf8')) as TorchJson;
    } catch (e) {
      torch = { error: `cannot read ${values['torch-json']}: ${(e as Error).message}` };
    }
  }
  const sameShape = torch && torch.input === size && torch.nets === netsN;
  const results: SpeedResult[] = [];
  for (const b of batches) {
    if ((performance.now() - started) / 1000 > budget) {
      results.push({ batch: b, error: `skipped: over the ${budget} s budget` });
      continue;
    }
    const r = await speed(model, size, netsN, b, steps, warmup, inferBatches);
    const t = sameShape ? torch!.results?.find((x) => x.batch === b) : undefined;
    if (t?.trainImagesPerSec && r.trainImagesPerSec) {
      r.torchTrainImagesPerSec = t.trainImagesPerSec;
      r.ratioToTorch = Math.round((r.trainImagesPerSec / t.trainImagesPerSec) * 1000) / 1000;
    }
    results.push(r);
    log(`batch ${b}: ${JSON.stringify(r)}`);
    if (r.error && /out of memory|OOM|allocation/i.test(r.error)) break;
  }
  out.results = results;

  // Levers: tfjs flags that change kernels or submission, each re-checked for parity.
  const leverSets: Record<string, boolean | number>[] = [
    { WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 64 },
    { WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE: false },
    { WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 64, WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE: false },
  ];
  const levers: Record<string, unknown>[] = [];
  if (str('levers', software ? 'off' : 'on') === 'on') {
    const b = batches[Math.floor(batches.length / 2)];
    const defaults = Object.fromEntries(Object.keys(leverSets[2]).map((k) => [k, tf.env().get(k)]));
    for (const flags of leverSets) {
      if ((performance.now() - started) / 1000 > budget) {
        levers.push({ flags, error: `skipped: over the ${budget} s budget` });
        continue;
      }
      tf.env().setFlags({ ...defaults, ...flags });
      const p = await parity('tiny', 32, 8, netsN).catch((e: Error) => ({ error: e.message.split('\n')[0] }));
      const r = await speed(model, size, netsN, b, Math.max(2, Math.ceil(steps / 2)), 1, 1);
      const base = results.find((x) => x.batch === b)?.trainImagesPerSec;
      levers.push({
        flags,
        batch: b,
        trainImagesPerSec: r.trainImagesPerSec,
        speedupOverDefault: base && r.trainImagesPerSec ? Math.round((r.trainImagesPerSec / base) * 1000) / 1000 : null,
        parityMaxGradRelError: 'maxGradRelError' in p ? p.maxGradRelError : null,
        error: r.error ?? ('error' in p ? p.error : undefined),
      });
      log(`lever ${JSON.stringify(levers[levers.length - 1])}`);
    }
    tf.env().setFlags(defaults);
  }
  out.levers = levers;
  out.torch = torch;
  if (torch && !sameShape && !torch.error) out.torchNote = `torch ran input ${torch.input}, nets ${torch.nets}: no ratio computed`;
  out.seconds = Math.round((performance.now() - started) / 1000);
  console.log(JSON.stringify(out));
}

main()
  .catch((e) => {
    console.log(JSON.stringify({ bench: 'gpu-check', error: (e as Error).stack ?? String(e) }));
    process.exitCode = 1;
  })
  // Dawn's instance can keep the event loop alive; the figures are out, so leave.
  .finally(() => process.exit());
