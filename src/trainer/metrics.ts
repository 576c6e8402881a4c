// ABAW expression metric: overall = 0.67 · macro-F1 + 0.33 · accuracy, pooled over every evaluated
// frame (never averaged per batch or per video, which is the authors' code's bug). Pure JS.

export type Labels = readonly number[] | Int32Array | Uint8Array | Int16Array;

export interface EvaluateOptions {
  /**
   * F1 of a class that has no true and no predicted samples (precision and recall both 0/0).
   * 0 is sklearn's default (zero_division=0, "warn"): an absent class pulls macro-F1 down. 1 treats
   * "nothing to find, nothing claimed" as perfect. A class with true samples but no predictions (or
   * the reverse) always scores 0.
   */
  zeroDivision?: 0 | 1;
  /** The label that marks a frame as not annotated; such frames are skipped. Default -1. */
  ignoreLabel?: number;
}

export interface Evaluation {
  accuracy: number;
  macroF1: number;
  /** 0.67 · macroF1 + 0.33 · accuracy. */
  overall: number;
  perClassF1: number[];
  /** confusion[t][p]: frames of true class t predicted as p. */
  confusion: number[][];
  /** Number of evaluated frames per true class. */
  support: number[];
  /** Frames evaluated (labels other than ignoreLabel). */
  count: number;
}

function checkClassCount(numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`metrics: number of classes must be a positive integer, got ${numClasses}`);
  }
}

/** C×C confusion matrix (rows true, columns predicted), skipping frames whose true label is ignoreLabel. */
export function confusionMatrix(yTrue: Labels, yPred: Labels, numClasses: number, ignoreLabel = -1): number[][] {
  checkClassCount(numClasses);
  if (yTrue.length !== yPred.length) {
    throw new RangeError(`metrics: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  }
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i];
    if (t === ignoreLabel) continue;
    const p = yPred[i];
    if (!Number.isInteger(t) || t < 0 || t >= numClasses) {
      throw new RangeError(`metrics: true label ${t} at index ${i} is outside [0, ${numClasses})`);
    }
    if (!Number.isInteger(p) || p < 0 || p >= numClasses) {
      throw new RangeError(`metrics: predicted label ${p} at index ${i} is outside [0, ${numClasses})`);
    }
    m[t][p]++;
  }
  return m;
}

/** Per-class F1 from a confusion matrix, with the zero-division rule documented on EvaluateOptions. */
export function f1FromConfusion(confusion: readonly (readonly number[])[], zeroDivision: 0 | 1 = 0): number[] {
  const c = confusion.length;
  const f1: number[] = [];
  for (let k = 0; k < c; k++) {
    const tp = confusion[k][k];
    let trueK = 0;
    let predK = 0;
    for (let j = 0; j < c; j++) {
      trueK += confusion[k][j];
      predK += confusion[j][k];
    }
    // F1 = 2TP / (2TP + FP + FN) = 2TP / (trueK + predK); only 0/0 needs the rule.
    const denom = trueK + predK;
    f1.push(denom === 0 ? zeroDivision : (2 * tp) / denom);
  }
  return f1;
}

export function evaluate(yTrue: Labels, yPred: Labels, numClasses: number, opts: EvaluateOptions = {}): Evaluation {
  const zeroDivision = opts.zeroDivision ?? 0;
  const confusion = confusionMatrix(yTrue, yPred, numClasses, opts.ignoreLabel ?? -1);
  const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const count = support.reduce((a, b) => a + b, 0);
  let correct = 0;
  for (let k = 0; k < numClasses; k++) correct += confusion[k][k];
  const perClassF1 = f1FromConfusion(confusion, zeroDivision);
  const accuracy = count === 0 ? 0 : correct / count;
  const macroF1 = perClassF1.reduce((a, b) => a + b, 0) / numClasses;
  return { accuracy, macroF1, overall: overallScore(macroF1, accuracy), perClassF1, confusion, support, count };
}

/** The ABAW 2020/2021 expression-track score. */
export function overallScore(macroF1: number, accuracy: number): number {
  return 0.67 * macroF1 + 0.33 * accuracy;
}

/** Row-wise argmax of a row-major [rows, numClasses] probability (or logit) array. Ties go to the lower class. */
export function argmaxRows(values: ArrayLike<number>, numClasses: number): Int32Array {
  checkClassCount(numClasses);
  if (values.length % numClasses !== 0) {
    throw new RangeError(`argmaxRows: ${values.length} values is not a multiple of ${numClasses} classes`);
  }
  const rows = values.length / numClasses;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestV = values[r * numClasses];
    for (let k = 1; k < numClasses; k++) {
      const v = values[r * numClasses + k];
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    out[r] = best;
  }
  return out;
}
