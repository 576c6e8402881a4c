// Training checkpoints: every network's weights and BN statistics, both Adam optimisers' moments and
// step counts, the epoch, the RNG state, the run config and metrics. A checkpoint is a directory
// with weights.bin (little-endian float32, tensors back to back) and manifest.json (what is where,
// plus the SHA-256 of weights.bin). It is written under a temporary name and renamed into place.
import * as tf from '@tensorflow/tfjs';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createCctOptimizers, optimizerVariableOrder, type CctOptimizerConfig, type CctOptimizers } from './cct';
import { createResNet, disposeResNet, type ResNet, type ResNetConfig } from './resnet';
import type { RngState } from './rng';

export const CHECKPOINT_FORMAT = 'concord-cct-checkpoint';
export const CHECKPOINT_VERSION = 1;
const MANIFEST = 'manifest.json';
const WEIGHTS = 'weights.bin';

export interface CheckpointState<C = unknown, M = unknown> {
  nets: readonly ResNet[];
  optimizers: CctOptimizers;
  /** Epochs completed (the next epoch to run, 0-based). */
  epoch: number;
  rngState: RngState;
  /** The run's configuration, stored as JSON. */
  config: C;
  /** Metrics so far, stored as JSON. */
  metrics: M;
}

export interface LoadedCheckpoint<C = unknown, M = unknown> extends CheckpointState<C, M> {
  nets: ResNet[];
  createdAt: string;
}

interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements from the start of weights.bin. */
  offset: number;
}

interface OptimizerEntry {
  learningRate: number;
  iterations: number;
  /** Adam's running β1^t and β2^t; stored so a resumed run is bit-identical (pow() would differ in the last ulp). */
  accBeta?: [number, number];
  /** First moments then second moments, as Adam.getWeights() orders them. */
  moments: TensorEntry[];
}

interface Manifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  createdAt: string;
  epoch: number;
  rngState: RngState;
  config: unknown;
  metrics: unknown;
  nets: { config: ResNetConfig; numBatchesTracked: number; tensors: TensorEntry[] }[];
  optimizers: { config: Required<CctOptimizerConfig>; backbone: OptimizerEntry; head: OptimizerEntry };
  weights: { file: string; bytes: number; sha256: string };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new Error('checkpoint: big-endian hosts are not supported');
}

async function readOptimizer(
  opt: tf.AdamOptimizer,
  logicalNames: string[],
  push: (name: string, t: tf.Tensor) => Promise<TensorEntry>,
): Promise<OptimizerEntry> {
  const weights = await opt.getWeights();
  const [iter, ...moments] = weights;
  const iterations = (await iter.tensor.data())[0];
  iter.tensor.dispose(); // getWeights() makes a fresh scalar for the step count; the rest are live variables
  const half = moments.length / 2;
  if (half !== 0 && half !== logicalNames.length) {
    throw new Error(`checkpoint: optimiser holds ${half} moment pairs but the networks have ${logicalNames.length} variables`);
  }
  const entries: TensorEntry[] = [];
  for (let i = 0; i < moments.length; i++) {
    const suffix = i < half ? 'm' : 'v';
    entries.push(await push(`${logicalNames[i % half]}/${suffix}`, moments[i].tensor));
  }
  const acc = adamPrivate(opt);
  const accBeta: [number, number] | undefined = acc ? [(await acc.accBeta1.data())[0], (await acc.accBeta2.data())[0]] : undefined;
  return { learningRate: (opt as unknown as { learningRate: number }).learningRate, iterations, moments: entries, accBeta };
}

// tfjs 4.22 AdamOptimizer keeps β^t in private variables; reach them only if they are there.
function adamPrivate(opt: tf.AdamOptimizer): { accBeta1: tf.Variable; accBeta2: tf.Variable } | null {
  const o = opt as unknown as { accBeta1?: unknown; accBeta2?: unknown };
  return o.accBeta1 instanceof tf.Variable && o.accBeta2 instanceof tf.Variable ? { accBeta1: o.accBeta1, accBeta2: o.accBeta2 } : null;
}

/**
 * Writes a checkpoint directory atomically: everything goes to `<dir>.tmp-*` (fsynced), then is renamed
 * into place, so `<dir>` is never half-written. Replacing an existing `<dir>` takes two renames; a crash
 * between them leaves the previous checkpoint at `<dir>.old-*`.
 */
