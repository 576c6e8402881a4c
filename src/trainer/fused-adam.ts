// Adam's update as one pass over each parameter on the wasm backend.
//
// tfjs's AdamOptimizer.applyGradients runs about a dozen element-wise kernels per variable (each a
// full read and write of an 11M-parameter ResNet-18): ~450 ms of a 9.5 s 3-net step at batch 32 on
// 2 cores. Here the same float32 arithmetic, op for op (every intermediate rounded with
// Math.fround, as each tfjs kernel rounds its output), runs in one loop per variable. The
// optimiser's own state (moment variables, accBeta1/2, iterations) is used and advanced exactly as
// applyGradients does, so checkpoints (getWeights/setWeights) and the other backends are unaffected.
// The moments are updated in place on the wasm heap; the weights are written to a new buffer and
// assigned, as applyGradients does: XNNPACK caches convolution operators (with their packed
// filters) per filter buffer, so a filter changed in place would keep being read in its old form.
// A moment whose data is shared with another tensor (refCount > 1) takes the stock path.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

interface Moment {
  originalName: string;
  variable: tf.Variable;
}

/** The fields of tfjs 4.x AdamOptimizer that applyGradients reads and writes. */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: (Moment | undefined)[];
  accumulatedSecondMoment: (Moment | undefined)[];
  incrementIterations(): void;
}

export interface NamedGradient {
  name: string;
  tensor: tf.Tensor;
}

/** opt.applyGradients(grads), fused into one in-place pass per variable on wasm. */
export function applyAdam(opt: tf.AdamOptimizer, grads: NamedGradient[]): void {
  if (tf.getBackend() !== 'wasm') {
    opt.applyGradients(grads);
    return;
  }
  const o = opt as unknown as AdamInternals;
  if (!(o.accBeta1 instanceof tf.Variable) || !Array.isArray(o.accumulatedFirstMoment) || typeof o.incrementIterations !== 'function') {
    opt.applyGradients(grads); // a tfjs whose Adam is laid out differently
    return;
  }
  const backend = tf.backend() as BackendWasm;
  const registered = tf.engine().registeredVariables;
  const values = grads.map((g) => registered[g.name]);
  // Moments are created as applyGradients creates them, before any heap view is taken: an
  // allocation may grow the wasm memory and detach earlier views.
  grads.forEach((g, i) => {
    const value = values[i];
    if (value == null) throw new Error(`applyAdam: no variable named ${g.name}`);
    o.accumulatedFirstMoment[i] ??= { originalName: `${g.name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
    o.accumulatedSecondMoment[i] ??= { originalName: `${g.name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
  });
  const f = Math.fround;
  const b1 = f(o.beta1);
  const b2 = f(o.beta2);
  const c1 = f(1 - o.beta1);
  const c2 = f(1 - o.beta2);
  const eps = f(o.epsilon);
  const negLr = f(-o.learningRate);
  const oneMinusAcc1 = f(1 - o.accBeta1.dataSync()[0]);
  const oneMinusAcc2 = f(1 - o.accBeta2.dataSync()[0]);
  const view = (t: tf.TensorInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;
  const exclusive = (t: tf.Tensor): boolean => backend.refCount(t.dataId) === 1 && t.dtype === 'float32';
  // Every new weight buffer is allocated before the first heap view is taken.
  const fused = grads.map((g, i) => {
    const m = o.accumulatedFirstMoment[i]!.variable;
    const v = o.accumulatedSecondMoment[i]!.variable;
    if (g.tensor == null) return null;
    if (!exclusive(m) || !exclusive(v) || g.tensor.dtype !== 'float32' || values[i].dtype !== 'float32') return null;
    if (g.tensor.size !== values[i].size)
      throw new Error(`applyAdam: gradient of ${g.name} has ${g.tensor.size} values, the variable ${values[i].size}`);
    return backend.makeOutput(values[i].shape, 'float32');
  });
  grads.forEach((g, i) => {
    const value = values[i];
    const m = o.accumulatedFirstMoment[i]!.variable;
    const v = o.accumulatedSecondMoment[i]!.variable;
    if (g.tensor == null) return;
    const out = fused[i];
    if (out == null) {
      stockUpdate(value, m, v, g.tensor, o);
      return;
    }
    const w = view(value);
    const nw = view(out);
    const ms = view(m);
    const vs = view(v);
    const gs = view(g.tensor);
    const n = w.length;
    for (let k = 0; k < n; k++) {
      const gk = gs[k];
      const mk = f(f(ms[k] * b1) + f(gk * c1));
      const vk = f(f(vs[k] * b2) + f(f(gk * gk) * c2));
      ms[k] = mk;
      vs[k] = vk;
      const step = f(f(f(mk / oneMinusAcc1) / f(f(Math.sqrt(f(vk / oneMinusAcc2))) + eps)) * negLr);
      nw[k] = f(step + w[k]);
    }
  });
  grads.forEach((_, i) => {
    const out = fused[i];
    if (out == null) return;
    const t = tf.engine().makeTensorFromTensorInfo(out);
    values[i].assign(t);
    t.dispose();
  });
  tf.tidy(() => {
    o.accBeta1.assign(tf.mul(o.accBeta1, o.beta1));
    o.accBeta2.assign(tf.mul(o.accBeta2, o.beta2));
  });
  o.incrementIterations();
}

/** applyGradients' own arithmetic for one variable. */
function stockUpdate(value: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, o: AdamInternals): void {
  tf.tidy(() => {
    const newM = tf.add(tf.mul(m, o.beta1), tf.mul(g, 1 - o.beta1));
    const newV = tf.add(tf.mul(v, o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
    const bc1 = tf.div(newM, tf.sub(1, o.accBeta1));
    const bc2 = tf.div(newV, tf.sub(1, o.accBeta2));
    m.assign(newM);
    v.assign(newV);
    value.assign(tf.add(tf.mul(tf.div(bc1, tf.add(tf.sqrt(bc2), o.epsilon)), -o.learningRate), value));
  });
}
