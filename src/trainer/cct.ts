// Consensual Collaborative Training: the joint loss (paper eqs. 1-3), ensemble inference and one
// optimisation step over N networks with the backbone/head Adam pair.
import * as tf from '@tensorflow/tfjs';
import { forward, type ResNet } from './resnet';
import { lrAt } from './schedule';

export interface CctLossOptions {
  /**
   * Multiply both sums by 1/N (the authors' code uses 0.33 for N = 3). Off by default: the paper's
   * L_sup and L_cons are plain sums.
   */
  scaleByN?: boolean;
}

export interface CctLoss {
  /** (1 - λ)·sup + λ·cons. */
  total: tf.Scalar;
  /** L_sup = Σ_j mean_batch CE(p_j, y) (× 1/N with scaleByN). */
  sup: tf.Scalar;
  /** L_cons = Σ_j Σ_{k≠j} mean_batch KL(p_k ‖ p_j) (× 1/N with scaleByN); 0 for one network. */
  cons: tf.Scalar;
}

/** mean_batch KL(p ‖ q) = mean_b Σ_c p (log p − log q), from log-probabilities; gradients reach both sides. */
export function klDivergenceFromLogProbs(logP: tf.Tensor2D, logQ: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1)) as tf.Scalar);
}

/** mean_batch KL(softmax(p) ‖ softmax(q)) from logits. */
export function klDivergence(logitsP: tf.Tensor2D, logitsQ: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => klDivergenceFromLogProbs(tf.logSoftmax(logitsP), tf.logSoftmax(logitsQ)));
}

/**
 * The CCT loss for N networks' logits on one mini-batch. labels are int32 class indices in [0, C):
 * unannotated frames (-1) must be filtered out before, they would count as zero loss here.
 */
export function cctLoss(logits: tf.Tensor2D[], labels: tf.Tensor1D, lambda: number, opts: CctLossOptions = {}): CctLoss {
  if (logits.length === 0) throw new RangeError('cctLoss: needs at least one network');
  if (!(lambda >= 0 && lambda <= 1)) throw new RangeError(`cctLoss: lambda must be in [0, 1], got ${lambda}`);
  const [batch, classes] = logits[0].shape;
  for (const l of logits) {
    if (l.rank !== 2 || l.shape[0] !== batch || l.shape[1] !== classes) {
      throw new RangeError(`cctLoss: all logits must be [${batch}, ${classes}], got [${l.shape}]`);
    }
  }
  if (labels.rank !== 1 || labels.shape[0] !== batch) {
    throw new RangeError(`cctLoss: labels must be [${batch}], got [${labels.shape}]`);
  }
  return tf.tidy(() => {
    const n = logits.length;
    const logP = logits.map((l) => tf.logSoftmax(l) as tf.Tensor2D);
    const oneHot = tf.oneHot(labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32'), classes).toFloat();
    let sup: tf.Scalar = tf.scalar(0);
    for (const lp of logP) sup = tf.add(sup, tf.neg(tf.mean(tf.sum(tf.mul(oneHot, lp), 1))));
    let cons: tf.Scalar = tf.scalar(0);
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < n; k++) {
        if (k !== j) cons = tf.add(cons, klDivergenceFromLogProbs(logP[k], logP[j]));
      }
    }
    if (opts.scaleByN) {
      sup = tf.div(sup, n);
      cons = tf.div(cons, n);
    }
    const total = tf.add(tf.mul(sup, 1 - lambda), tf.mul(cons, lambda)) as tf.Scalar;
    return { total, sup, cons };
  });
}

/** Ensemble prediction: the mean of the N softmax outputs, [batch, C]. */
export function ensembleProbs(logits: tf.Tensor2D[]): tf.Tensor2D {
  if (logits.length === 0) throw new RangeError('ensembleProbs: needs at least one network');
  return tf.tidy(() => tf.div(tf.addN(logits.map((l) => tf.softmax(l))), logits.length) as tf.Tensor2D);
}

// ---- optimisation ---------------------------------------------------------------------------------

export interface CctOptimizerConfig {
  /** Backbone learning rate at epoch 0 (paper 1e-3). */
  backboneLr?: number;
  /** Classification-head learning rate at epoch 0 (paper 1e-2). */
  headLr?: number;
  beta1?: number;
  beta2?: number;
  /** torch's Adam default; tfjs would otherwise use 1e-7. */
  epsilon?: number;
}

