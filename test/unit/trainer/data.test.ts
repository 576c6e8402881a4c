import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { tempDir } from '../../helpers/tmp';
import { BatchLoader, decodeImage, epochOrder, prepareImage, type Batch, type Sample, type SkipReport } from '../../../src/trainer/data';
import { DEFAULT_AUGMENT, IMAGENET_MEAN, IMAGENET_STD } from '../../../src/trainer/augment';
import { DataPool } from '../../../src/trainer/data-pool';

async function jpeg(file: string, size: number, rgb: [number, number, number]): Promise<string> {
  await sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg({ quality: 95 })
    .toFile(file);
  return file;
}

async function collect(loader: BatchLoader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

describe('decodeImage', () => {
  it('decodes and resizes a JPEG to size x size x 3', async () => {
    const dir = tempDir();
    const f = await jpeg(join(dir, 'a.jpg'), 40, [200, 100, 50]);
    const px = await decodeImage(f, 16);
    expect(px.length).toBe(16 * 16 * 3);
    expect(Math.abs(px[0] - 200)).toBeLessThan(4);
    expect(Math.abs(px[1] - 100)).toBeLessThan(4);
    expect(Math.abs(px[2] - 50)).toBeLessThan(4);
    // evaluation preprocessing is exactly ImageNet normalisation
    const x = prepareImage(px, 16, null, null);
    expect(x[0]).toBeCloseTo((px[0] / 255 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], 5);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the file and the reason for empty, corrupt and missing files', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty.jpg'), Buffer.alloc(0));
    writeFileSync(join(dir, 'junk.jpg'), Buffer.from('this is not a jpeg at all'));
    await expect(decodeImage(join(dir, 'empty.jpg'), 8)).rejects.toThrow(/empty\.jpg: empty file \(0 bytes\)/);
    await expect(decodeImage(join(dir, 'junk.jpg'), 8)).rejects.toThrow(/junk\.jpg: not a readable image/);
    await expect(decodeImage(join(dir, 'gone.jpg'), 8)).rejects.toThrow(/gone\.jpg: file not found/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('epochOrder', () => {
  it('is a seeded permutation, different per epoch seed', () => {
    const labels = Array.from({ length: 50 }, (_, i) => i % 5);
    const a = epochOrder(labels, { seed: 7, balanced: false, epochSize: null, classes: 5 });
    const b = epochOrder(labels, { seed: 7, balanced: false, epochSize: null, classes: 5 });
    const c = epochOrder(labels, { seed: 8, balanced: false, epochSize: null, classes: 5 });
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
    expect([...a].sort((x, y) => x - y)).toEqual(labels.map((_, i) => i));
    expect(epochOrder(labels, { seed: 7, balanced: false, epochSize: 120, classes: 5 }).length).toBe(120);
  });

  it('balances classes when asked', () => {
    // 90 of class 0, 10 of class 1
    const labels = Array.from({ length: 100 }, (_, i) => (i < 90 ? 0 : 1));
    const o = epochOrder(labels, { seed: 3, balanced: true, epochSize: 4000, classes: 2 });
    const ones = [...o].filter((i) => labels[i] === 1).length / o.length;
    expect(ones).toBeGreaterThan(0.45);
    expect(ones).toBeLessThan(0.55);
    const plain = epochOrder(labels, { seed: 3, balanced: false, epochSize: null, classes: 2 });
    expect([...plain].filter((i) => labels[i] === 1).length).toBe(10);
  });
});

describe('BatchLoader', () => {
  it('skips unreadable images, reports each once by file name, and keeps going', async () => {
    const dir = tempDir();
    const samples: Sample[] = [];
    for (let i = 0; i < 6; i++)
      samples.push({ frameId: i + 1, path: await jpeg(join(dir, `${i}.jpg`), 20, [i * 40, 80, 120]), label: i % 3 });
    writeFileSync(join(dir, 'zero.jpg'), Buffer.alloc(0));
    writeFileSync(join(dir, 'bad.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    samples.splice(2, 0, { frameId: 100, path: join(dir, 'zero.jpg'), label: 0 });
    samples.push({ frameId: 101, path: join(dir, 'bad.jpg'), label: 1 });
    const skips: SkipReport[] = [];
    const bad = new Map<string, string>();
    const order = Int32Array.from(samples.keys());
    const opts = { inputSize: 12, batchSize: 3, augment: null, prefetch: 2, bad, onSkip: (s: SkipReport) => skips.push(s) };
    const batches = await collect(new BatchLoader(samples, order, opts));
    expect(batches.map((b) => b.count)).toEqual([2, 3, 1]);
    expect(batches.flatMap((b) => b.frameIds)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(batches[0].x.length).toBe(2 * 12 * 12 * 3);
    // Batches decode concurrently, so the two reports may come in either order.
    const byName = new Map(skips.map((s) => [s.file.split(/[\\/]/).pop(), s.reason]));
    expect([...byName.keys()].sort()).toEqual(['bad.jpg', 'zero.jpg']);
    expect(byName.get('zero.jpg')).toBe('empty file (0 bytes)');
    // next epoch: known-bad files are skipped silently
    await collect(new BatchLoader(samples, order, opts));
    expect(skips.length).toBe(2);
    // minBatch drops a final batch too small to train (BatchNorm)
    const trained = await collect(new BatchLoader(samples, order, { ...opts, minBatch: 2 }));
    expect(trained.map((b) => b.count)).toEqual([2, 3]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('augments deterministically per (epoch seed, position), whatever the prefetch depth', async () => {
    const dir = tempDir();
    const samples: Sample[] = [];
    for (let i = 0; i < 5; i++)
      samples.push({ frameId: i, path: await jpeg(join(dir, `${i}.jpg`), 16, [30 * i, 200 - 20 * i, 90]), label: 0 });
    const order = Int32Array.from([4, 2, 0, 1, 3]);
    const base = { inputSize: 16, batchSize: 2, augment: DEFAULT_AUGMENT, epochSeed: 11 };
    const a = await collect(new BatchLoader(samples, order, { ...base, prefetch: 0 }));
    const b = await collect(new BatchLoader(samples, order, { ...base, prefetch: 3 }));
    const c = await collect(new BatchLoader(samples, order, { ...base, epochSeed: 12, prefetch: 1 }));
    // a worker thread prepares exactly the same floats
    const pool = new DataPool(1);
    const d = await collect(new BatchLoader(samples, order, { ...base, prefetch: 2, pool })).finally(() => pool.close());
    expect(a.map((x) => [...x.x])).toEqual(b.map((x) => [...x.x]));
    expect(d.map((x) => [...x.x])).toEqual(a.map((x) => [...x.x]));
    expect(a.map((x) => [...x.x])).not.toEqual(c.map((x) => [...x.x]));
    expect(a.flatMap((x) => x.frameIds)).toEqual([4, 2, 0, 1, 3]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('decodes the next batches while the current one is consumed', async () => {
    const started: number[] = [];
    const samples: Sample[] = Array.from({ length: 8 }, (_, i) => ({ frameId: i, path: `f${i}`, label: 0 }));
    const decode = async (file: string, size: number) => {
      started.push(Number(file.slice(1)));
      return new Uint8Array(size * size * 3);
    };
    const loader = new BatchLoader(samples, Int32Array.from(samples.keys()), {
      inputSize: 4,
      batchSize: 2,
      augment: null,
      prefetch: 2,
      decode,
    });
    const it = loader[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value.frameIds).toEqual([0, 1]);
    // batch 0 in hand: batches 1 and 2 already requested, batch 3 not yet
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    await it.next();
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await it.return?.(undefined);
  });
});
