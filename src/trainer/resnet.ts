// ResNet (BasicBlock) as plain tf.Variables and a pure forward function, so the trainer controls every
// weight, name and gradient. Names are torchvision's resnet18 state-dict keys; kernels are stored in
// tfjs layout (conv [kh, kw, in, out], fc [in, out]) and converted at the torch boundary.
import * as tf from '@tensorflow/tfjs';
import { batchNormTrain } from './batch-norm';
import { Rng } from './rng';
import type { StateDict, TensorRecord } from './safetensors';

export type ResNetPreset = 'resnet18' | 'resnet10' | 'small' | 'tiny';

export interface ResNetConfig {
  /** Named preset; widths/blocks below override it. */
  depth: ResNetPreset;
  widths?: number[];
  blocks?: number[];
  /** Square input side in pixels (default 112: Aff-Wild2 crops). */
  inputSize?: number;
  /** Output classes: 7 (ABAW-7) or 8 (ABAW-8); any positive count is accepted (1000 for ImageNet weights). */
  numClasses: number;
  /** Stride of the 7x7 stem conv (default 2). */
  stemStride?: number;
  /** Apply the 3x3/2 max-pool after the stem (default true). */
  stemPool?: boolean;
}

export interface ResolvedResNetConfig {
  depth: ResNetPreset;
  widths: number[];
  blocks: number[];
  inputSize: number;
  numClasses: number;
  stemStride: number;
  stemPool: boolean;
}

export const RESNET_PRESETS: Record<ResNetPreset, { widths: number[]; blocks: number[] }> = {
  resnet18: { widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2] },
  resnet10: { widths: [64, 128, 256, 512], blocks: [1, 1, 1, 1] },
  small: { widths: [16, 32, 64, 128], blocks: [1, 1, 1, 1] },
  tiny: { widths: [8, 16, 32, 64], blocks: [1, 1, 1, 1] },
};

/** torch BatchNorm2d defaults. */
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

export type ParamKind = 'conv' | 'bn_weight' | 'bn_bias' | 'bn_running_mean' | 'bn_running_var' | 'fc_weight' | 'fc_bias';

export interface ParamSpec {
  /** torchvision state-dict key. */
  key: string;
  /** Shape in tfjs layout. */
  shape: number[];
  kind: ParamKind;
  /** Learned by the optimiser (running statistics are not). */
  trainable: boolean;
  /** Belongs to the classification head (fc), which gets its own learning rate. */
  head: boolean;
}

export interface ResNet {
  readonly config: ResolvedResNetConfig;
  /** Prefix of this network's tf variable names (tf variable names are global, so each net has its own). */
  readonly id: string;
  readonly specs: readonly ParamSpec[];
  /** torch key → variable, in torchvision state-dict order. */
  readonly vars: ReadonlyMap<string, tf.Variable>;
  /** Training-mode forward passes that updated the running statistics (torch's num_batches_tracked). */
  numBatchesTracked: number;
}

export function resolveResNetConfig(config: ResNetConfig): ResolvedResNetConfig {
  const preset = RESNET_PRESETS[config.depth];
  if (!preset) {
    throw new RangeError(`resnet: unknown depth "${config.depth}" (expected ${Object.keys(RESNET_PRESETS).join(', ')})`);
  }
  const widths = [...(config.widths ?? preset.widths)];
  const blocks = [...(config.blocks ?? preset.blocks)];
  const resolved: ResolvedResNetConfig = {
    depth: config.depth,
    widths,
    blocks,
    inputSize: config.inputSize ?? 112,
    numClasses: config.numClasses,
    stemStride: config.stemStride ?? 2,
    stemPool: config.stemPool ?? true,
  };
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  if (widths.length === 0 || widths.length !== blocks.length) {
    throw new RangeError(`resnet: widths [${widths}] and blocks [${blocks}] must be non-empty and of equal length`);
  }
  if (!widths.every(posInt) || !blocks.every(posInt)) {
    throw new RangeError(`resnet: widths [${widths}] and blocks [${blocks}] must be positive integers`);
  }
  if (!posInt(resolved.numClasses)) throw new RangeError(`resnet: numClasses must be a positive integer, got ${config.numClasses}`);
  if (!posInt(resolved.inputSize)) throw new RangeError(`resnet: inputSize must be a positive integer, got ${config.inputSize}`);
  if (!posInt(resolved.stemStride)) throw new RangeError(`resnet: stemStride must be a positive integer, got ${config.stemStride}`);
  return resolved;
}