export interface CctOptimizers {
  backbone: tf.AdamOptimizer;
  head: tf.AdamOptimizer;
  /** Resolved hyper-parameters; the base learning rates are those of epoch 0. */
  config: Required<CctOptimizerConfig>;
}

export const OPTIMIZER_DEFAULTS: Required<CctOptimizerConfig> = {
  backboneLr: 1e-3,
  headLr: 1e-2,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
};

export function createCctOptimizers(cfg: CctOptimizerConfig = {}): CctOptimizers {
  const config = { ...OPTIMIZER_DEFAULTS, ...cfg };
  return {
    backbone: tf.train.adam(config.backboneLr, config.beta1, config.beta2, config.epsilon),
    head: tf.train.adam(config.headLr, config.beta1, config.beta2, config.epsilon),
    config,
  };
}

// AdamOptimizer reads this.learningRate on every applyGradients, but declares it protected.
type LrAccess = { learningRate: number };

export function getLearningRates(opt: CctOptimizers): { backbone: number; head: number } {
  return {
    backbone: (opt.backbone as unknown as LrAccess).learningRate,
    head: (opt.head as unknown as LrAccess).learningRate,
  };
}

export function setLearningRates(opt: CctOptimizers, lr: { backbone: number; head: number }): void {
  for (const v of [lr.backbone, lr.head]) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`setLearningRates: bad learning rate ${v}`);
  }
  (opt.backbone as unknown as LrAccess).learningRate = lr.backbone;
  (opt.head as unknown as LrAccess).learningRate = lr.head;
}

/** Sets both rates for a 0-based epoch: base · γ^epoch (paper γ = 0.95). Returns the rates set. */
export function setEpochLearningRates(opt: CctOptimizers, epoch: number, gamma = 0.95): { backbone: number; head: number } {
  const lr = { backbone: lrAt(epoch, opt.config.backboneLr, gamma), head: lrAt(epoch, opt.config.headLr, gamma) };
  setLearningRates(opt, lr);
  return lr;
}

export function disposeCctOptimizers(opt: CctOptimizers): void {
  opt.backbone.dispose();
  opt.head.dispose();
}

/**
 * The order in which variables reach each optimiser. Adam keys its moments by position, not name,
 * so this order is part of the checkpoint format: net 0's params in spec order, then net 1's, ...
 */
export function optimizerVariableOrder(nets: readonly ResNet[]): {
  backbone: { net: number; key: string; variable: tf.Variable }[];
  head: { net: number; key: string; variable: tf.Variable }[];
} {
  const backbone: { net: number; key: string; variable: tf.Variable }[] = [];
  const head: { net: number; key: string; variable: tf.Variable }[] = [];
  nets.forEach((net, i) => {
    for (const spec of net.specs) {
      if (!spec.trainable) continue;
      const variable = net.vars.get(spec.key)!;
      (spec.head ? head : backbone).push({ net: i, key: spec.key, variable });
    }
  });
  return { backbone, head };
}

export interface TrainStepInput {
  nets: readonly ResNet[];
  optimizers: CctOptimizers;
  /** Normalised NHWC images [batch, H, W, 3]. */
  x: tf.Tensor4D;
  /** int32 class indices [batch], all in [0, C). */
  y: tf.Tensor1D;
  lambda: number;
  scaleByN?: boolean;
  /** Check that every label is in [0, C) (reads y back; default true). */
  checkLabels?: boolean;
}

export interface StepLosses {
  total: number;
  sup: number;
  cons: number;
}

/**
 * Queues one CCT step: forward all N nets in training mode (BN statistics update), loss, gradients
 * into every net (nothing detached), Adam updates with the backbone and head rates. Returns the
 * packed losses [total, sup, cons] without reading them back, so a GPU backend can run this step
 * while the caller reads the previous one's losses (readLosses). x and y stay owned by the caller;
 * the returned tensor is the caller's to read or dispose; no other tensor outlives the call.
 */
