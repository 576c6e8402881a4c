// Picks the tfjs backend for training: TensorFlow with CUDA (@tensorflow/tfjs-node-gpu) >
// WebGPU through Dawn on a hardware adapter (webgpu.ts) > TensorFlow on CPU (@tensorflow/tfjs-node)
// > wasm (XNNPACK, with our training kernels and threads) > pure-JS cpu (40x+ slower than wasm on
// ResNet-18). A software WebGPU adapter (llvmpipe, lavapipe, SwiftShader) is only used when asked for.
//
// The tfjs-node packages are optionalDependencies and usually absent. Importing one has global
// side effects: it registers backend 'tensorflow' and makes it the active backend. It must bind to
// the same @tensorflow/tfjs(-core) instance as ours (a nested copy would make tensors of two
// different classes); loadTensorflow checks that. Only one of node/node-gpu is ever imported:
// both register the same backend name.
import os from 'node:os';
import { execFile } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm-kernels';
import { defaultWasmThreads, initWasmBackend } from './wasm-threads';
import { registerFastCpuKernels } from './cpu-kernels';
import { activateWebGpu, adapterLabel, probeWebGpu, type WebGpuAdapterInfo } from './webgpu';

export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** What runs: 'tensorflow-gpu' (CUDA device in use), 'webgpu', 'tensorflow', 'wasm' or 'cpu'. */
  name: BackendName;
  /** tfjs's own name for the active backend ('tensorflow', 'webgpu', 'wasm', 'cpu'). */
  tfjsBackend: string;
  /** Human-readable device, e.g. 'CPU (wasm simd, 2 threads)' or a GPU model. */
  device: string;
  threads: number;
  versions: Record<string, string>;
  /** Why better backends were skipped, in the order tried. */
  skipped: { name: BackendName; reason: string }[];
  /** The WebGPU adapter, when name is 'webgpu'. */
  adapter?: WebGpuAdapterInfo;
}

export interface BackendProbe {
  name: BackendName;
  usable: boolean;
  reason: string;
  version?: string;
  threads?: number;
  device?: string;
  /** webgpu: the adapter found (also when it is not used: a software one), and each Dawn backend tried. */
  adapter?: WebGpuAdapterInfo;
  attempts?: { backend: string; result: string }[];
  /** false when usable only if asked for by name (a software WebGPU adapter). */
  auto?: boolean;
}

const NODE_PACKAGES = { 'tensorflow-gpu': '@tensorflow/tfjs-node-gpu', tensorflow: '@tensorflow/tfjs-node' } as const;
type TfNodeName = keyof typeof NODE_PACKAGES;

const CUDA_HINT = 'tfjs-node-gpu 4.x needs CUDA 11.2 and cuDNN 8.1 on the library path (LD_LIBRARY_PATH on Linux, PATH on Windows)';
const MIRROR_HINT =
  'installs behind a mirror: set TFJS_NODE_CDN_STORAGE (or TFJS_NODE_BASE_URI), or point scripts/custom-binary.json ' +
  '("tf-lib", "addon") at local files, then `npm rebuild <package>`';

/**
 * Turns an import failure of a tfjs-node package into one line: not installed, or which native
 * library could not be loaded and what provides it.
 */
export function explainTfNodeError(pkg: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException & { message?: string };
  const msg = String(e?.message ?? err);
  const code = e?.code ?? '';
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && msg.includes(`'${pkg}'`)) {
    return `${pkg} is not installed (optional dependency; npm install ${pkg})`;
  }
  const lib =
    /([\w.+-]+\.(?:so(?:\.\d+)*|dylib|dll))\s*:\s*cannot open shared object file/.exec(msg)?.[1] ??
    /Library not loaded:\s*(\S+)/.exec(msg)?.[1] ??
    /([\w.+-]+\.dll)/i.exec(msg)?.[1];
  if (lib) {
    const cuda = /cud|cublas|cufft|curand|cusolver|cusparse|nvinfer/i.test(lib);
    const what = cuda
      ? `${lib} (CUDA/cuDNN) not found: ${CUDA_HINT}`
      : /tensorflow/i.test(lib)
        ? `${lib} (libtensorflow) not found: the native part of ${pkg} is missing or was not downloaded; ${MIRROR_HINT}`
        : `native library ${lib} could not be loaded`;
    return `${pkg} installed but cannot load: ${what}`;
  }
  if (/tfjs_binding\.node|node-pre-gyp|Cannot find module .*binding/i.test(msg)) {
    return `${pkg} installed but its native addon (tfjs_binding.node) is missing: run \`npm rebuild ${pkg}\`; ${MIRROR_HINT}`;
  }
  if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(msg)) {
    return `${pkg} native addon was built for another Node.js/Electron version: run \`npm rebuild ${pkg}\``;
  }
  return `${pkg} failed to load: ${msg.split('\n')[0]}`;
}

