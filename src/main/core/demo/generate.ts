// `concord demo-data`: writes a small synthetic ABAW-shaped dataset with known label noise.
//
// Layout under outDir (as in Aff-Wild2 / ABAW):
//   annotations/{Train_Set,Validation_Set}/<video>.txt   header + one label per frame (-1 = unannotated)
//   cropped_aligned/<video>/00001.jpg ...                 size x size crops (a few frames have none)
//   videos/<video>.mp4                                    25 fps, `<video>_left/_right` share one file
//   ground_truth.csv                                      video,frame,true_label,given_label
//   demo.json                                             the DemoSummary (without outDir)

import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { ABAW7, ABAW7_HEADER } from '../../../shared/labels';
import { renderBackground, renderFace } from './faces';
import { createScratch } from './raster';
import { NOISE_KINDS, type NoiseKind } from './noise';
import {
  DEMO_CLASSES,
  TRAIN_SPLIT,
  VALIDATION_SPLIT,
  planDemoData,
  trackDrawing,
  type DemoPlan,
  type DemoSplit,
  type TrackPlan,
} from './plan';
import { DemoDataError } from './errors';
import { defaultFfmpegPath, pickCodec, startEncoder, type DemoCodec, type FrameSink } from './video-encode';

export { DemoDataError } from './errors';
export { NOISE_KINDS, type NoiseKind } from './noise';
export { countVideoFrames, defaultFfmpegPath } from './video-encode';

export const DEMO_FPS = 25;

export const DEMO_DEFAULTS = {
  videos: 12,
  frames: 150,
  noise: 0.3,
  noiseKind: 'symmetric' as NoiseKind,
  seed: 1,
  size: 112,
  validationShare: 0.25,
  encodeVideos: true,
};

export interface DemoProgress {
  /** frames: crops rendered (and JPEGs queued); videos: mp4 files finished; labels: text files written. */
  phase: 'frames' | 'videos' | 'labels';
  done: number;
  total: number;
}

export interface DemoDataOptions {
  outDir: string;
  videos?: number;
  /** Frames per video on average; each video varies by up to ±15 %. */
  frames?: number;
  /** Fraction of labelled train frames given a wrong label. */
  noise?: number;
  noiseKind?: NoiseKind;
  seed?: number;
  /** Crop size in pixels (square). */
  size?: number;
  /** Share of videos in Validation_Set (at least one video each way). */
  validationShare?: number;
  encodeVideos?: boolean;
  ffmpegPath?: string;
  /** Replace demo output already in outDir (only the names this generator writes are removed). */
  overwrite?: boolean;
  onProgress?: (p: DemoProgress) => void;
  signal?: AbortSignal;
}

export interface DemoSplitSummary {
  videos: number;
  /** Annotation files (a two-face video has two). */
  tracks: number;
  frames: number;
  labelled: number;
  unlabelled: number;
  noisy: number;
  missingCrops: number;
  /** Frames per class, ABAW-7 order. */
  trueCounts: number[];
  givenCounts: number[];
}

export interface DemoSummary {
  version: 1;
  /** Absolute output folder (not stored in demo.json, which stays identical for a seed). */
  outDir?: string;
  seed: number;
  options: {
    videos: number;
    frames: number;
    noise: number;
    noiseKind: NoiseKind;
    seed: number;
    size: number;
    validationShare: number;
    encodeVideos: boolean;
    fps: number;
  };
  classes: string[];
  /** How the given labels were corrupted, in words. */
  noiseModel: string;
  codec: DemoCodec | null;
  splits: Record<DemoSplit, DemoSplitSummary>;
  perClass: { true: number[]; given: number[] };
  /** Train frames whose given label differs from the true one. */
  noisy: number;
  /** noisy / labelled train frames. */
  noiseRate: number;
  unlabelled: number;
  missingCrops: Array<{ video: string; frame: number }>;
  videos: Array<{ name: string; split: DemoSplit; frames: number; file: string | null; width: number; height: number; tracks: string[] }>;
  tracks: Array<{
    name: string;
    video: string;
    split: DemoSplit;
    frames: number;
    labelled: number;
    unlabelled: number;
    noisy: number;
    missingCrops: number[];
  }>;
}

/** Names this generator writes under outDir; `overwrite` removes only these. */
const OUTPUT_NAMES = ['annotations', 'cropped_aligned', 'videos', 'ground_truth.csv', 'demo.json'];

const JPEG_CONCURRENCY = 8;
const VIDEO_CONCURRENCY = 2;

