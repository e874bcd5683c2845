// OpenCLIP's symmetric contrastive loss: logits = exp(s) * cos-sim, the matching pair on the
// diagonal, (CE(image->text) + CE(text->image)) / 2.
import * as tf from '@tensorflow/tfjs';

export function l2normalize(x: tf.Tensor2D): tf.Tensor2D {
  // F.normalize: x / max(||x||, 1e-12)
  return tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-24)));
}

/** imageEmb, textEmb [n, d] (unnormalised), logScale a scalar: returns the scalar loss. */
export function contrastiveLoss(imageEmb: tf.Tensor2D, textEmb: tf.Tensor2D, logScale: tf.Tensor): tf.Scalar {
  const n = imageEmb.shape[0];
  const img = l2normalize(imageEmb);
  const txt = l2normalize(textEmb);
  const logits = tf.mul(tf.exp(logScale), tf.matMul(img, tf.transpose(txt))) as tf.Tensor2D;
  const eye = tf.eye(n);
  const ce = (l: tf.Tensor2D) => tf.neg(tf.div(tf.sum(tf.mul(tf.logSoftmax(l), eye)), n));
  return tf.div(tf.add(ce(logits), ce(tf.transpose(logits))), 2) as tf.Scalar;
}
