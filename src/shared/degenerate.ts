// Whether a run learned nothing useful, read from its validation confusion matrix: its ensemble
// answers one class for most frames that are not that class, or its accuracy does not beat always
// answering the most common class. Such a run's flags are no better than chance (issue 13: CCT
// from random weights at λmax 0.9 on the demo predicts Neutral for ~all frames), so every view
// that shows its flags says so first. Pure: used by the core, the trainer and the renderer.

export interface DegenerateVerdict {
  /** the epoch (0-based) whose validation metrics gave the verdict */
  epoch: number;
  /** what went wrong, in words */
  reason: string;
  /** what to try */
  advice: string;
}

/** Fewer validation frames than this say nothing either way. */
export const MIN_VALIDATION_FRAMES = 20;
/** "Most frames": the predicted share of one class at or above which a run may have collapsed ... */
export const COLLAPSE_SHARE = 0.5;
/** ... when it also exceeds that class's true share by this much (a truly dominant class is not a collapse). */
export const COLLAPSE_EXCESS = 0.2;
/** Accuracy must beat the majority-class baseline by at least this to count as learning. */
export const BASELINE_MARGIN = 0.01;

export const DEGENERATE_ADVICE =
  'start from pretrained weights (`concord pretrain`, or finetune from a .safetensors file), ' +
  'lower λmax to 0.5 so the networks learn before consistency dominates, or train for more epochs';

/**
 * confusion[t][p] of the ensemble on validation frames; null when the run is not degenerate (or
 * there are too few frames to tell).
 */
export function degenerateVerdict(
  confusion: readonly (readonly number[])[],
  epoch: number,
  classNames: readonly string[] = [],
): DegenerateVerdict | null {
  const k = confusion.length;
  const rows = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const n = rows.reduce((a, b) => a + b, 0);
  if (n < MIN_VALIDATION_FRAMES) return null;
  const cols = Array.from({ length: k }, (_, p) => confusion.reduce((a, r) => a + (r[p] ?? 0), 0));
  const name = (c: number) => classNames[c] ?? `class ${c}`;
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  const top = cols.indexOf(Math.max(...cols));
  const topShare = cols[top]! / n;
  const trueShare = rows[top]! / n;
  if (topShare >= COLLAPSE_SHARE && topShare - trueShare >= COLLAPSE_EXCESS)
    return {
      epoch,
      reason: `the networks answer ${name(top)} for ${pct(topShare)} of the validation frames, which are ${pct(trueShare)} ${name(top)}: they have collapsed onto one class, so their flags are no better than chance`,
      advice: DEGENERATE_ADVICE,
    };
  const majority = rows.indexOf(Math.max(...rows));
  const baseline = rows[majority]! / n;
  const accuracy = confusion.reduce((a, r, t) => a + (r[t] ?? 0), 0) / n;
  if (accuracy < baseline + BASELINE_MARGIN)
    return {
      epoch,
      reason: `validation accuracy ${pct(accuracy)} does not beat always answering ${name(majority)} (${pct(baseline)}): the networks have learned nothing usable, so their flags are no better than chance`,
      advice: DEGENERATE_ADVICE,
    };
  return null;
}

/** The verdict of a run's last epoch that has validation metrics (null when none has). */
export function runVerdict(
  epochs: readonly { epoch: number; val: { ensemble: { confusion: number[][] } } | null }[],
  classNames: readonly string[] = [],
): DegenerateVerdict | null {
  for (let i = epochs.length - 1; i >= 0; i--) {
    const e = epochs[i]!;
    if (e.val) return degenerateVerdict(e.val.ensemble.confusion, e.epoch, classNames);
  }
  return null;
}

/**
 * A one-line note for a run that starts several networks from random weights with a strong
 * consistency weight: measured on the demo data, the networks then learn little and agree on few
 * classes (bench/noise-robustness.ts --pretrain-epochs 0), while the paper finetunes pretrained
 * backbones. The trainer sends it as a warning when such a run starts (no shipped weights for its
 * model and input size, or pretrained: 'none').
 */
export function scratchHint(config: Record<string, unknown>, resume: boolean): string | null {
  const nets = typeof config.nets === 'number' ? config.nets : 3;
  const lambdaMax = typeof config.lambdaMax === 'number' ? config.lambdaMax : 0.9;
  if (resume || nets < 2 || lambdaMax <= 0.5) return null;
  return (
    `note: CCT from random weights with λmax ${lambdaMax}: the paper finetunes pretrained backbones ` +
    '(`concord pretrain`, or `concord finetune --from RUN|FILE`); from scratch on little data the consistency ' +
    'term can keep the networks from learning (set "lambdaMax": 0.5 in --config, or watch the per-network accuracy)'
  );
}