export const NOISE_MODEL_TEXT: Record<NoiseKind, string> = {
  symmetric: 'symmetric: round(rate x labelled train frames) frames, chosen uniformly, get a uniformly random other class',
  pairflip: `pairflip: round(rate x labelled train frames) frames, chosen uniformly, get their partner class c -> (c+1) mod 7 (${ABAW7.map((c, i) => `${c}->${ABAW7[(i + 1) % 7]}`).join(', ')})`,
  segment:
    'segment: whole label segments of train videos get another random class until round(rate x labelled train frames) are wrong; the remainder is a run at one end of a segment labelled as its neighbour',
};

type Normalized = Required<Omit<DemoDataOptions, 'onProgress' | 'signal' | 'ffmpegPath'>> & {
  ffmpegPath: string | undefined;
};

function fail(name: string, why: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got) : String(got);
  throw new DemoDataError(`demo data: ${name} ${why} (got ${shown})`);
}

/** Applies defaults and checks every option; throws a DemoDataError naming the option and the value. */
export function normalizeDemoOptions(opts: DemoDataOptions): Normalized {
  if (typeof opts.outDir !== 'string' || opts.outDir.trim() === '') fail('outDir', 'must be a folder path', opts.outDir);
  const o = { ...DEMO_DEFAULTS, overwrite: false, ...stripUndefined(opts) };
  const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);
  if (!isInt(o.videos) || o.videos < 2 || o.videos > 10000)
    fail('videos', 'must be an integer from 2 to 10000 (one train and one validation video at least)', o.videos);
  if (!isInt(o.frames) || o.frames < 1 || o.frames > 100000) fail('frames', 'must be an integer from 1 to 100000', o.frames);
  if (typeof o.noise !== 'number' || !(o.noise >= 0 && o.noise <= 1)) fail('noise', 'must be a rate from 0 to 1', o.noise);
  if (!NOISE_KINDS.includes(o.noiseKind)) fail('noiseKind', `must be one of ${NOISE_KINDS.join(', ')}`, o.noiseKind);
  if (!isInt(o.seed)) fail('seed', 'must be an integer', o.seed);
  if (!isInt(o.size) || o.size < 32 || o.size > 1024) fail('size', 'must be an integer from 32 to 1024', o.size);
  if (typeof o.validationShare !== 'number' || !(o.validationShare > 0 && o.validationShare < 1))
    fail('validationShare', 'must be between 0 and 1 (exclusive)', o.validationShare);
  return {
    outDir: resolve(opts.outDir),
    videos: o.videos,
    frames: o.frames,
    noise: o.noise,
    noiseKind: o.noiseKind,
    seed: o.seed,
    size: o.size,
    validationShare: o.validationShare,
    encodeVideos: o.encodeVideos !== false,
    overwrite: o.overwrite === true,
    ffmpegPath: opts.ffmpegPath,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('demo data generation was cancelled', 'AbortError');
}

/** Prepares outDir; returns whether this call created it (then a failed run removes it whole). */
async function prepareOutDir(dir: string, overwrite: boolean): Promise<boolean> {
  let existing: string[] | null = null;
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new DemoDataError(`demo data: output path "${dir}" exists and is not a folder`);
    existing = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (existing === null) {
    await mkdir(dir, { recursive: true });
    return true;
  }
  if (existing.length > 0) {
    if (!overwrite) {
      throw new DemoDataError(
        `demo data: output folder "${dir}" exists and is not empty (use --overwrite, or the overwrite option, to replace the demo data in it)`,
      );
    }
    await removeOutputs(dir);
  }
  return false;
}

async function removeOutputs(dir: string): Promise<void> {
  for (const name of OUTPUT_NAMES) await rm(join(dir, name), { recursive: true, force: true });
}

/** ABAW annotation file text: header, then one label per line. */
export function annotationText(labels: readonly number[]): string {
  return `${ABAW7_HEADER}\n${labels.join('\n')}\n`;
}

/** ground_truth.csv: one row per annotation line of every track. */
export function groundTruthCsv(tracks: readonly TrackPlan[]): string {
  const rows = ['video,frame,true_label,given_label'];
  for (const t of tracks) {
    for (let k = 0; k < t.frames; k++) rows.push(`${t.name},${k + 1},${t.trueLabels[k]},${t.givenLabels[k]}`);
  }
  return rows.join('\n') + '\n';
}

export function cropFileName(frame: number): string {
  return `${String(frame).padStart(5, '0')}.jpg`;
}

