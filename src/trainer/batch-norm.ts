// Training-mode batch normalisation as one custom-gradient op, backend-agnostic (plain tf ops). Used
// by resnet.ts on every backend; on wasm its backward pass avoids core's slow Tile-based gradient.
import * as tf from '@tensorflow/tfjs';

export interface BatchNormTrainResult {
  /** Normalised, scaled and shifted activations; differentiable w.r.t. x, gamma and beta. */
  y: tf.Tensor;
  /** Batch mean per channel (constant: no gradient), for running statistics. */
  mean: tf.Tensor;
  /** Biased batch variance per channel (constant: no gradient), for running statistics. */
  variance: tf.Tensor;
}

/**
 * Training-mode batch normalisation over every axis but the last (NHWC or [N, C]):
 * y = (x - mean) / sqrt(var + eps) * gamma + beta, with batch mean and biased variance.
 *
 * Backend-agnostic (plain tf ops) and exact: its gradient is the analytic derivative of the
 * formula above, the same quantity autodiff of tf.moments + arithmetic gives, written with
 * broadcasting and two channel reductions only:
 *   dbeta = sum(dy), dgamma = sum(dy * xhat),
 *   dx = gamma * rstd * (dy - dbeta / N - xhat * dgamma / N).
 * The returned mean/variance are new tensors tracked in the caller's scope.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): BatchNormTrainResult {
  const channels = x.shape[x.rank - 1];
  if (x.rank < 2) throw new Error(`batchNormTrain: x must have rank >= 2 (channels last), got shape [${x.shape}]`);
  if (gamma.size !== channels || beta.size !== channels) {
    throw new Error(`batchNormTrain: gamma/beta must have ${channels} elements (x shape [${x.shape}]), got ${gamma.size}/${beta.size}`);
  }
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const count = x.size / channels;
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad((xIn, gIn, bIn, save) => {
    const xt = xIn as tf.Tensor;
    const { mean, variance } = tf.moments(xt, axes);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(xt, mean), rstd);
    const y = tf.add(tf.mul(xhat, gIn as tf.Tensor), bIn as tf.Tensor);
    stats = [tf.keep(mean.clone()), tf.keep(variance.clone())];
    (save as tf.GradSaveFunc)([xhat, rstd, gIn as tf.Tensor]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = Array.isArray(dy) ? dy[0] : dy;
        const [xh, rs, gm] = saved;
        const dBeta = tf.sum(g, axes);
        const dGamma = tf.sum(tf.mul(g, xh), axes);
        const centred = tf.sub(tf.sub(g, tf.div(dBeta, count)), tf.mul(xh, tf.div(dGamma, count)));
        const dx = tf.mul(centred, tf.mul(gm, rs));
        return [dx, tf.reshape(dGamma, gm.shape), tf.reshape(dBeta, (bIn as tf.Tensor).shape)];
      },
    };
  });
  const y = op(x, gamma, beta);
  // Re-home the kept statistics into the caller's scope so tf.tidy cleans them up.
  const [keptMean, keptVar] = stats;
  const mean = keptMean.clone();
  const variance = keptVar.clone();
  keptMean.dispose();
  keptVar.dispose();
  return { y, mean, variance };
}
