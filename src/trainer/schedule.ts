// CCT dynamic balancing (paper eq. 4) and the per-epoch learning-rate decay.

export interface LambdaConfig {
  /** λ_max; paper 0.9. */
  lambdaMax?: number;
  /** Shape of the Gaussian ramp; paper 4.0 (authors' code default 0.65). */
  beta?: number;
  /** e_r, the (0-based) epoch at which λ reaches λ_max; the authors' code uses 0.9 * max epochs. */
  rampUp: number;
  /**
   * Hold λ at λ_max for e >= e_r (default true). The authors' code does not clamp, so λ falls
   * again after e_r; set false to reproduce it.
   */
  clampAfterRampUp?: boolean;
  /** Number of networks. With one network there is no consistency term, so λ is 0 (pure CE). */
  numNets?: number;
}

export const LAMBDA_DEFAULTS = { lambdaMax: 0.9, beta: 4.0, clampAfterRampUp: true } as const;

/**
 * λ(e) = λ_max · exp(-β (1 - e/e_r)²), e 0-based; fractional e is allowed for per-iteration updates
 * (e.g. epoch + iteration / iterationsPerEpoch).
 */
export function lambdaAt(epoch: number, cfg: LambdaConfig): number {
  const lambdaMax = cfg.lambdaMax ?? LAMBDA_DEFAULTS.lambdaMax;
  const beta = cfg.beta ?? LAMBDA_DEFAULTS.beta;
  const clamp = cfg.clampAfterRampUp ?? LAMBDA_DEFAULTS.clampAfterRampUp;
  if (!Number.isFinite(epoch) || epoch < 0) throw new RangeError(`lambdaAt: epoch must be >= 0, got ${epoch}`);
  if (!(cfg.rampUp > 0) || !Number.isFinite(cfg.rampUp)) {
    throw new RangeError(`lambdaAt: rampUp (e_r) must be a positive number, got ${cfg.rampUp}`);
  }
  if (!(lambdaMax >= 0 && lambdaMax <= 1)) throw new RangeError(`lambdaAt: lambdaMax must be in [0, 1], got ${lambdaMax}`);
  if (!(beta >= 0) || !Number.isFinite(beta)) throw new RangeError(`lambdaAt: beta must be >= 0, got ${beta}`);
  if (cfg.numNets !== undefined && cfg.numNets < 2) return 0;
  if (clamp && epoch >= cfg.rampUp) return lambdaMax;
  const r = 1 - epoch / cfg.rampUp;
  return lambdaMax * Math.exp(-beta * r * r);
}

/** e_r as the authors' code sets it: a fraction (0.9) of the planned epochs. */
export function rampUpFor(maxEpochs: number, fraction = 0.9): number {
  if (!(maxEpochs > 0)) throw new RangeError(`rampUpFor: maxEpochs must be > 0, got ${maxEpochs}`);
  return fraction * maxEpochs;
}

/** Learning rate at a 0-based epoch: base · γ^epoch (paper: γ = 0.95 per epoch). */
export function lrAt(epoch: number, base: number, gamma = 0.95): number {
  if (!Number.isFinite(epoch) || epoch < 0) throw new RangeError(`lrAt: epoch must be >= 0, got ${epoch}`);
  if (!(base >= 0)) throw new RangeError(`lrAt: base learning rate must be >= 0, got ${base}`);
  if (!(gamma > 0 && gamma <= 1)) throw new RangeError(`lrAt: gamma must be in (0, 1], got ${gamma}`);
  return base * Math.pow(gamma, epoch);
}
