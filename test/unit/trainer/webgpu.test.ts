// The trainer on tfjs's webgpu backend (Dawn). On CI this runs on Mesa's software drivers (llvmpipe
// through Dawn's OpenGL ES backend, or lavapipe through Vulkan); where no adapter can be made at all,
// the GPU tests are reported skipped with the probe's reason in their title.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/trainer/backend';
import { createCctOptimizers, disposeCctOptimizers, predict, stepGradients, trainStep } from '../../../src/trainer/cct';
import { RunControl } from '../../../src/trainer/control';
import { inferRun } from '../../../src/trainer/infer';
import { trainRun } from '../../../src/trainer/loop';
import { createResNet, disposeResNet, readWeights, type ResNet } from '../../../src/trainer/resnet';
import { openDb } from '../../../src/store/db';
import { countPredictions } from '../../../src/store/predictions';
import { epochMetrics, getRun } from '../../../src/store/runs';
import {
  adapterLabel,
  dawnBackendOrder,
  dawnOptions,
  isSoftwareAdapter,
  parseTfjsFlags,
  probeWebGpu,
  webgpuBlocker,
} from '../../../src/trainer/webgpu';
import { tinyProject, TINY_CONFIG } from './project-fixture';
import { relError, seededUniform } from '../../../bench/lib/numeric';

