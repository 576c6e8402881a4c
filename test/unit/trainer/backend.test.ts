import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { explainTfNodeError, probeBackends, selectBackend } from '../../../src/trainer/backend';
import { wasmTrainingKernelsRegistered } from '../../../src/trainer/wasm-kernels';

const require = createRequire(import.meta.url);
function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
const HAS_TF_NODE = installed('@tensorflow/tfjs-node');
const HAS_TF_NODE_GPU = installed('@tensorflow/tfjs-node-gpu');

function err(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe('explainTfNodeError', () => {
  it('says a missing optional package is not installed', () => {
    const r = explainTfNodeError(
      '@tensorflow/tfjs-node-gpu',
      err("Cannot find package '@tensorflow/tfjs-node-gpu' imported from /app/src/trainer/backend.ts", 'ERR_MODULE_NOT_FOUND'),
    );
    expect(r).toMatch(/@tensorflow\/tfjs-node-gpu is not installed/);
  });

  it('names the missing CUDA library and the CUDA/cuDNN versions tfjs-node-gpu 4.x needs', () => {
    const r = explainTfNodeError(
      '@tensorflow/tfjs-node-gpu',
      err('libcudart.so.11.0: cannot open shared object file: No such file or directory'),
    );
    expect(r).toContain('libcudart.so.11.0');
    expect(r).toMatch(/CUDA 11\.2 and cuDNN 8\.1/);
    expect(r).toContain('LD_LIBRARY_PATH');
  });

  it('names a missing libtensorflow and the mirror settings', () => {
    const r = explainTfNodeError(
      '@tensorflow/tfjs-node',
      err(
        '/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node: libtensorflow.so.2: cannot open shared object file: No such file or directory',
      ),
    );
    expect(r).toContain('libtensorflow.so.2');
    expect(r).toContain('TFJS_NODE_CDN_STORAGE');
    expect(r).toContain('custom-binary.json');
  });

  it('spots a missing native addon and a Node ABI mismatch', () => {
    expect(
      explainTfNodeError(
        '@tensorflow/tfjs-node',
        err("Cannot find module '/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'", 'MODULE_NOT_FOUND'),
      ),
    ).toMatch(/native addon \(tfjs_binding\.node\) is missing.*npm rebuild @tensorflow\/tfjs-node/);
    expect(
      explainTfNodeError('@tensorflow/tfjs-node', err('was compiled against a different Node.js version using NODE_MODULE_VERSION 115')),
    ).toMatch(/another Node\.js\/Electron version/);
  });

  it('falls back to the first line of anything else', () => {
    expect(explainTfNodeError('@tensorflow/tfjs-node', err('boom\nstack'))).toBe('@tensorflow/tfjs-node failed to load: boom');
  });
});

describe('selectBackend', () => {
  it('rejects an unknown preference, naming the valid ones', async () => {
    await expect(selectBackend('gpu')).rejects.toThrow(/unknown backend 'gpu'.*auto, tensorflow-gpu, webgpu, tensorflow, wasm, cpu/);
  });

  it('wasm: activates wasm with the training kernels and reports its threads', async () => {
    const info = await selectBackend('wasm');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    expect(info.threads).toBe(getThreadsCount());
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.device).toMatch(new RegExp(`^CPU \\(wasm( simd)?, ${info.threads} threads?\\)$`));
    expect(info.versions['tfjs-backend-wasm']).toBe(tf.version.tfjs);

    // Threaded or not, a conv gradient on wasm equals the cpu one.
    const grad = (): Float32Array =>
      tf.tidy(() => {
        const x = tf
          .range(0, 2 * 6 * 6 * 3)
          .reshape([2, 6, 6, 3])
          .div(50)
          .sin() as tf.Tensor4D;
        const w = tf
          .range(0, 3 * 3 * 3 * 4)
          .reshape([3, 3, 3, 4])
          .div(17)
          .cos() as tf.Tensor4D;
        return tf
          .grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, 2, 'same'))))(w)
          .dataSync() as Float32Array;
      });
    const before = tf.memory().numTensors;
    const onWasm = grad();
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    const onCpu = grad();
    let num = 0;
    let den = 0;
    onCpu.forEach((v, i) => {
      num += (v - onWasm[i]) ** 2;
      den += v * v;
    });
    expect(Math.sqrt(num / den)).toBeLessThan(1e-5);

    // A second call reuses the initialised backend.
    const again = await selectBackend('wasm');
    expect(again.threads).toBe(info.threads);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('cpu: activates the pure-JS backend', async () => {
    const info = await selectBackend('cpu');
    expect(info).toMatchObject({ name: 'cpu', tfjsBackend: 'cpu', threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
  });

  it.runIf(!HAS_TF_NODE && !HAS_TF_NODE_GPU)('auto without tfjs-node: wasm, saying why TensorFlow was skipped', async () => {
    const info = await selectBackend('auto');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped.map((s) => s.name).slice(0, 3)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow']);
    expect(info.skipped[0].reason).toMatch(/@tensorflow\/tfjs-node-gpu is not installed/);
    // No hardware adapter on a CI machine: either none at all or a software one, which auto never takes.
    expect(info.skipped[1].reason).toMatch(/no WebGPU adapter|software adapter|not installed|disabled/);
    expect(info.skipped[2].reason).toMatch(/@tensorflow\/tfjs-node is not installed/);
  });

  it.runIf(!HAS_TF_NODE && !HAS_TF_NODE_GPU)('an explicit TensorFlow preference that cannot be met throws the reason', async () => {
    await expect(selectBackend('tensorflow')).rejects.toThrow(/backend 'tensorflow' unavailable: .*not installed/);
    await expect(selectBackend('tensorflow-gpu')).rejects.toThrow(/backend 'tensorflow-gpu' unavailable: .*tfjs-node-gpu is not installed/);
  });
});

describe('probeBackends', () => {
  it('reports every backend in preference order and restores the active backend', async () => {
    await tf.setBackend('cpu');
    const probes = await probeBackends();
    expect(tf.getBackend()).toBe('cpu');
    expect(probes.map((p) => p.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
    for (const p of probes) expect(p.reason.length).toBeGreaterThan(0);
    const wasm = probes[3];
    expect(wasm.usable).toBe(true);
    expect(wasm.threads).toBe(getThreadsCount());
    expect(wasm.device).toMatch(/wasm/);
    expect(probes[4].usable).toBe(true);
    if (!HAS_TF_NODE_GPU) expect(probes[0]).toMatchObject({ usable: false, reason: expect.stringMatching(/not installed/) });
    if (!HAS_TF_NODE && !HAS_TF_NODE_GPU)
      expect(probes[2]).toMatchObject({ usable: false, reason: expect.stringMatching(/not installed/) });
    const webgpu = probes[1];
    if (webgpu.adapter) {
      // What doctor shows: the adapter, its Dawn backend and key limits, and every backend tried.
      expect(webgpu.adapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
      expect(webgpu.attempts!.map((a) => a.backend)).toContain(webgpu.adapter.dawnBackend);
      expect(webgpu.auto).toBe(!webgpu.adapter.software);
    }
  });
});

describe('selectBackend for synchronous readers (face-api)', () => {
  it('never hands webgpu to a caller that reads tensors synchronously, and says why', async () => {
    await expect(selectBackend('webgpu', { syncReadback: true })).rejects.toThrow(/webgpu' unavailable: .*reads results synchronously/);
    const info = await selectBackend('auto', { syncReadback: true });
    expect(info.name).not.toBe('webgpu');
    expect(info.skipped.find((s) => s.name === 'webgpu')?.reason).toMatch(/synchronously/);
  });
});