/** Builds the summary of a plan (pure; demo.json is this object). */
export function summarizePlan(plan: DemoPlan, opts: { size: number; encodeVideos: boolean; codec: DemoCodec | null }): DemoSummary {
  const emptySplit = (): DemoSplitSummary => ({
    videos: 0,
    tracks: 0,
    frames: 0,
    labelled: 0,
    unlabelled: 0,
    noisy: 0,
    missingCrops: 0,
    trueCounts: new Array(DEMO_CLASSES).fill(0),
    givenCounts: new Array(DEMO_CLASSES).fill(0),
  });
  const splits: Record<DemoSplit, DemoSplitSummary> = { [TRAIN_SPLIT]: emptySplit(), [VALIDATION_SPLIT]: emptySplit() };
  const perClass = { true: new Array(DEMO_CLASSES).fill(0), given: new Array(DEMO_CLASSES).fill(0) };
  const tracks: DemoSummary['tracks'] = [];
  for (const v of plan.videos) splits[v.split].videos++;
  for (const t of plan.tracks) {
    const s = splits[t.split];
    let labelled = 0;
    let noisy = 0;
    for (let k = 0; k < t.frames; k++) {
      const tl = t.trueLabels[k];
      const gl = t.givenLabels[k];
      if (tl < 0) continue;
      labelled++;
      s.trueCounts[tl]++;
      s.givenCounts[gl]++;
      perClass.true[tl]++;
      perClass.given[gl]++;
      if (tl !== gl) noisy++;
    }
    s.tracks++;
    s.frames += t.frames;
    s.labelled += labelled;
    s.unlabelled += t.frames - labelled;
    s.noisy += noisy;
    s.missingCrops += t.missingCrops.length;
    tracks.push({
      name: t.name,
      video: t.video,
      split: t.split,
      frames: t.frames,
      labelled,
      unlabelled: t.frames - labelled,
      noisy,
      missingCrops: t.missingCrops.slice(),
    });
  }
  const o = plan.options;
  const train = splits[TRAIN_SPLIT];
  return {
    version: 1,
    seed: o.seed,
    options: {
      videos: o.videos,
      frames: o.frames,
      noise: o.noise,
      noiseKind: o.noiseKind,
      seed: o.seed,
      size: opts.size,
      validationShare: o.validationShare,
      encodeVideos: opts.encodeVideos,
      fps: DEMO_FPS,
    },
    classes: [...ABAW7],
    noiseModel: NOISE_MODEL_TEXT[o.noiseKind],
    codec: opts.codec,
    splits,
    perClass,
    noisy: train.noisy + splits[VALIDATION_SPLIT].noisy,
    noiseRate: train.labelled > 0 ? train.noisy / train.labelled : 0,
    unlabelled: train.unlabelled + splits[VALIDATION_SPLIT].unlabelled,
    missingCrops: plan.tracks.flatMap((t) => t.missingCrops.map((frame) => ({ video: t.name, frame }))),
    videos: plan.videos.map((v) => ({
      name: v.name,
      split: v.split,
      frames: v.frames,
      file: opts.encodeVideos ? `videos/${v.name}.mp4` : null,
      width: opts.size * v.tracks.length,
      height: opts.size,
      tracks: v.tracks.map((t) => t.name),
    })),
    tracks,
  };
}

