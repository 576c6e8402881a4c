// Training and evaluation batches: JPEG decode + resize with sharp (libuv threads, off the JS thread),
// augmentation (augment.ts), seeded sampling. A prefetching loader decodes batches k+1..k+P while
// batch k trains. A corrupt, empty or missing image is reported once by file name and skipped.
import { statSync } from 'node:fs';
import sharp from 'sharp';
import { augment, preprocess, type AugmentConfig, type Image } from './augment';
import { deriveSeed, Rng } from './rng';

export interface Sample {
  frameId: number;
  path: string;
  /** Class index, or -1 for inference-only samples. */
  label: number;
}

export interface Batch {
  /** Normalised NHWC floats, count x size x size x 3. */
  x: Float32Array;
  labels: Int32Array;
  frameIds: number[];
  count: number;
  /** Index of this batch in the epoch. */
  index: number;
}

export interface SkipReport {
  file: string;
  reason: string;
}

export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

/** Decodes one image to RGB uint8 size x size x 3 (stretched to the square, as the crops are square). */
export async function decodeImage(file: string, size: number): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(file, { failOn: 'warning' })
      .removeAlpha()
      .toColourspace('srgb')
      .resize(size, size, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== size * size * 3) {
      throw new ImageDecodeError(file, `decoded to ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    throw new ImageDecodeError(file, describeDecodeFailure(file, e as Error));
  }
}

function describeDecodeFailure(file: string, e: Error): string {
  try {
    const st = statSync(file);
    if (st.size === 0) return 'empty file (0 bytes)';
  } catch {
    return 'file not found';
  }
  return `not a readable image (${e.message.split('\n')[0]})`;
}

/** uint8 RGB → float [0, 1] Image. */
export function toFloatImage(rgb: Uint8Array, size: number): Image {
  const data = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) data[i] = rgb[i] / 255;
  return { data, width: size, height: size, channels: 3 };
}

/** One sample's network input: augmented (training) or only normalised (evaluation). */
export function prepareImage(rgb: Uint8Array, size: number, aug: AugmentConfig | null, seed: number | null): Float32Array {
  const img = toFloatImage(rgb, size);
  if (aug && seed !== null) return augment(img, new Rng(seed), aug).data;
  return preprocess(img, aug?.normalize).data;
}

// ---- sampling ---------------------------------------------------------------------------------------

export interface OrderOptions {
  /** Seed of this epoch (drawn from the run's RNG). */
  seed: number;
  balanced: boolean;
  /** Samples in the epoch; null = one pass over every sample. */
  epochSize: number | null;
  classes: number;
}

/** The epoch's sample order: a seeded permutation, or class-balanced draws with replacement. */
export function epochOrder(labels: ArrayLike<number>, opts: OrderOptions): Int32Array {
  const n = labels.length;
  const size = opts.epochSize ?? n;
  const rng = new Rng(deriveSeed(opts.seed, 'order'));
  if (n === 0) return new Int32Array(0);
  if (opts.balanced) {
    const counts = new Array<number>(opts.classes).fill(0);
    for (let i = 0; i < n; i++) counts[labels[i]]++;
    const cum = new Float64Array(n);
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += 1 / counts[labels[i]];
      cum[i] = acc;
    }
    const out = new Int32Array(size);
    for (let k = 0; k < size; k++) {
      const u = rng.next() * acc;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      out[k] = lo;
    }
    return out;
  }
  const out = new Int32Array(size);
  for (let filled = 0; filled < size;) {
    const p = rng.permutation(n);
    const take = Math.min(n, size - filled);
    out.set(p.subarray(0, take), filled);
    filled += take;
  }
  return out;
}

/** Seed of the augmentation of the sample at `position` of an epoch: independent of decode timing. */
export function augmentSeed(epochSeed: number, position: number): number {
  return deriveSeed(epochSeed, 'aug', position);
}

// ---- the loader -------------------------------------------------------------------------------------

/** One sample for preparation: where it is and its augmentation seed (null = evaluation). */
export interface PrepareItem {
  path: string;
  seed: number | null;
}

/** Prepared samples, back to back; ok[k] = 0 with errors[k] set when sample k could not be read. */
export interface Prepared {
  x: Float32Array;
  ok: Uint8Array;
  errors: (string | null)[];
}

/** Decode + prepare a list of samples on this thread (sharp still decodes on its own threads). */
export async function prepareItems(
  items: readonly PrepareItem[],
  size: number,
  aug: AugmentConfig | null,
  decode: (file: string, size: number) => Promise<Uint8Array> = decodeImage,
): Promise<Prepared> {
  const per = size * size * 3;
  const x = new Float32Array(items.length * per);
  const ok = new Uint8Array(items.length);
  const errors: (string | null)[] = items.map(() => null);
  await Promise.all(
    items.map(async (it, k) => {
      let rgb: Uint8Array;
      try {
        rgb = await decode(it.path, size);
      } catch (e) {
        errors[k] = e instanceof ImageDecodeError ? e.reason : (e as Error).message;
        return;
      }
      x.set(prepareImage(rgb, size, aug, it.seed), k * per);
      ok[k] = 1;
    }),
  );
  return { x, ok, errors };
}

/** Something that prepares batches elsewhere (data-pool.ts: worker threads). */
export interface PreparePool {
  prepare(items: readonly PrepareItem[], size: number, aug: AugmentConfig | null): Promise<Prepared>;
}

export interface LoaderOptions {
  inputSize: number;
  batchSize: number;
  /** null = evaluation preprocessing (normalise only). */
  augment: AugmentConfig | null;
  /** Epoch seed for augmentation; required with augment. */
  epochSeed?: number;
  /** Batches decoded ahead of the one being consumed. */
  prefetch: number;
  /** Drop a final batch smaller than this (BatchNorm needs 2 samples in training mode). */
  minBatch?: number;
  /** Files known to be bad (shared across epochs so each is reported once). */
  bad?: Map<string, string>;
  onSkip?: (s: SkipReport) => void;
  /** Decodes an image (tests inject failures; default decodeImage). Not used with a pool. */
  decode?: (file: string, size: number) => Promise<Uint8Array>;
  /** Prepare batches on worker threads instead of this one. */
  pool?: PreparePool | null;
}

/**
 * Iterates batches of samples[order[i]]. Decoding of the next `prefetch` batches runs while the
 * consumer works on the current one; augmentation happens when a decode lands (on this thread, or
 * on a worker with a pool).
 */
export class BatchLoader implements AsyncIterable<Batch> {
  readonly batches: number;
  private readonly bad: Map<string, string>;

  constructor(
    private readonly samples: readonly Sample[],
    private readonly order: ArrayLike<number>,
    private readonly opts: LoaderOptions,
  ) {
    if (opts.augment && opts.epochSeed === undefined) throw new Error('BatchLoader: augment needs an epochSeed');
    this.batches = Math.ceil(order.length / opts.batchSize);
    this.bad = opts.bad ?? new Map();
  }

  private async load(index: number): Promise<Batch> {
    const { batchSize, inputSize: s, augment: aug } = this.opts;
    const start = index * batchSize;
    const end = Math.min(this.order.length, start + batchSize);
    const per = s * s * 3;
    const positions: number[] = [];
    const items: PrepareItem[] = [];
    for (let position = start; position < end; position++) {
      const sample = this.samples[this.order[position]];
      if (this.bad.has(sample.path)) continue;
      positions.push(position);
      items.push({ path: sample.path, seed: aug ? augmentSeed(this.opts.epochSeed!, position) : null });
    }
    const prepared = this.opts.pool ? await this.opts.pool.prepare(items, s, aug) : await prepareItems(items, s, aug, this.opts.decode);
    let kept = 0;
    for (let k = 0; k < items.length; k++) {
      if (prepared.ok[k]) kept++;
      else if (!this.bad.has(items[k].path)) {
        const reason = prepared.errors[k] ?? 'unreadable';
        this.bad.set(items[k].path, reason);
        this.opts.onSkip?.({ file: items[k].path, reason });
      }
    }
    const x = kept === items.length ? prepared.x : new Float32Array(kept * per);
    const labels = new Int32Array(kept);
    const frameIds: number[] = [];
    let j = 0;
    for (let k = 0; k < items.length; k++) {
      if (!prepared.ok[k]) continue;
      if (x !== prepared.x) x.set(prepared.x.subarray(k * per, (k + 1) * per), j * per);
      const sample = this.samples[this.order[positions[k]]];
      labels[j] = sample.label;
      frameIds.push(sample.frameId);
      j++;
    }
    return { x, labels, frameIds, count: kept, index };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    const pending: Promise<Batch>[] = [];
    let next = 0;
    const ahead = Math.max(0, this.opts.prefetch);
    const request = () => {
      const p = this.load(next++);
      p.catch(() => undefined); // awaited below; this only keeps an early exit from reporting it unhandled
      pending.push(p);
    };
    const fill = () => {
      while (next < this.batches && pending.length < ahead) request();
    };
    fill();
    while (next < this.batches || pending.length) {
      if (!pending.length) request();
      const current = pending.shift()!;
      fill(); // `prefetch` batches decode while this one is awaited and consumed
      const batch = await current;
      if (batch.count === 0 || batch.count < (this.opts.minBatch ?? 1)) continue;
      yield batch;
    }
  }
}