interface BlockPlan {
  prefix: string;
  inC: number;
  outC: number;
  stride: number;
  downsample: boolean;
}

function blockPlan(cfg: ResolvedResNetConfig): BlockPlan[] {
  const plan: BlockPlan[] = [];
  let inC = cfg.widths[0]; // torchvision: inplanes = 64 = stem width
  cfg.widths.forEach((outC, s) => {
    for (let b = 0; b < cfg.blocks[s]; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      plan.push({ prefix: `layer${s + 1}.${b}`, inC, outC, stride, downsample: stride !== 1 || inC !== outC });
      inC = outC;
    }
  });
  return plan;
}

/** The parameter list of a network in torchvision state-dict order (without num_batches_tracked). */
export function resnetParamSpecs(config: ResNetConfig | ResolvedResNetConfig): ParamSpec[] {
  const cfg = resolveResNetConfig(config);
  const specs: ParamSpec[] = [];
  const conv = (key: string, k: number, inC: number, outC: number) =>
    specs.push({ key, shape: [k, k, inC, outC], kind: 'conv', trainable: true, head: false });
  const bn = (prefix: string, c: number) => {
    specs.push({ key: `${prefix}.weight`, shape: [c], kind: 'bn_weight', trainable: true, head: false });
    specs.push({ key: `${prefix}.bias`, shape: [c], kind: 'bn_bias', trainable: true, head: false });
    specs.push({ key: `${prefix}.running_mean`, shape: [c], kind: 'bn_running_mean', trainable: false, head: false });
    specs.push({ key: `${prefix}.running_var`, shape: [c], kind: 'bn_running_var', trainable: false, head: false });
  };
  conv('conv1.weight', 7, 3, cfg.widths[0]);
  bn('bn1', cfg.widths[0]);
  for (const b of blockPlan(cfg)) {
    conv(`${b.prefix}.conv1.weight`, 3, b.inC, b.outC);
    bn(`${b.prefix}.bn1`, b.outC);
    conv(`${b.prefix}.conv2.weight`, 3, b.outC, b.outC);
    bn(`${b.prefix}.bn2`, b.outC);
    if (b.downsample) {
      conv(`${b.prefix}.downsample.0.weight`, 1, b.inC, b.outC);
      bn(`${b.prefix}.downsample.1`, b.outC);
    }
  }
  const feat = cfg.widths[cfg.widths.length - 1];
  specs.push({ key: 'fc.weight', shape: [feat, cfg.numClasses], kind: 'fc_weight', trainable: true, head: true });
  specs.push({ key: 'fc.bias', shape: [cfg.numClasses], kind: 'fc_bias', trainable: true, head: true });
  return specs;
}

/** Number of learned parameters (conv + BN affine + fc; running statistics excluded). */
export function countParameters(config: ResNetConfig | ResolvedResNetConfig): number {
  return resnetParamSpecs(config)
    .filter((s) => s.trainable)
    .reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** torch's initial value of one parameter, drawn from rng (torchvision ResNet.__init__ and nn.Linear defaults). */
function initialValue(spec: ParamSpec, rng: Rng, fcFanIn: number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  switch (spec.kind) {
    case 'conv': {
      // kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = sqrt(2 / (out * kh * kw)).
      const [kh, kw, , outC] = spec.shape;
      const std = Math.sqrt(2 / (outC * kh * kw));
      for (let i = 0; i < n; i++) out[i] = rng.normal(0, std);
      break;
    }
    case 'bn_weight':
    case 'bn_running_var':
      out.fill(1);
      break;
    case 'bn_bias':
    case 'bn_running_mean':
      break;
    case 'fc_weight':
    case 'fc_bias': {
      // nn.Linear: kaiming_uniform_(a=sqrt(5)) for the weight and U(±1/sqrt(fan_in)) for the bias: both ±1/sqrt(fan_in).
      const bound = 1 / Math.sqrt(fcFanIn);
      for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound);
      break;
    }
  }
  return out;
}

let netCounter = 0;

/**
 * Builds a network with torch's initialisation, drawn deterministically from `seed`
 * (use a different seed per network, e.g. deriveSeed(runSeed, 'net', i)).
 */
