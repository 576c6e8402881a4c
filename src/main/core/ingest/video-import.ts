// Raw videos + ABAW annotation files → the same shape of data as cropped_aligned/: frames are
// extracted at the native rate, faces detected and cropped to 112x112, then indexed like an ABAW import.
// Each video is its own unit: one that ffmpeg cannot read is reported (file, ffmpeg's reason) and the rest import.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../../store/db';
import { VideoNameClashError, videoNameClash } from '../../../store/dataset';
import { ImportError, findAnnotationFiles, parseAbawAnnotation, upsertVideoReportingOrphans, type ImportWarning } from './abaw';
import { extractFrames, findVideos, videoStem, videoStemForAnnotation } from './video';
import type { FaceSelection } from './faces/align';
import type { CropFacesOptions } from './faces/crops';
import { FaceCropWorker } from './faces/crop-in-worker';
import type { FaceBackendPreference, FaceDetectorKind } from './faces/detector';
import { throwIfAborted, type ProgressFn } from '../../../shared/progress';

export interface VideoImportOptions {
  projectDir: string;
  videos: string;
  annotations: string;
  /** tiny (fast, default) or ssd (more accurate, ~5x slower on CPU). */
  detector?: FaceDetectorKind;
  /** Run the detector every k-th frame and interpolate between (default 5 with tiny, 1 with ssd). */
  detectEvery?: number;
  minScore?: number;
  /** Detect and crop in a worker thread (default true); false runs tfjs on the calling thread. */
  faceWorker?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

export interface VideoImportResult {
  videos: { name: string; split: string; frames: number; faces: number; fps: number | null; lines: number; outcome: string }[];
  warnings: ImportWarning[];
  errors: ImportWarning[];
}

export async function importVideos(db: Db, opts: VideoImportOptions): Promise<VideoImportResult> {
  const result: VideoImportResult = { videos: [], warnings: [], errors: [] };
  const annotations = findAnnotationFiles(opts.annotations);
  const files = await findVideos(opts.videos);
  const byStem = new Map<string, string[]>();
  for (const f of files) byStem.set(videoStem(f), [...(byStem.get(videoStem(f)) ?? []), f]);
  const needed = new Map<string, string>();
  for (const a of annotations) {
    const stem = videoStemForAnnotation(a.name);
    const found = byStem.get(stem) ?? [];
    if (found.length === 1) needed.set(stem, found[0]!);
    else if (found.length > 1)
      result.errors.push({
        file: a.file,
        line: null,
        reason: `more than one video named ${stem}: ${found.join(', ')}; rename all but one`,
      });
    else result.errors.push({ file: a.file, line: null, reason: `no video named ${stem}.(mp4|avi|mkv|webm) in ${opts.videos}` });
  }
  const unreadable: ImportWarning[] = [];
  const extracted = await extractFrames({
    videos: [...needed.values()],
    cacheDir: join(opts.projectDir, 'cache'),
    signal: opts.signal,
    onVideoError: (file, reason) => unreadable.push({ file, line: null, reason }),
    onProgress: (p) =>
      opts.onProgress?.({
        phase: `extract frames (${p.videosDone}/${p.videosTotal} videos)`,
        done: p.framesDone,
        total: p.framesTotal,
        rate: p.rate,
        etaSeconds: p.etaSeconds,
      }),
  });
  // probes run in parallel: report the videos that failed in file order, not finishing order
  result.errors.push(...unreadable.sort((a, b) => a.file.localeCompare(b.file)));
  const byStemExtracted = new Map(extracted.map((e) => [e.stem, e]));
  for (const e of extracted)
    for (const w of e.warnings) result.warnings.push({ file: e.file, line: null, reason: w.replace(`${e.file}: `, '') });
  const detector = opts.detector ?? 'tiny';
  const detectEvery = opts.detectEvery ?? (detector === 'tiny' ? 5 : 1);
  const todo = annotations.filter((a) => byStemExtracted.has(videoStemForAnnotation(a.name)));
  const totalFrames = todo.reduce((s, a) => s + byStemExtracted.get(videoStemForAnnotation(a.name))!.frameCount, 0);
  let framesDone = 0;
  // tfjs and the detector run in a worker thread unless asked to stay in this one.
  const worker = opts.faceWorker === false || !todo.length ? null : new FaceCropWorker();
  const crop = async (o: CropFacesOptions) => (worker ? worker.crop(o) : (await import('./faces/crops')).cropFaces(o));
  try {
    await cropAll();
  } finally {
    await worker?.close();
  }
  return result;

  async function cropAll(): Promise<void> {
    for (const a of todo) {
      throwIfAborted(opts.signal, 'import');
      const ex = byStemExtracted.get(videoStemForAnnotation(a.name))!;
      try {
        // refused before cropping: the crops folder is named by video and would be overwritten
        const clash = videoNameClash(db, a.name, a.split);
        if (clash) throw new VideoNameClashError(a.name, clash);
        const bytes = readFileSync(a.file);
        const parsed = parseAbawAnnotation(bytes.toString('utf8'), a.file);
        const lines = parsed.labels.length;
        if (lines !== ex.frameCount) {
          result.warnings.push({
            file: a.file,
            line: null,
            reason: `annotation has ${lines} frame lines but ${ex.file} has ${ex.frameCount} frames`,
          });
        }
        const select: FaceSelection = a.name.endsWith('_left') ? 'left' : a.name.endsWith('_right') ? 'right' : 'largest';
        const outDir = join(opts.projectDir, 'cache', 'crops', a.name);
        const base = framesDone;
        const crops = await crop({
          framesDir: ex.framesDir,
          outDir,
          detector,
          detectEvery,
          minScore: opts.minScore,
          select,
          signal: opts.signal,
          onProgress: (p) => {
            const done = base + p.done;
            opts.onProgress?.({
              phase: `crop faces ${a.name}`,
              done,
              total: totalFrames,
              rate: p.rate,
              etaSeconds: p.rate > 0 ? (totalFrames - done) / p.rate : null,
            });
          },
          ...(process.env.CONCORD_FACE_BACKEND ? { backend: process.env.CONCORD_FACE_BACKEND as FaceBackendPreference } : {}),
        });
        framesDone += ex.frameCount;
        for (const e of crops.errors) result.warnings.push({ file: e.file, line: null, reason: e.reason });
        const hasFace = new Uint8Array(lines);
        for (const f of crops.frames) if (f.hasFace && f.index >= 1 && f.index <= lines) hasFace[f.index - 1] = 1;
        const hash = createHash('sha1').update(bytes).update(hasFace).digest('hex');
        const outcome = upsertVideoReportingOrphans(
          db,
          {
            name: a.name,
            split: a.split,
            source: 'video',
            labelSet: parsed.labelSet,
            header: parsed.header,
            annotationFile: a.file,
            framesDir: outDir,
            videoFile: ex.file,
            fps: ex.fps,
            contentHash: hash,
          },
          { labels: parsed.labels, hasFace },
          result.warnings,
        );
        result.videos.push({ name: a.name, split: a.split, frames: ex.frameCount, faces: crops.cropped, fps: ex.fps, lines, outcome });
      } catch (e) {
        if (opts.signal?.aborted) throw e;
        const err = e instanceof ImportError ? e : new ImportError(a.file, null, (e as Error).message);
        result.errors.push({ file: err.file, line: err.line, reason: err.reason });
      }
    }
  }
}
