// Scores ABAW-format prediction files against annotation files with the challenge metric (pooled
// over every frame of every video; ground-truth -1 frames skipped). Pure Node, no tensors.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { labelSetFromHeader } from '../shared/labels';
import { evaluate } from './metrics';

export class EvalFilesError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly reason: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${reason}`);
    this.name = 'EvalFilesError';
  }
}

export interface EvalFilesOptions {
  predDir: string;
  gtDir: string;
  /** 7 (ABAW 2020/2021) or 8 (2022 on, with Other); default from the annotation headers. */
  classes?: 7 | 8;
}

export interface FileScore {
  video: string;
  frames: number;
  accuracy: number;
}

export interface EvalFilesResult {
  classes: number;
  files: number;
  /** Frames scored (ground truth other than -1). */
  frames: number;
  skippedUnannotated: number;
  accuracy: number;
  macroF1: number;
  /** 0.67 F1 + 0.33 accuracy (the 2020/2021 track score; 2022 on ranks by macroF1 alone). */
  overall: number;
  perClassF1: number[];
  confusion: number[][];
  /** Zero-division rule: a class with no true and no predicted frame has F1 0 (sklearn's default). */
  zeroDivision: 0;
  perFile: FileScore[];
  /** Prediction files with no annotation file. */
  unmatchedPredictions: string[];
}

interface LabelFile {
  header: string | null;
  labels: number[];
  /** 1-based line number of labels[0]. */
  firstLine: number;
}

/** Reads an ABAW label file: an optional header line (any line that is not an integer), then one integer per line. */
export function readLabelFile(file: string, opts: { headerRequired?: boolean } = {}): LabelFile {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  let header: string | null = null;
  let first = 0;
  if (lines.length && !/^\s*-?\d+\s*$/.test(lines[0])) {
    header = lines[0].trim();
    first = 1;
  } else if (opts.headerRequired) {
    throw new EvalFilesError(file, 1, 'expected the header line (Neutral,Anger,...) first');
  }
  const labels: number[] = [];
  for (let i = first; i < lines.length; i++) {
    const t = lines[i].trim();
    if (!/^-?\d+$/.test(t)) throw new EvalFilesError(file, i + 1, `"${t.slice(0, 40)}" is not an integer label`);
    labels.push(Number(t));
  }
  return { header, labels, firstLine: first + 1 };
}

/** Every .txt under dir (recursively), keyed by file stem; two files with one stem are an error. */
export function findLabelFiles(dir: string): Map<string, string> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new EvalFilesError(root, null, 'folder not found');
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.toLowerCase().endsWith('.txt')) {
        const stem = basename(e.name, e.name.slice(e.name.lastIndexOf('.')));
        const prev = out.get(stem);
        if (prev) throw new EvalFilesError(p, null, `two files for video "${stem}" (also ${relative(root, prev)})`);
        out.set(stem, p);
      }
    }
  };
  walk(root);
  return out;
}

export function evaluateFiles(opts: EvalFilesOptions): EvalFilesResult {
  const gtFiles = findLabelFiles(opts.gtDir);
  if (gtFiles.size === 0) throw new EvalFilesError(resolve(opts.gtDir), null, 'no annotation (.txt) files found');
  const predFiles = findLabelFiles(opts.predDir);
  const gts = new Map<string, LabelFile>();
  let classes: number | undefined = opts.classes;
  for (const [video, file] of gtFiles) {
    const gt = readLabelFile(file);
    gts.set(video, gt);
    if (classes === undefined && gt.header && labelSetFromHeader(gt.header) === 'abaw8') classes = 8;
  }
  classes ??= 7;

  const yTrue: number[] = [];
  const yPred: number[] = [];
  const perFile: FileScore[] = [];
  let skipped = 0;
  for (const [video, gt] of gts) {
    const gtFile = gtFiles.get(video)!;
    const predFile = predFiles.get(video);
    if (!predFile) {
      throw new EvalFilesError(join(resolve(opts.predDir), `${video}.txt`), null, `prediction file missing for annotation ${gtFile}`);
    }
    const pred = readLabelFile(predFile);
    if (pred.labels.length !== gt.labels.length) {
      throw new EvalFilesError(
        predFile,
        null,
        `has ${pred.labels.length} prediction lines but ${gtFile} has ${gt.labels.length} frame lines (excluding headers)`,
      );
    }
    let correct = 0;
    let n = 0;
    for (let i = 0; i < gt.labels.length; i++) {
      const t = gt.labels[i];
      if (t === -1) {
        skipped++;
        continue;
      }
      if (t < 0 || t >= classes) {
        throw new EvalFilesError(
          gtFile,
          gt.firstLine + i,
          `label ${t} is outside 0..${classes - 1}${t === 7 ? ' (use 8 classes for ABAW-8 files)' : ''}`,
        );
      }
      const p = pred.labels[i];
      if (p < 0 || p >= classes) throw new EvalFilesError(predFile, pred.firstLine + i, `prediction ${p} is outside 0..${classes - 1}`);
      yTrue.push(t);
      yPred.push(p);
      n++;
      if (p === t) correct++;
    }
    perFile.push({ video, frames: n, accuracy: n ? correct / n : 0 });
  }
  const ev = evaluate(yTrue, yPred, classes, { zeroDivision: 0 });
  return {
    classes,
    files: gts.size,
    frames: ev.count,
    skippedUnannotated: skipped,
    accuracy: ev.accuracy,
    macroF1: ev.macroF1,
    overall: ev.overall,
    perClassF1: ev.perClassF1,
    confusion: ev.confusion,
    zeroDivision: 0,
    perFile,
    unmatchedPredictions: [...predFiles.keys()].filter((v) => !gts.has(v)),
  };
}