export function createResNet(config: ResNetConfig, seed: number): ResNet {
  const cfg = resolveResNetConfig(config);
  const specs = resnetParamSpecs(cfg);
  const rng = new Rng(seed);
  const id = `resnet${netCounter++}`;
  const fanIn = cfg.widths[cfg.widths.length - 1];
  const vars = new Map<string, tf.Variable>();
  try {
    for (const spec of specs) {
      const init = tf.tensor(initialValue(spec, rng, fanIn), spec.shape, 'float32');
      vars.set(spec.key, tf.variable(init, spec.trainable, `${id}/${spec.key}`));
      init.dispose();
    }
  } catch (err) {
    for (const v of vars.values()) v.dispose();
    throw err;
  }
  return { config: cfg, id, specs, vars, numBatchesTracked: 0 };
}

export function disposeResNet(net: ResNet): void {
  for (const v of net.vars.values()) if (!v.isDisposed) v.dispose();
}

function param(net: ResNet, key: string): tf.Variable {
  const v = net.vars.get(key);
  if (!v) throw new Error(`resnet ${net.id}: no parameter "${key}"`);
  return v;
}

/** Learned variables split for the optimiser pair: backbone (lr 1e-3) and head fc (lr 1e-2). */
export function trainableVariables(net: ResNet): { backbone: tf.Variable[]; head: tf.Variable[] } {
  const backbone: tf.Variable[] = [];
  const head: tf.Variable[] = [];
  for (const spec of net.specs) {
    if (!spec.trainable) continue;
    (spec.head ? head : backbone).push(param(net, spec.key));
  }
  return { backbone, head };
}

export interface ForwardOptions {
  /**
   * In training mode, update running_mean/running_var (torch momentum 0.1, unbiased variance).
   * Default true; false gives a training-mode pass that leaves the statistics alone.
   */
  updateStats?: boolean;
}

function batchNorm(net: ResNet, prefix: string, x: tf.Tensor4D, training: boolean, update: boolean): tf.Tensor4D {
  const gamma = param(net, `${prefix}.weight`);
  const beta = param(net, `${prefix}.bias`);
  const runMean = param(net, `${prefix}.running_mean`);
  const runVar = param(net, `${prefix}.running_var`);
  if (training) {
    const n = x.size / x.shape[3];
    if (update && n < 2) throw new RangeError(`resnet ${net.id}: ${prefix} needs more than 1 value per channel in training mode`);
    // One custom-gradient op: its backward pass is two channel reductions and broadcasting, where
    // autodiff of moments + arithmetic takes many more full-size ops (wasm-kernels.ts).
    const { y, mean, variance } = batchNormTrain(x, gamma, beta, BN_EPSILON); // biased variance, as torch normalises with
    if (update) {
      runMean.assign(tf.tidy(() => runMean.mul(1 - BN_MOMENTUM).add(mean.mul(BN_MOMENTUM))));
      runVar.assign(tf.tidy(() => runVar.mul(1 - BN_MOMENTUM).add(variance.mul(BN_MOMENTUM * (n / (n - 1))))));
    }
    return y as tf.Tensor4D;
  }
  // y = x·scale + shift with per-channel scale = γ/sqrt(σ²+ε), shift = β − μ·scale: two full-size ops.
  const scale = gamma.mul(tf.rsqrt(runVar.add(BN_EPSILON)));
  const shift = beta.sub(runMean.mul(scale));
  return x.mul(scale).add(shift);
}

function conv(net: ResNet, key: string, x: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  return tf.conv2d(x, param(net, key) as tf.Tensor4D, stride, pad === 0 ? 'valid' : pad);
}

/** Pooled 512-d (last width) features before fc. */
export function features(net: ResNet, x: tf.Tensor4D, training: boolean, opts: ForwardOptions = {}): tf.Tensor2D {
  const cfg = net.config;
  if (x.rank !== 4 || x.shape[3] !== 3) {
    throw new RangeError(`resnet ${net.id}: input must be NHWC with 3 channels, got shape [${x.shape}]`);
  }
  const update = training && (opts.updateStats ?? true);
  return tf.tidy(() => {
    let h = conv(net, 'conv1.weight', x, cfg.stemStride, 3);
    h = tf.relu(batchNorm(net, 'bn1', h, training, update));
    // torch MaxPool2d(3, 2, padding=1): explicit symmetric padding, not 'same'.
    if (cfg.stemPool) h = tf.maxPool(h, 3, 2, 1);
    for (const b of blockPlan(cfg)) {
      let out = conv(net, `${b.prefix}.conv1.weight`, h, b.stride, 1);
      out = tf.relu(batchNorm(net, `${b.prefix}.bn1`, out, training, update));
      out = conv(net, `${b.prefix}.conv2.weight`, out, 1, 1);
      out = batchNorm(net, `${b.prefix}.bn2`, out, training, update);
      const identity = b.downsample
        ? batchNorm(net, `${b.prefix}.downsample.1`, conv(net, `${b.prefix}.downsample.0.weight`, h, b.stride, 0), training, update)
        : h;
      h = tf.relu(tf.add(out, identity)) as tf.Tensor4D;
    }
    if (update) net.numBatchesTracked++;
    return tf.mean(h, [1, 2]) as tf.Tensor2D;
  });
}