/** A bounded set of in-flight promises; the first failure is rethrown. */
class Pool {
  private readonly running = new Set<Promise<void>>();
  private error: unknown = null;
  constructor(private readonly limit: number) {}
  async add(task: () => Promise<void>): Promise<void> {
    if (this.error) throw this.error;
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.error) throw this.error;
    const p: Promise<void> = task().then(
      () => void this.running.delete(p),
      (err) => {
        this.running.delete(p);
        this.error ??= err;
      },
    );
    this.running.add(p);
  }
  async waitBelow(n: number): Promise<void> {
    while (this.running.size >= n) await Promise.race(this.running);
    if (this.error) throw this.error;
  }
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
    if (this.error) throw this.error;
  }
  /** Waits for everything, ignoring failures (cleanup after an error). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
  }
}

/** Writes the demo dataset; see the file comment for the layout. */
export async function generateDemoData(options: DemoDataOptions): Promise<DemoSummary> {
  const opts = normalizeDemoOptions(options);
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const plan = planDemoData(opts);
  const ffmpegPath = opts.encodeVideos ? (opts.ffmpegPath ?? defaultFfmpegPath()) : '';
  const codec = opts.encodeVideos ? await pickCodec(ffmpegPath) : null;
  signal?.throwIfAborted();

  const outDir = opts.outDir;
  const created = await prepareOutDir(outDir, opts.overwrite);
  const sinks = new Set<FrameSink>();
  const onAbort = (): void => sinks.forEach((s) => void s.kill());
  signal?.addEventListener('abort', onAbort);
  const jpegs = new Pool(JPEG_CONCURRENCY);
  const videoJobs = new Pool(VIDEO_CONCURRENCY);
  try {
    for (const split of [TRAIN_SPLIT, VALIDATION_SPLIT]) await mkdir(join(outDir, 'annotations', split), { recursive: true });
    for (const t of plan.tracks) await mkdir(join(outDir, 'cropped_aligned', t.name), { recursive: true });
    if (opts.encodeVideos) await mkdir(join(outDir, 'videos'), { recursive: true });

    const size = opts.size;
    const totalFrames = plan.tracks.reduce((n, t) => n + t.frames, 0);
    let framesDone = 0;
    let videosDone = 0;
    const check = (): void => {
      if (signal?.aborted) throw abortError(signal);
    };

    for (const video of plan.videos) {
      check();
      const drawings = video.tracks.map((t) => trackDrawing(t));
      const bgs = drawings.map((d) => renderBackground(d.appearance, size, size));
      const scratches = video.tracks.map((t) => createScratch(size, size, t.drawSeed ^ 0x5bd1e995));
      const missing = video.tracks.map((t) => new Set(t.missingCrops));
      const width = size * video.tracks.length;
      let sink: FrameSink | null = null;
      if (codec) {
        // At most VIDEO_CONCURRENCY encoders alive: this one being fed, the previous one finishing.
        await videoJobs.waitBelow(VIDEO_CONCURRENCY);
        sink = startEncoder(ffmpegPath, { width, height: size, fps: DEMO_FPS, codec, output: join(outDir, 'videos', `${video.name}.mp4`) });
        sinks.add(sink);
      }
      for (let k = 0; k < video.frames; k++) {
        check();
        const frameBuf = video.tracks.length > 1 ? new Uint8Array(width * size * 3) : null;
        for (let t = 0; t < video.tracks.length; t++) {
          const track = video.tracks[t];
          const crop = renderFace(drawings[t].frame(k), size, bgs[t], scratches[t], (k * 7919 + t * 104729) >>> 0);
          if (frameBuf) {
            for (let y = 0; y < size; y++) frameBuf.set(crop.subarray(y * size * 3, (y + 1) * size * 3), (y * width + t * size) * 3);
          } else if (sink) {
            await sink.write(crop);
          }
          if (!missing[t].has(k + 1)) {
            const file = join(outDir, 'cropped_aligned', track.name, cropFileName(k + 1));
            await jpegs.add(async () => {
              const jpg = await sharp(crop, { raw: { width: size, height: size, channels: 3 } })
                .jpeg({ quality: 90 })
                .toBuffer();
              await writeFile(file, jpg);
            });
          }
          framesDone++;
        }
        if (frameBuf && sink) await sink.write(frameBuf);
        if (onProgress && (k % 10 === 9 || k === video.frames - 1)) {
          onProgress({ phase: 'frames', done: framesDone, total: totalFrames });
        }
      }
      if (sink) {
        const s = sink;
        await videoJobs.add(async () => {
          await s.finish();
          sinks.delete(s);
          videosDone++;
          onProgress?.({ phase: 'videos', done: videosDone, total: plan.videos.length });
        });
      }
    }
    await jpegs.drain();
    await videoJobs.drain();
    check();

    const labelFiles = plan.tracks.length + 2;
    let labelsDone = 0;
    for (const t of plan.tracks) {
      await writeFile(join(outDir, 'annotations', t.split, `${t.name}.txt`), annotationText(t.givenLabels));
      onProgress?.({ phase: 'labels', done: ++labelsDone, total: labelFiles });
    }
    await writeFile(join(outDir, 'ground_truth.csv'), groundTruthCsv(plan.tracks));
    onProgress?.({ phase: 'labels', done: ++labelsDone, total: labelFiles });
    const summary = summarizePlan(plan, { size, encodeVideos: opts.encodeVideos, codec });
    await writeFile(join(outDir, 'demo.json'), JSON.stringify(summary, null, 2) + '\n');
    onProgress?.({ phase: 'labels', done: ++labelsDone, total: labelFiles });
    return { ...summary, outDir };
  } catch (err) {
    await Promise.all([...sinks].map((s) => s.kill()));
    await jpegs.settle();
    await videoJobs.settle();
    // A failed or cancelled run leaves no half-written dataset behind.
    if (created) await rm(outDir, { recursive: true, force: true });
    else await removeOutputs(outDir);
    throw signal?.aborted ? abortError(signal) : err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