interface TfNodeModule {
  Tensor?: unknown;
  version?: Record<string, string>;
}

interface TfNodeState {
  name: TfNodeName;
  ok: boolean;
  reason: string;
  version?: string;
  usingGpu?: boolean;
}

// One import attempt per package per process: a second import would not re-run its side effects.
const tfNodeStates = new Map<TfNodeName, TfNodeState>();

async function loadTensorflow(name: TfNodeName): Promise<TfNodeState> {
  const cached = tfNodeStates.get(name);
  if (cached) return cached;
  const other = tfNodeStates.get(name === 'tensorflow' ? 'tensorflow-gpu' : 'tensorflow');
  const pkg = NODE_PACKAGES[name];
  let state: TfNodeState;
  if (other?.ok) {
    state = {
      name,
      ok: false,
      reason: `${other.name === 'tensorflow-gpu' ? NODE_PACKAGES['tensorflow-gpu'] : NODE_PACKAGES.tensorflow} is already loaded; both register backend 'tensorflow'`,
    };
  } else {
    const previous = tf.getBackend();
    try {
      const mod = (await import(/* @vite-ignore */ pkg)) as TfNodeModule & { default?: TfNodeModule };
      const m = mod.Tensor ? mod : (mod.default ?? mod);
      if (m.Tensor !== tf.Tensor) {
        state = {
          name,
          ok: false,
          reason: `${pkg} loaded a different copy of @tensorflow/tfjs-core than ours (a nested node_modules copy?); its version must match @tensorflow/tfjs ${tf.version.tfjs} and dedupe to one copy`,
        };
      } else if (tf.findBackendFactory('tensorflow') == null) {
        state = { name, ok: false, reason: `${pkg} loaded but did not register backend 'tensorflow'` };
      } else {
        state = { name, ok: true, reason: 'loaded', version: m.version?.['tfjs-node'] };
      }
    } catch (err) {
      state = { name, ok: false, reason: explainTfNodeError(pkg, err) };
    }
    // Importing switches the global backend; put the previous one back until we choose.
    if (previous && previous !== tf.getBackend() && tf.findBackend(previous)) await tf.setBackend(previous);
  }
  tfNodeStates.set(name, state);
  return state;
}

function gpuModel(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { timeout: 5000 }, (err, stdout) => {
      resolve(err ? null : stdout.split('\n')[0]?.trim() || null);
    });
  });
}