/**
 * Logits [batch, numClasses] for NHWC input. training=true uses batch statistics (and, by default,
 * updates the running statistics); false uses the running statistics.
 */
export function forward(net: ResNet, x: tf.Tensor4D, training: boolean, opts: ForwardOptions = {}): tf.Tensor2D {
  return tf.tidy(() => {
    const f = features(net, x, training, opts);
    return tf.add(tf.matMul(f, param(net, 'fc.weight')), param(net, 'fc.bias')) as tf.Tensor2D;
  });
}

export { forward as resnetForward };

// ---- torch layout boundary ------------------------------------------------------------------------

/** tfjs layout → torch layout: conv [kh,kw,in,out] → [out,in,kh,kw]; fc [in,out] → [out,in]; 1-D unchanged. */
export function toTorchLayout(t: TensorRecord): TensorRecord {
  if (t.shape.length === 4) {
    const [kh, kw, ci, co] = t.shape;
    const out = new Float32Array(t.data.length);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < ci; i++)
          for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = t.data[((y * kw + x) * ci + i) * co + o];
    return { shape: [co, ci, kh, kw], data: out };
  }
  if (t.shape.length === 2) return { shape: [t.shape[1], t.shape[0]], data: transpose2d(t.data, t.shape[0], t.shape[1]) };
  return { shape: [...t.shape], data: t.data.slice() };
}

/** torch layout → tfjs layout (inverse of {@link toTorchLayout}). */
export function fromTorchLayout(t: TensorRecord): TensorRecord {
  if (t.shape.length === 4) {
    const [co, ci, kh, kw] = t.shape;
    const out = new Float32Array(t.data.length);
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ci; i++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) out[((y * kw + x) * ci + i) * co + o] = t.data[((o * ci + i) * kh + y) * kw + x];
    return { shape: [kh, kw, ci, co], data: out };
  }
  if (t.shape.length === 2) return { shape: [t.shape[1], t.shape[0]], data: transpose2d(t.data, t.shape[0], t.shape[1]) };
  return { shape: [...t.shape], data: t.data.slice() };
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

function torchShape(spec: ParamSpec): number[] {
  const s = spec.shape;
  if (s.length === 4) return [s[3], s[2], s[0], s[1]];
  if (s.length === 2) return [s[1], s[0]];
  return [...s];
}

export interface ExportOptions {
  /** Add torch's `<bn>.num_batches_tracked` scalars (stored as float here). Default false. */
  numBatchesTracked?: boolean;
}

/** The network as a torch-layout state dict (keys and order of torchvision's resnet18). */
export async function toTorchStateDict(net: ResNet, opts: ExportOptions = {}): Promise<StateDict> {
  const dict: StateDict = {};
  const values = await readWeights(net);
  for (const spec of net.specs) {
    dict[spec.key] = toTorchLayout({ shape: [...spec.shape], data: values.get(spec.key)! });
    if (opts.numBatchesTracked && spec.kind === 'bn_running_var') {
      const prefix = spec.key.slice(0, -'.running_var'.length);
      dict[`${prefix}.num_batches_tracked`] = { shape: [], data: new Float32Array([net.numBatchesTracked]) };
    }
  }
  return dict;
}

export interface LoadStateDictOptions {
  /** File the dict came from, for error messages. */
  source?: string;
  /**
   * What to do with fc.weight/fc.bias: 'load' (must match), 'skip' (keep this net's init),
   * 'auto' (default: load when the shapes match, skip when the class counts differ).
   */
  head?: 'load' | 'skip' | 'auto';
  /** Key prefix to strip, e.g. 'module.' from nn.DataParallel; by default 'module.' is stripped when every key has it. */
  stripPrefix?: string;
  /** Ignore keys that this network does not have instead of failing (default false). */
  allowUnexpected?: boolean;
}