export function queueTrainStep(input: TrainStepInput): tf.Tensor1D {
  const { nets, optimizers, x, y, lambda } = input;
  if (nets.length === 0) throw new RangeError('trainStep: needs at least one network');
  const order = optimizerVariableOrder(nets);
  const varList = [...order.backbone.map((e) => e.variable), ...order.head.map((e) => e.variable)];
  let parts: tf.Scalar[] = [];
  const packed = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const logits = nets.map((net) => forward(net, x, true));
      const loss = cctLoss(logits, y, lambda, { scaleByN: input.scaleByN });
      // kept past variableGrads' own scope; disposed below
      parts = [tf.keep(loss.sup), tf.keep(loss.cons)];
      return loss.total;
    }, varList);
    // Array form: Adam pairs moments with gradients by position, so the order here is the state's order.
    const backboneGrads = order.backbone.map((e) => ({ name: e.variable.name, tensor: grads[e.variable.name] }));
    const headGrads = order.head.map((e) => ({ name: e.variable.name, tensor: grads[e.variable.name] }));
    optimizers.backbone.applyGradients(backboneGrads);
    optimizers.head.applyGradients(headGrads);
    return tf.stack([value, ...parts]) as tf.Tensor1D;
  });
  tf.dispose(parts);
  return packed;
}

/** Reads (asynchronously: no GPU stall in the caller's thread) and disposes queueTrainStep's losses. */
export async function readLosses(packed: tf.Tensor1D): Promise<StepLosses> {
  try {
    const [total, sup, cons] = await packed.data();
    return { total, sup, cons };
  } finally {
    packed.dispose();
  }
}

/** Throws when a label is not a class index in [0, classes). */
export function checkLabelRange(labels: ArrayLike<number>, classes: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= classes) {
      throw new RangeError(`trainStep: label ${labels[i]} at batch index ${i} is outside [0, ${classes})`);
    }
  }
}

/** One CCT step (queueTrainStep) and its losses. */
export async function trainStep(input: TrainStepInput): Promise<StepLosses> {
  if (input.nets.length === 0) throw new RangeError('trainStep: needs at least one network');
  if (input.checkLabels ?? true) checkLabelRange(await input.y.data(), input.nets[0].config.numClasses);
  return readLosses(queueTrainStep(input));
}

export interface StepGradients {
  losses: StepLosses;
  /** Every gradient, in the optimisers' variable order (backbone then head, net by net). */
  grads: Float32Array[];
  /** The variables' spec keys, prefixed by the net's index: '0/conv1.weight'. */
  names: string[];
}

/**
 * The losses and every gradient of one CCT step, read back, without updating anything: for
 * comparing backends (a parity check), not for training.
 */
export async function stepGradients(nets: readonly ResNet[], x: tf.Tensor4D, y: tf.Tensor1D, lambda: number): Promise<StepGradients> {
  const order = optimizerVariableOrder(nets);
  const entries = [...order.backbone, ...order.head];
  let parts: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(
    () => {
      const loss = cctLoss(
        nets.map((n) => forward(n, x, true)),
        y,
        lambda,
      );
      parts = [tf.keep(loss.sup), tf.keep(loss.cons)];
      return loss.total;
    },
    entries.map((e) => e.variable),
  );
  try {
    const [total, sup, cons] = await Promise.all([value, ...parts].map(async (t) => (await t.data())[0]));
    const g = await Promise.all(entries.map((e) => grads[e.variable.name].data() as Promise<Float32Array>));
    const ids = new Map(nets.map((n, i) => [n.id, i]));
    const names = entries.map((e) => {
      const [id, ...key] = e.variable.name.split('/');
      return `${ids.get(id) ?? id}/${key.join('/')}`;
    });
    return { losses: { total, sup, cons }, grads: g, names };
  } finally {
    tf.dispose([value, ...parts, ...Object.values(grads)]);
  }
}

export interface Predictions {
  /** Ensemble probabilities, row-major [batch, C]. */
  ensemble: Float32Array;
  /** Each network's probabilities, row-major [batch, C]. */
  perNet: Float32Array[];
}

/** Inference-mode probabilities for a batch (running BN statistics); no tensor outlives the call. */
export async function predict(nets: readonly ResNet[], x: tf.Tensor4D): Promise<Predictions> {
  if (nets.length === 0) throw new RangeError('predict: needs at least one network');
  // One readback for all networks: a GPU backend syncs once per batch, not once per network.
  const probs = tf.tidy(() => tf.stack(nets.map((net) => tf.softmax(forward(net, x, false)))) as tf.Tensor3D);
  try {
    const all = (await probs.data()) as Float32Array;
    const per = all.length / nets.length;
    const perNet = nets.map((_, i) => all.slice(i * per, (i + 1) * per));
    const ensemble = new Float32Array(perNet[0].length);
    for (const p of perNet) for (let i = 0; i < p.length; i++) ensemble[i] += p[i];
    for (let i = 0; i < ensemble.length; i++) ensemble[i] /= perNet.length;
    return { ensemble, perNet };
  } finally {
    tf.dispose(probs);
  }
}