async function activateTensorflow(state: TfNodeState): Promise<{ usingGpu: boolean; libtensorflow?: string }> {
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${NODE_PACKAGES[state.name]}: backend 'tensorflow' failed to initialise`);
  const be = tf.backend() as unknown as { isUsingGpuDevice?: boolean; binding?: { TF_Version?: string } };
  return { usingGpu: Boolean(be.isUsingGpuDevice), libtensorflow: be.binding?.TF_Version };
}

function baseVersions(): Record<string, string> {
  return { tfjs: tf.version.tfjs, 'tfjs-core': tf.version['tfjs-core'], node: process.versions.node };
}

function cpuModel(): string {
  const cpus = os.cpus();
  return cpus[0]?.model?.trim() || 'CPU';
}

async function tryTensorflow(name: TfNodeName): Promise<{ info?: BackendInfo; reason: string }> {
  const state = await loadTensorflow(name);
  if (!state.ok) return { reason: state.reason };
  const act = await activateTensorflow(state);
  const versions = {
    ...baseVersions(),
    'tfjs-node': state.version ?? 'unknown',
    ...(act.libtensorflow ? { libtensorflow: act.libtensorflow } : {}),
  };
  if (act.usingGpu) {
    const model = await gpuModel();
    return {
      info: {
        name: 'tensorflow-gpu',
        tfjsBackend: 'tensorflow',
        device: model ? `GPU (${model}, CUDA)` : 'GPU (CUDA)',
        threads: os.availableParallelism(),
        versions,
        skipped: [],
      },
      reason: 'ok',
    };
  }
  if (name === 'tensorflow-gpu') {
    // The GPU build runs on CPU when TensorFlow finds no usable CUDA device.
    const reason = `${NODE_PACKAGES['tensorflow-gpu']} loaded but TensorFlow found no usable GPU (${CUDA_HINT}); it runs on CPU`;
    return {
      info: {
        name: 'tensorflow',
        tfjsBackend: 'tensorflow',
        device: `CPU (libtensorflow, GPU build without a GPU; ${cpuModel()})`,
        threads: os.availableParallelism(),
        versions,
        skipped: [{ name: 'tensorflow-gpu', reason }],
      },
      reason,
    };
  }
  return {
    info: {
      name: 'tensorflow',
      tfjsBackend: 'tensorflow',
      device: `CPU (libtensorflow; ${cpuModel()})`,
      threads: os.availableParallelism(),
      versions,
      skipped: [],
    },
    reason: 'ok',
  };
}

async function useWasm(): Promise<BackendInfo> {
  const wasm = await initWasmBackend(defaultWasmThreads());
  registerWasmTrainingKernels();
  const device = `CPU (wasm${wasm.simd ? ' simd' : ''}, ${wasm.threads} thread${wasm.threads === 1 ? '' : 's'})`;
  return {
    name: 'wasm',
    tfjsBackend: 'wasm',
    device,
    threads: wasm.threads,
    versions: { ...baseVersions(), 'tfjs-backend-wasm': version_wasm },
    skipped: wasm.note ? [{ name: 'wasm', reason: wasm.note }] : [],
  };
}

async function useCpu(): Promise<BackendInfo> {
  if (!(await tf.setBackend('cpu'))) throw new Error("tfjs backend 'cpu' failed to initialise");
  registerFastCpuKernels();
  return {
    name: 'cpu',
    tfjsBackend: 'cpu',
    device: `CPU (pure JS, 1 thread; ${cpuModel()})`,
    threads: 1,
    versions: { ...baseVersions(), 'tfjs-backend-cpu': tf.version['tfjs-backend-cpu'] ?? tf.version.tfjs },
    skipped: [],
  };
}

const SOFTWARE_NOTE = 'a software adapter runs on the CPU, slower than wasm: only --backend webgpu uses it';

/** Activates webgpu; in 'auto' only on a hardware adapter. Returns the info or why not. */
async function tryWebGpu(auto: boolean): Promise<{ info?: BackendInfo; reason: string }> {
  const probe = await probeWebGpu();
  if (!probe.ok || !probe.adapter) return { reason: probe.reason };
  if (auto && probe.adapter.software) return { reason: `${probe.reason}: ${SOFTWARE_NOTE}` };
  const adapter = await activateWebGpu();
  return {
    info: {
      name: 'webgpu',
      tfjsBackend: 'webgpu',
      device: `GPU (${adapterLabel(adapter)})`,
      threads: 1,
      versions: {
        ...baseVersions(),
        'tfjs-backend-webgpu': tf.version.tfjs,
        ...(probe.version ? { webgpu: probe.version } : {}),
      },
      skipped: [],
      adapter,
    },
    reason: 'ok',
  };
}

export interface SelectOptions {
  /**
   * The caller reads tensors synchronously (dataSync/arraySync), as face-api's post-processing
   * does: webgpu cannot serve that in Node (tfjs reads GPU data synchronously through an
   * OffscreenCanvas, which Node lacks), so it is skipped.
   */
  syncReadback?: boolean;
}

const SYNC_READBACK_NOTE = 'this task reads results synchronously (face-api post-processing), which tfjs-backend-webgpu cannot do in Node';

function parsePreference(prefer: string | undefined | null): BackendPreference {
  const p = (prefer ?? 'auto') as BackendPreference;
  if (!BACKEND_PREFERENCES.includes(p)) {
    throw new Error(`unknown backend '${prefer}': expected one of ${BACKEND_PREFERENCES.join(', ')}`);
  }
  return p;
}

/**
 * Activates the best available backend (or the one asked for) and returns what runs.
 * 'auto' tries tensorflow-gpu, webgpu on a hardware adapter, tensorflow, wasm, cpu in that order. An explicit preference that
 * cannot be met throws with the reason instead of silently running something slower, except
 * 'tensorflow' accepting either TensorFlow build and 'tensorflow-gpu' never falling back.
 */
export async function selectBackend(prefer?: BackendPreference | string | null, opts: SelectOptions = {}): Promise<BackendInfo> {
  const p = parsePreference(prefer);
  const skipped: BackendInfo['skipped'] = [];
  if (opts.syncReadback && p === 'webgpu') throw new Error(`backend 'webgpu' unavailable: ${SYNC_READBACK_NOTE}`);
  if (p === 'auto' || p === 'tensorflow-gpu' || p === 'tensorflow') {
    const gpu = await tryTensorflow('tensorflow-gpu');
    if (gpu.info?.name === 'tensorflow-gpu') return gpu.info;
    if (p === 'tensorflow-gpu') throw new Error(`backend 'tensorflow-gpu' unavailable: ${gpu.reason}`);
    if (gpu.info && p === 'tensorflow') return { ...gpu.info, skipped: [...skipped, ...gpu.info.skipped] };
    skipped.push(...(gpu.info?.skipped ?? [{ name: 'tensorflow-gpu', reason: gpu.reason }]));
    if (gpu.info) {
      // tfjs-node-gpu without a GPU runs TensorFlow on CPU; a hardware WebGPU adapter beats it.
      const wg =
        p === 'auto' && !opts.syncReadback ? await tryWebGpu(true) : { reason: opts.syncReadback ? SYNC_READBACK_NOTE : 'not tried' };
      if (wg.info) return { ...wg.info, skipped };
      skipped.push({ name: 'webgpu', reason: wg.reason });
      await tf.setBackend('tensorflow');
      return { ...gpu.info, skipped };
    }
  }
  if (p === 'auto' && opts.syncReadback) skipped.push({ name: 'webgpu', reason: SYNC_READBACK_NOTE });
  else if (p === 'auto' || p === 'webgpu') {
    const wg = await tryWebGpu(p === 'auto');
    if (wg.info) return { ...wg.info, skipped };
    if (p === 'webgpu') throw new Error(`backend 'webgpu' unavailable: ${wg.reason}`);
    skipped.push({ name: 'webgpu', reason: wg.reason });
  }
  if (p === 'auto' || p === 'tensorflow') {
    const cpuTf = await tryTensorflow('tensorflow');
    if (cpuTf.info) return { ...cpuTf.info, skipped };
    skipped.push({ name: 'tensorflow', reason: cpuTf.reason });
    if (p === 'tensorflow') throw new Error(`backend 'tensorflow' unavailable: ${skipped.map((s) => s.reason).join('; ')}`);
  }
  if (p === 'auto' || p === 'wasm') {
    try {
      const info = await useWasm();
      return { ...info, skipped: [...skipped, ...info.skipped] };
    } catch (err) {
      if (p === 'wasm') throw err;
      skipped.push({ name: 'wasm', reason: (err as Error).message });
    }
  }
  const info = await useCpu();
  return { ...info, skipped };
}

/**
 * What each backend would do on this machine, for `concord doctor`. Loads the tfjs-node packages
 * if present (they stay loaded) and initialises wasm; restores the backend that was active.
 */
export async function probeBackends(): Promise<BackendProbe[]> {
  const previous = tf.getBackend();
  const out: BackendProbe[] = [];
  try {
    for (const name of ['tensorflow-gpu', 'tensorflow'] as const) {
      const state = await loadTensorflow(name);
      if (!state.ok) {
        out.push({ name, usable: false, reason: state.reason });
        continue;
      }
      try {
        const r = await tryTensorflow(name);
        const usable = name === 'tensorflow' ? r.info != null : r.info?.name === 'tensorflow-gpu';
        out.push({
          name,
          usable,
          reason: usable ? 'available' : r.reason,
          version: state.version,
          device: r.info?.device,
          threads: r.info?.threads,
        });
      } catch (err) {
        out.push({ name, usable: false, reason: (err as Error).message, version: state.version });
      }
    }
    const wg = await probeWebGpu();
    out.splice(1, 0, {
      name: 'webgpu',
      usable: wg.ok,
      auto: wg.ok && !wg.adapter?.software,
      // device names the adapter already
      reason: !wg.ok ? wg.reason : wg.adapter?.software ? SOFTWARE_NOTE : 'available',
      version: wg.version,
      device: wg.adapter ? `GPU (${adapterLabel(wg.adapter)})` : undefined,
      adapter: wg.adapter,
      attempts: wg.attempts,
    });
    // The GPU package also provides TensorFlow on CPU.
    const gpuState = tfNodeStates.get('tensorflow-gpu');
    const tfProbe = out.find((b) => b.name === 'tensorflow');
    if (gpuState?.ok && tfProbe && !tfProbe.usable) {
      Object.assign(tfProbe, { usable: true, reason: `available through ${NODE_PACKAGES['tensorflow-gpu']}`, version: gpuState.version });
    }
    try {
      const w = await useWasm();
      out.push({
        name: 'wasm',
        usable: true,
        reason: w.skipped[0]?.reason ?? 'available (training kernels registered)',
        version: version_wasm,
        device: w.device,
        threads: w.threads,
      });
    } catch (err) {
      out.push({ name: 'wasm', usable: false, reason: (err as Error).message, version: version_wasm });
    }
    out.push({
      name: 'cpu',
      usable: true,
      reason: 'available (pure JS, 40x+ slower than wasm for ResNet-18)',
      version: tf.version.tfjs,
      device: `CPU (pure JS; ${cpuModel()})`,
      threads: 1,
    });
  } finally {
    if (previous && tf.getBackend() !== previous && tf.findBackend(previous)) await tf.setBackend(previous);
  }
  return out;
}