export interface LoadReport {
  loaded: string[];
  /** Keys of this network kept at their current value (the head when skipped). */
  skipped: string[];
  /** Keys of the dict that were not used (num_batches_tracked, or unexpected keys when allowed). */
  ignored: string[];
}

/**
 * Copies a torch-layout state dict (e.g. from readSafetensors) into the network. Every key and shape
 * is checked first; nothing is written unless the whole dict fits.
 */
export function loadTorchStateDict(net: ResNet, dict: StateDict, opts: LoadStateDictOptions = {}): LoadReport {
  const source = opts.source ?? 'state dict';
  const headMode = opts.head ?? 'auto';
  let prefix = opts.stripPrefix;
  const rawKeys = Object.keys(dict);
  if (prefix === undefined && rawKeys.length > 0 && rawKeys.every((k) => k.startsWith('module.'))) prefix = 'module.';
  const byKey = new Map<string, TensorRecord>();
  for (const k of rawKeys) byKey.set(prefix && k.startsWith(prefix) ? k.slice(prefix.length) : k, dict[k]);

  const problems: string[] = [];
  const toLoad: { spec: ParamSpec; rec: TensorRecord }[] = [];
  const report: LoadReport = { loaded: [], skipped: [], ignored: [] };
  const expected = new Set(net.specs.map((s) => s.key));
  const headShapesMatch = net.specs
    .filter((s) => s.head)
    .every((s) => {
      const rec = byKey.get(s.key);
      return rec !== undefined && sameShape(rec.shape, torchShape(s));
    });
  const skipHead = headMode === 'skip' || (headMode === 'auto' && !headShapesMatch);

  for (const spec of net.specs) {
    if (spec.head && skipHead) {
      report.skipped.push(spec.key);
      continue;
    }
    const rec = byKey.get(spec.key);
    const want = torchShape(spec);
    if (!rec) {
      problems.push(`missing "${spec.key}" (expected shape [${want}])`);
    } else if (!sameShape(rec.shape, want)) {
      problems.push(`"${spec.key}" has shape [${rec.shape}], expected [${want}]`);
    } else if (rec.data.length !== want.reduce((a, b) => a * b, 1)) {
      problems.push(`"${spec.key}" has ${rec.data.length} values for shape [${rec.shape}]`);
    } else {
      toLoad.push({ spec, rec });
    }
  }
  for (const k of byKey.keys()) {
    if (expected.has(k)) continue;
    if (k.endsWith('.num_batches_tracked') && expected.has(k.replace(/num_batches_tracked$/, 'running_var'))) {
      report.ignored.push(k);
    } else if (opts.allowUnexpected) {
      report.ignored.push(k);
    } else {
      problems.push(`unexpected key "${k}"`);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 12).join('; ');
    const more = problems.length > 12 ? ` (and ${problems.length - 12} more)` : '';
    throw new Error(`${source}: does not fit ${net.config.depth} with ${net.config.numClasses} classes: ${shown}${more}`);
  }
  for (const { spec, rec } of toLoad) {
    const local = fromTorchLayout(rec);
    const t = tf.tensor(local.data, spec.shape, 'float32');
    param(net, spec.key).assign(t);
    t.dispose();
    report.loaded.push(spec.key);
  }
  return report;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Reads every variable (tfjs layout), keyed like the specs; used by checkpoints and tests. */
export async function readWeights(net: ResNet): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  // Reads are queued together and awaited at once: one GPU round trip instead of one per variable.
  const data = await Promise.all(net.specs.map((spec) => param(net, spec.key).data()));
  net.specs.forEach((spec, i) => out.set(spec.key, (data[i] as Float32Array).slice()));
  return out;
}

/** Copies all weights (and running statistics) of `from` into `to`; configs must match. */
export function copyWeights(from: ResNet, to: ResNet): void {
  if (from.specs.length !== to.specs.length) throw new Error(`copyWeights: ${from.id} and ${to.id} differ in structure`);
  for (const spec of to.specs) {
    const src = param(from, spec.key);
    if (!sameShape(src.shape, spec.shape)) throw new Error(`copyWeights: "${spec.key}" shapes differ`);
    param(to, spec.key).assign(src);
  }
  to.numBatchesTracked = from.numBatchesTracked;
}
