// WebGPU through Dawn for Node (the npm package `webgpu`, prebuilt dawn.node inside its tarball) and
// @tensorflow/tfjs-backend-webgpu. Needs only a current GPU driver: Vulkan on Linux, Metal on macOS,
// D3D12 on Windows; OpenGL ES (Mesa) where Vulkan is missing or refused.
//
// Environment overrides (documented in the README):
//   CONCORD_WEBGPU_BACKEND   Dawn backend to use: vulkan, metal, d3d12, d3d11, opengles, opengl
//   CONCORD_WEBGPU_ADAPTER   substring of the adapter name to pick (Dawn's `adapter=` option)
//   CONCORD_WEBGPU_DAWN      extra Dawn options, comma-separated (e.g. enable-dawn-features=...)
//   CONCORD_WEBGPU=off       never load Dawn (auto then goes on to tensorflow, wasm, cpu)
//   CONCORD_TFJS_FLAGS       tfjs flags set before the backend starts, e.g.
//                            WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64,WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE=false
// Mesa's EGL needs EGL_PLATFORM=surfaceless without a display; it is set when unset.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

export type DawnBackend = 'vulkan' | 'metal' | 'd3d12' | 'd3d11' | 'opengles' | 'opengl';
export const DAWN_BACKENDS: readonly DawnBackend[] = ['vulkan', 'metal', 'd3d12', 'd3d11', 'opengles', 'opengl'];

export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Which Dawn backend serves it. */
  dawnBackend: DawnBackend;
  featureLevel: 'core' | 'compatibility';
  /** A CPU implementation (llvmpipe, lavapipe, SwiftShader, or Dawn's fallback flag). */
  software: boolean;
  features: string[];
  limits: Record<string, number>;
}

export interface WebGpuProbe {
  ok: boolean;
  /** One line: what was found, or why nothing usable was. */
  reason: string;
  adapter?: WebGpuAdapterInfo;
  /** Each Dawn backend tried, in order, and what it gave. */
  attempts: { backend: DawnBackend; result: string }[];
  version?: string;
}

const KEY_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Limits tfjs-backend-webgpu asks for (it needs the adapter's maxima, not WebGPU's defaults). */
const REQUIRED_LIMITS = KEY_LIMITS.filter((k) => k !== 'maxStorageBuffersPerShaderStage');

const SOFTWARE_RE = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

/** Whether an adapter is a CPU implementation; `auto` never chooses one. */
export function isSoftwareAdapter(info: {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}): boolean {
  if (info.isFallbackAdapter) return true;
  if ((info.architecture ?? '').toLowerCase() === 'software') return true;
  return SOFTWARE_RE.test(`${info.vendor ?? ''} ${info.device ?? ''} ${info.description ?? ''}`);
}

/** Dawn backends to try, in order: the override, else the platform's native API, then GL ES. */
export function dawnBackendOrder(platform: NodeJS.Platform = process.platform, env = process.env): DawnBackend[] {
  const forced = env.CONCORD_WEBGPU_BACKEND?.trim().toLowerCase();
  if (forced) {
    if (!DAWN_BACKENDS.includes(forced as DawnBackend)) {
      throw new Error(`CONCORD_WEBGPU_BACKEND='${forced}' is not a Dawn backend: expected one of ${DAWN_BACKENDS.join(', ')}`);
    }
    return [forced as DawnBackend];
  }
  if (platform === 'darwin') return ['metal'];
  if (platform === 'win32') return ['d3d12', 'vulkan'];
  return ['vulkan', 'opengles'];
}

/** Dawn's own options for one attempt. */
export function dawnOptions(backend: DawnBackend, env = process.env): string[] {
  const opts = [`backend=${backend}`];
  if (env.CONCORD_WEBGPU_ADAPTER?.trim()) opts.push(`adapter=${env.CONCORD_WEBGPU_ADAPTER.trim()}`);
  for (const o of (env.CONCORD_WEBGPU_DAWN ?? '').split(',')) if (o.trim()) opts.push(o.trim());
  return opts;
}