export async function saveCheckpoint<C, M>(dir: string, state: CheckpointState<C, M>): Promise<void> {
  assertLittleEndian();
  const target = path.resolve(dir);
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(tmp, { recursive: true });
  try {
    const fh = await fs.open(path.join(tmp, WEIGHTS), 'w');
    const hash = createHash('sha256');
    let offset = 0;
    const push = async (name: string, t: tf.Tensor): Promise<TensorEntry> => {
      const data = (await t.data()) as Float32Array;
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      hash.update(bytes);
      for (let done = 0; done < bytes.length;) {
        const { bytesWritten } = await fh.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
      const entry = { name, shape: [...t.shape], offset };
      offset += data.length;
      return entry;
    };
    let manifest: Manifest;
    try {
      const nets: Manifest['nets'] = [];
      for (const net of state.nets) {
        const tensors: TensorEntry[] = [];
        for (const spec of net.specs) tensors.push(await push(spec.key, net.vars.get(spec.key)!));
        nets.push({ config: { ...net.config }, numBatchesTracked: net.numBatchesTracked, tensors });
      }
      const order = optimizerVariableOrder(state.nets);
      const backbone = await readOptimizer(
        state.optimizers.backbone,
        order.backbone.map((e) => `net${e.net}/${e.key}`),
        push,
      );
      const head = await readOptimizer(
        state.optimizers.head,
        order.head.map((e) => `net${e.net}/${e.key}`),
        push,
      );
      await fh.sync();
      manifest = {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        createdAt: new Date().toISOString(),
        epoch: state.epoch,
        rngState: state.rngState,
        config: state.config,
        metrics: state.metrics,
        nets,
        optimizers: { config: { ...state.optimizers.config }, backbone, head },
        weights: { file: WEIGHTS, bytes: offset * 4, sha256: hash.digest('hex') },
      };
    } finally {
      await fh.close();
    }
    const mh = await fs.open(path.join(tmp, MANIFEST), 'w');
    try {
      await mh.writeFile(JSON.stringify(manifest, null, 1));
      await mh.sync();
    } finally {
      await mh.close();
    }
    // Swap into place: rename the old checkpoint aside first (rename cannot replace a non-empty directory).
    let old: string | null = null;
    try {
      await fs.access(target);
      old = `${target}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
      await fs.rename(target, old);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await fs.rename(tmp, target);
    if (old) await fs.rm(old, { recursive: true, force: true });
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

function bad(file: string, reason: string): never {
  throw new Error(`${file}: ${reason}`);
}

function checkManifest(m: unknown, file: string): Manifest {
  const o = m as Partial<Manifest> | null;
  if (!o || typeof o !== 'object') bad(file, 'manifest is not a JSON object');
  if (o.format !== CHECKPOINT_FORMAT) bad(file, `format is ${JSON.stringify(o.format)}, expected "${CHECKPOINT_FORMAT}"`);
  if (o.version !== CHECKPOINT_VERSION) bad(file, `version ${o.version} is not supported (this build reads ${CHECKPOINT_VERSION})`);
  if (!Array.isArray(o.nets) || o.nets.length === 0) bad(file, 'no networks listed');
  if (!o.optimizers || !o.optimizers.backbone || !o.optimizers.head) bad(file, 'optimiser state missing');
  if (!o.weights || typeof o.weights.sha256 !== 'string') bad(file, 'weights entry missing');
  if (!Number.isInteger(o.epoch)) bad(file, `epoch ${o.epoch} is not an integer`);
  return o as Manifest;
}

/** Reads one tensor's floats at its offset. */
async function readTensor(fh: fs.FileHandle, e: TensorEntry, file: string, totalFloats: number): Promise<Float32Array> {
  const count = e.shape.reduce((a, b) => a * b, 1);
  if (e.offset < 0 || e.offset + count > totalFloats) bad(file, `tensor "${e.name}" lies outside the ${totalFloats * 4}-byte file`);
  const out = new Float32Array(count);
  const bytes = new Uint8Array(out.buffer);
  let done = 0;
  while (done < bytes.length) {
    const { bytesRead } = await fh.read(bytes, done, bytes.length - done, e.offset * 4 + done);
    if (bytesRead === 0) bad(file, `unexpected end of file in tensor "${e.name}"`);
    done += bytesRead;
  }
  return out;
}

async function restoreOptimizer(
  opt: tf.AdamOptimizer,
  entry: OptimizerEntry,
  expected: { name: string; variable: tf.Variable }[],
  read: (e: TensorEntry) => Promise<Float32Array>,
  file: string,
): Promise<void> {
  const half = entry.moments.length / 2;
  if (half !== 0 && half !== expected.length) {
    bad(file, `optimiser has ${half} moment pairs, the networks have ${expected.length} variables`);
  }
  const named: { name: string; tensor: tf.Tensor }[] = [{ name: 'iter', tensor: tf.scalar(entry.iterations, 'int32') }];
  try {
    for (let i = 0; i < entry.moments.length; i++) {
      const e = entry.moments[i];
      const want = expected[i % half];
      const suffix = i < half ? 'm' : 'v';
      if (e.name !== `${want.name}/${suffix}`) bad(file, `optimiser moment ${i} is "${e.name}", expected "${want.name}/${suffix}"`);
      if (e.shape.join(',') !== want.variable.shape.join(','))
        bad(file, `moment "${e.name}" has shape [${e.shape}], expected [${want.variable.shape}]`);
      // Adam's own names are "<variable>/m"; the new variables have new names.
      named.push({ name: `${want.variable.name}/${suffix}`, tensor: tf.tensor(await read(e), e.shape, 'float32') });
    }
    await opt.setWeights(named);
  } finally {
    // setWeights made its own variables from these; ours can go.
    tf.dispose(named.map((n) => n.tensor));
  }
  (opt as unknown as { learningRate: number }).learningRate = entry.learningRate;
  const acc = adamPrivate(opt);
  if (acc && entry.accBeta) {
    const [b1, b2] = [tf.scalar(entry.accBeta[0]), tf.scalar(entry.accBeta[1])];
    acc.accBeta1.assign(b1);
    acc.accBeta2.assign(b2);
    tf.dispose([b1, b2]);
  }
}

/** Restores a checkpoint written by {@link saveCheckpoint}: fresh networks and optimisers, same state. */
export async function loadCheckpoint<C = unknown, M = unknown>(dir: string): Promise<LoadedCheckpoint<C, M>> {
  assertLittleEndian();
  const manifestFile = path.join(dir, MANIFEST);
  let text: string;
  try {
    text = await fs.readFile(manifestFile, 'utf-8');
  } catch (err) {
    bad(manifestFile, `cannot read checkpoint manifest: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    bad(manifestFile, `not valid JSON: ${(err as Error).message}`);
  }
  const m = checkManifest(parsed, manifestFile);
  const weightsFile = path.join(dir, m.weights.file);
  const size = (await fs.stat(weightsFile)).size;
  if (size !== m.weights.bytes) bad(weightsFile, `is ${size} bytes, the manifest says ${m.weights.bytes}`);
  const totalFloats = size / 4;

  const nets: ResNet[] = [];
  const optimizers = createCctOptimizers(m.optimizers.config);
  const fh = await fs.open(weightsFile, 'r');
  try {
    // Hash while reading in file order, so every byte is read once.
    const hash = createHash('sha256');
    let hashed = 0;
    const read = async (e: TensorEntry): Promise<Float32Array> => {
      if (e.offset !== hashed) bad(manifestFile, `tensor "${e.name}" is not stored in order (offset ${e.offset}, expected ${hashed})`);
      const data = await readTensor(fh, e, weightsFile, totalFloats);
      hash.update(new Uint8Array(data.buffer));
      hashed += data.length;
      return data;
    };
    for (const entry of m.nets) {
      const net = createResNet(entry.config, 0);
      nets.push(net);
      if (entry.tensors.length !== net.specs.length) {
        bad(manifestFile, `network ${nets.length - 1} stores ${entry.tensors.length} tensors, its config has ${net.specs.length}`);
      }
      for (let i = 0; i < net.specs.length; i++) {
        const spec = net.specs[i];
        const e = entry.tensors[i];
        if (e.name !== spec.key || e.shape.join(',') !== spec.shape.join(',')) {
          bad(manifestFile, `network ${nets.length - 1} tensor ${i} is "${e.name}" [${e.shape}], expected "${spec.key}" [${spec.shape}]`);
        }
        const t = tf.tensor(await read(e), e.shape, 'float32');
        net.vars.get(spec.key)!.assign(t);
        t.dispose();
      }
      net.numBatchesTracked = entry.numBatchesTracked;
    }
    const order = optimizerVariableOrder(nets);
    const named = (list: typeof order.backbone) => list.map((e) => ({ name: `net${e.net}/${e.key}`, variable: e.variable }));
    await restoreOptimizer(optimizers.backbone, m.optimizers.backbone, named(order.backbone), read, manifestFile);
    await restoreOptimizer(optimizers.head, m.optimizers.head, named(order.head), read, manifestFile);
    if (hashed !== totalFloats) bad(weightsFile, `has ${(totalFloats - hashed) * 4} bytes the manifest does not describe`);
    if (hash.digest('hex') !== m.weights.sha256) bad(weightsFile, 'SHA-256 does not match the manifest (corrupt or modified)');
  } catch (err) {
    nets.forEach(disposeResNet);
    optimizers.backbone.dispose();
    optimizers.head.dispose();
    throw err;
  } finally {
    await fh.close();
  }
  return {
    nets,
    optimizers,
    epoch: m.epoch,
    rngState: m.rngState,
    config: m.config as C,
    metrics: m.metrics as M,
    createdAt: m.createdAt,
  };
}