describe('adapter rules (pure)', () => {
  it('treats llvmpipe, lavapipe, SwiftShader and fallback adapters as software', () => {
    expect(isSoftwareAdapter({ device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL ES 3.2 Mesa 22.3.6' })).toBe(true);
    expect(isSoftwareAdapter({ device: 'llvmpipe (LLVM 19.1.7, 256 bits)', description: 'Mesa 25.0.7 (lavapipe)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', device: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ architecture: 'software', device: 'x' })).toBe(true);
    expect(isSoftwareAdapter({ isFallbackAdapter: true, device: 'x' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: 'NVIDIA: 570.86' })).toBe(
      false,
    );
  });

  it('tries the native API first, then OpenGL ES; an override is used alone and checked', () => {
    expect(dawnBackendOrder('linux', {})).toEqual(['vulkan', 'opengles']);
    expect(dawnBackendOrder('darwin', {})).toEqual(['metal']);
    expect(dawnBackendOrder('win32', {})).toEqual(['d3d12', 'vulkan']);
    expect(dawnBackendOrder('linux', { CONCORD_WEBGPU_BACKEND: 'OpenGLES' })).toEqual(['opengles']);
    expect(() => dawnBackendOrder('linux', { CONCORD_WEBGPU_BACKEND: 'cuda' })).toThrow(
      /'cuda' is not a Dawn backend: expected one of vulkan/,
    );
  });

  it('passes the adapter choice and extra options to Dawn', () => {
    expect(dawnOptions('vulkan', {})).toEqual(['backend=vulkan']);
    expect(
      dawnOptions('vulkan', { CONCORD_WEBGPU_ADAPTER: 'NVIDIA', CONCORD_WEBGPU_DAWN: 'enable-dawn-features=allow_unsafe_apis, x=1' }),
    ).toEqual(['backend=vulkan', 'adapter=NVIDIA', 'enable-dawn-features=allow_unsafe_apis', 'x=1']);
  });

  it('parses CONCORD_TFJS_FLAGS into typed tfjs flags and names a malformed entry', () => {
    expect(parseTfjsFlags('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64, WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE=false,X=abc')).toEqual({
      WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 64,
      WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE: false,
      X: 'abc',
    });
    expect(parseTfjsFlags(undefined)).toEqual({});
    expect(() => parseTfjsFlags('WEBGPU_X')).toThrow(/'WEBGPU_X' is not NAME=value/);
  });

  it('honours CONCORD_WEBGPU=off', () => {
    expect(webgpuBlocker({})).toBeNull();
    expect(webgpuBlocker({ CONCORD_WEBGPU: 'off' })).toMatch(/disabled by CONCORD_WEBGPU=off/);
  });
});

const probe = await probeWebGpu();
const SKIP = probe.ok ? null : `skipped: no WebGPU adapter on this machine (${probe.reason})`;
const TITLE = probe.adapter ? `webgpu on ${adapterLabel(probe.adapter)}` : (SKIP ?? 'webgpu');

function seededBatch(n: number, size: number, classes: number, seed: number): { x: Float32Array; y: Int32Array } {
  return { x: seededUniform(n * size * size * 3, seed), y: Int32Array.from({ length: n }, (_, i) => i % classes) };
}

/** Losses and every gradient of one CCT step on the active backend. */
async function gradientsOf(nets: ResNet[], xs: Float32Array, ys: Int32Array, size: number, lambda: number) {
  const x = tf.tensor4d(xs, [ys.length, size, size, 3]);
  const y = tf.tensor1d(ys, 'int32');
  try {
    return await stepGradients(nets, x, y, lambda);
  } finally {
    tf.dispose([x, y]);
  }
}

const tinyNets = (size: number) => [1, 2, 3].map((seed) => createResNet({ depth: 'tiny', inputSize: size, numClasses: 7 }, seed));

describe.skipIf(SKIP !== null)(TITLE, () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('one full CCT step of 3 tiny ResNets: losses and every gradient match the cpu backend within 1e-4 relative', async () => {
    const size = 32;
    const { x, y } = seededBatch(8, size, 7, 11);
    await selectBackend('cpu');
    const cpuNets = tinyNets(size);
    const ref = await gradientsOf(cpuNets, x, y, size, 0.6);
    cpuNets.forEach(disposeResNet);

    const info = await selectBackend('webgpu');
    expect(info).toMatchObject({ name: 'webgpu', tfjsBackend: 'webgpu' });
    expect(info.adapter?.dawnBackend).toBe(probe.adapter!.dawnBackend);
    const gpuNets = tinyNets(size);
    const got = await gradientsOf(gpuNets, x, y, size, 0.6);
    gpuNets.forEach(disposeResNet);

    expect(got.grads).toHaveLength(ref.grads.length);
    expect(got.names).toEqual(ref.names);
    for (const k of ['total', 'sup', 'cons'] as const) expect(relError([got.losses[k]], [ref.losses[k]]), k).toBeLessThan(1e-4);
    const worst = got.grads.map((g, i) => ({ i, e: relError(g, ref.grads[i]) })).sort((a, b) => b.e - a.e)[0];
    expect(worst.e, `gradient ${ref.names[worst.i]}`).toBeLessThan(1e-4);
  });

  it('trains (Adam on both rates) with flat tensor counts and flat GPU memory across steps', async () => {
    await selectBackend('webgpu');
    const size = 32;
    const nets = tinyNets(size);
    const opt = createCctOptimizers();
    const { x: xs, y: ys } = seededBatch(8, size, 7, 5);
    const x = tf.tensor4d(xs, [8, size, size, 3]);
    const y = tf.tensor1d(ys, 'int32');
    const w0 = (await readWeights(nets[0])).get('conv1.weight')!;
    const first = await trainStep({ nets, optimizers: opt, x, y, lambda: 0.3 });
    await trainStep({ nets, optimizers: opt, x, y, lambda: 0.3 }); // Adam moments exist from step 1 on
    const before = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
    let last = first;
    for (let i = 0; i < 6; i++) last = await trainStep({ nets, optimizers: opt, x, y, lambda: 0.3 });
    const after = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytesInGPU).toBe(before.numBytesInGPU);
    expect(before.numBytesInGPU).toBeGreaterThan(0);
    expect(last.sup).toBeLessThan(first.sup);
    const w1 = (await readWeights(nets[0])).get('conv1.weight')!;
    expect(relError(w1, w0)).toBeGreaterThan(1e-4);
    const p = await predict(nets, x);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(p.perNet).toHaveLength(3);
    expect(p.ensemble.slice(0, 7).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    tf.dispose([x, y]);
    nets.forEach(disposeResNet);
    disposeCctOptimizers(opt);
  });

  it('a run with backend webgpu trains 2 epochs, stores its metrics and backend, resumes, and infers', async () => {
    const p = await tinyProject({ videos: 4, frames: 10 });
    const cfg = { ...TINY_CONFIG, backend: 'webgpu', epochs: 2 };
    const r = await trainRun({ projectDir: p.projectDir, kind: 'train', config: cfg }, new RunControl(), () => {});
    expect(r.status).toBe('done');
    const runId = r.runId!;
    // one more epoch from the checkpoint, on the same backend
    const more = await trainRun(
      { projectDir: p.projectDir, kind: 'train', config: { ...cfg, epochs: 3 }, resume: true, runId },
      new RunControl(),
      () => {},
    );
    expect(more.status).toBe('done');
    const inf = await inferRun({ projectDir: p.projectDir, runId }, new RunControl(), () => {});
    expect(inf.status).toBe('done');
    const db = openDb(p.projectDir);
    try {
      const run = getRun(db, runId)!;
      expect(run.backend).toBe('webgpu');
      expect(run.device).toMatch(/^GPU \(/);
      const epochs = epochMetrics(db, runId);
      expect(epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
      for (const e of epochs) {
        expect(Number.isFinite(e.loss_total) && e.loss_total > 0).toBe(true);
        const val = JSON.parse(e.val!) as { ensemble: { accuracy: number } };
        expect(val.ensemble.accuracy).toBeGreaterThanOrEqual(0);
      }
      expect(countPredictions(db, runId)).toBe(p.withCrop);
    } finally {
      db.close();
    }
  });
});