interface DawnModule {
  create(options: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface AdapterLike {
  info?: Record<string, unknown>;
  isFallbackAdapter?: boolean;
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(descriptor?: unknown): Promise<DeviceLike>;
}
interface GpuLike {
  requestAdapter(options?: unknown): Promise<AdapterLike | null>;
}
interface DeviceLike {
  lost: Promise<{ reason: string; message: string }>;
  destroy(): void;
  addEventListener?(type: string, cb: (e: { error?: { message?: string } }) => void): void;
}

interface Chosen {
  gpu: GpuLike;
  adapter: AdapterLike;
  info: WebGpuAdapterInfo;
}

let probeCache: { probe: WebGpuProbe; chosen?: Chosen } | null = null;
let activated = false;

function packageVersion(): string | undefined {
  try {
    return (createRequire(import.meta.url)('webgpu/package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** Why Dawn must not be loaded in this process, or null. */
export function webgpuBlocker(env: NodeJS.ProcessEnv = process.env): string | null {
  if ((env.CONCORD_WEBGPU ?? '').toLowerCase() === 'off') return 'disabled by CONCORD_WEBGPU=off';
  return null;
}

function describeInfo(adapter: AdapterLike, backend: DawnBackend, featureLevel: 'core' | 'compatibility'): WebGpuAdapterInfo {
  const raw = (adapter.info ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : '');
  const base = { vendor: str('vendor'), architecture: str('architecture'), device: str('device'), description: str('description') };
  const limits: Record<string, number> = {};
  for (const k of KEY_LIMITS) if (typeof adapter.limits[k] === 'number') limits[k] = adapter.limits[k];
  return {
    ...base,
    dawnBackend: backend,
    featureLevel,
    software: isSoftwareAdapter({ ...base, isFallbackAdapter: Boolean(raw.isFallbackAdapter ?? adapter.isFallbackAdapter) }),
    features: [...adapter.features].sort(),
    limits,
  };
}

/** One line naming the adapter, e.g. 'NVIDIA H200 (nvidia, hopper; Dawn vulkan)'. */
export function adapterLabel(a: WebGpuAdapterInfo): string {
  const name = a.device || a.description || 'unnamed adapter';
  const detail = [a.vendor, a.architecture].filter(Boolean).join(', ');
  return `${name}${detail ? ` (${detail})` : ''}; Dawn ${a.dawnBackend}${a.software ? ', software' : ''}`;
}

async function loadDawn(): Promise<DawnModule> {
  const mod = (await import(/* @vite-ignore */ 'webgpu')) as unknown as Partial<DawnModule> & { default?: DawnModule };
  return (mod.create ? mod : mod.default) as DawnModule;
}

/**
 * Loads Dawn once per process and finds the best adapter: the platform's native backend first
 * (high-performance preference), then OpenGL ES in compatibility mode. Never throws.
 */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  if (probeCache) return probeCache.probe;
  const attempts: WebGpuProbe['attempts'] = [];
  const blocker = webgpuBlocker();
  if (blocker) {
    probeCache = { probe: { ok: false, reason: blocker, attempts } };
    return probeCache.probe;
  }
  let dawn: DawnModule;
  try {
    if (process.platform === 'linux' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
    dawn = await loadDawn();
    // WebGPU's enums and classes (GPUBufferUsage, GPUMapMode, ...) that tfjs-backend-webgpu reads as globals.
    Object.assign(globalThis, dawn.globals);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    const reason = /Cannot find (package|module) 'webgpu'/.test(msg)
      ? 'the webgpu package (Dawn for Node) is not installed: npm install webgpu'
      : `Dawn for Node (webgpu package) failed to load: ${msg}`;
    probeCache = { probe: { ok: false, reason, attempts } };
    return probeCache.probe;
  }
  let order: DawnBackend[];
  try {
    order = dawnBackendOrder();
  } catch (e) {
    probeCache = { probe: { ok: false, reason: (e as Error).message, attempts } };
    return probeCache.probe;
  }
  let chosen: Chosen | undefined;
  for (const backend of order) {
    const featureLevel = backend === 'opengles' || backend === 'opengl' || backend === 'd3d11' ? 'compatibility' : 'core';
    try {
      const gpu = dawn.create(dawnOptions(backend));
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel });
      if (!adapter) {
        attempts.push({ backend, result: noAdapterReason(backend) });
        continue;
      }
      const info = describeInfo(adapter, backend, featureLevel);
      attempts.push({ backend, result: `adapter ${adapterLabel(info)}` });
      // A hardware adapter ends the search; a software one is kept only if nothing better follows.
      if (!chosen || (chosen.info.software && !info.software)) chosen = { gpu, adapter, info };
      if (!info.software) break;
    } catch (e) {
      attempts.push({ backend, result: `failed: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  const probe: WebGpuProbe = chosen
    ? { ok: true, reason: `adapter ${adapterLabel(chosen.info)}`, adapter: chosen.info, attempts, version: packageVersion() }
    : { ok: false, reason: `no WebGPU adapter: ${attempts.map((a) => `${a.backend}: ${a.result}`).join('; ')}`, attempts };
  probeCache = { probe, chosen };
  return probe;
}

function noAdapterReason(backend: DawnBackend): string {
  if (backend === 'vulkan') {
    return (
      'no Vulkan adapter (no libvulkan.so.1, no driver ICD, or the driver lacks what Dawn requires; ' +
      'NVIDIA in a container needs libvulkan1 and VK_ICD_FILENAMES pointing at nvidia_icd.json)'
    );
  }
  if (backend === 'opengles' || backend === 'opengl') return 'no OpenGL ES adapter (no libEGL/libGLESv2, e.g. Mesa)';
  return `no ${backend} adapter`;
}

/**
 * Registers tfjs's 'webgpu' backend on the probed adapter and makes it active. tfjs-backend-webgpu
 * registers its own factory at import when navigator.gpu exists; ours replaces it so the adapter
 * (and its feature level) is the one the probe chose, with the adapter's maximum limits.
 */
export async function activateWebGpu(): Promise<WebGpuAdapterInfo> {
  const probe = await probeWebGpu();
  const chosen = probeCache?.chosen;
  if (!probe.ok || !chosen) throw new Error(`backend 'webgpu' unavailable: ${probe.reason}`);
  if (!activated) {
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu: chosen.gpu }, configurable: true, writable: true });
    else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: chosen.gpu, configurable: true });
    const mod = (await import('@tensorflow/tfjs-backend-webgpu')) as {
      WebGPUBackend: new (device: unknown, info?: unknown) => tf.KernelBackend;
    };
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend(
      'webgpu',
      async () => {
        const requiredLimits: Record<string, number> = {};
        for (const k of REQUIRED_LIMITS) if (typeof chosen.adapter.limits[k] === 'number') requiredLimits[k] = chosen.adapter.limits[k];
        const requiredFeatures = ['timestamp-query'].filter((f) => chosen.adapter.features.has(f));
        const device = await chosen.adapter.requestDevice({ requiredLimits, requiredFeatures });
        device.lost.then((r) => {
          if (r.reason !== 'destroyed') process.stderr.write(`webgpu: device lost (${r.reason}): ${r.message}\n`);
        });
        device.addEventListener?.('uncapturederror', (e) => process.stderr.write(`webgpu: ${e.error?.message ?? 'uncaptured error'}\n`));
        return new mod.WebGPUBackend(device, chosen.adapter.info);
      },
      1, // below wasm/cpu: tfjs never picks it on its own, only setBackend('webgpu') does
    );
    activated = true;
  }
  const flags = parseTfjsFlags(process.env.CONCORD_TFJS_FLAGS);
  for (const [k, v] of Object.entries(flags)) tf.env().set(k, v);
  if (!(await tf.setBackend('webgpu'))) throw new Error("backend 'webgpu' failed to initialise (tfjs-backend-webgpu)");
  return chosen.info;
}

/** Parses CONCORD_TFJS_FLAGS ('NAME=value,...': booleans, numbers, else strings). */
export function parseTfjsFlags(text: string | undefined): Record<string, boolean | number | string> {
  const out: Record<string, boolean | number | string> = {};
  for (const part of (text ?? '').split(',')) {
    const t = part.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) throw new Error(`CONCORD_TFJS_FLAGS: '${t}' is not NAME=value`);
    const name = t.slice(0, eq).trim();
    const raw = t.slice(eq + 1).trim();
    out[name] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

/** The probe result and chosen adapter, if webgpu has been probed in this process. */
export function probedWebGpu(): WebGpuProbe | null {
  return probeCache?.probe ?? null;
}
