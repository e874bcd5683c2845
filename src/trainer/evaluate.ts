// Evaluation at a fixed batch size, the same for every run whatever its training batch size:
// embeddings of every pair (image, its first caption), then recall and ranks over the whole set
// and the contrastive loss over consecutive blocks of `evalBatchSize` pairs.
import * as tf from '@tensorflow/tfjs';
import type { ImageCaptionSplit } from './data/types.js';
import type { ClipModel } from './model/clip.js';
import { captionsByImage, makeBatch, pickCaptions } from './batches.js';
import { l2normalize } from './loss.js';
import { blockContrastiveLoss, retrieval } from './retrieval.js';

export interface EvalSet {
  split: ImageCaptionSplit;
  images: Int32Array;
  captions: Int32Array;
}

/** Images `images` (all by default) with their first caption. */
export function evalSet(split: ImageCaptionSplit, images?: Int32Array): EvalSet {
  const imgs = images ?? Int32Array.from({ length: split.count }, (_, i) => i);
  return { split, images: imgs, captions: pickCaptions(captionsByImage(split), imgs, null) };
}

const noDropout = { dropout: 0, dropoutSeed: 0 };

export function evaluate(
  model: ClipModel,
  set: EvalSet,
  eotToken: number,
  evalBatchSize: number,
  prefix: string,
): Record<string, number> {
  const n = set.images.length;
  const imgParts: tf.Tensor2D[] = [];
  const txtParts: tf.Tensor2D[] = [];
  for (let o = 0; o < n; o += evalBatchSize) {
    const imgs = set.images.subarray(o, Math.min(n, o + evalBatchSize));
    const caps = set.captions.subarray(o, Math.min(n, o + evalBatchSize));
    const b = makeBatch(set.split, model.config, eotToken, imgs, caps, null, null);
    imgParts.push(tf.tidy(() => l2normalize(model.encodeImage(b.image, noDropout))));
    txtParts.push(tf.tidy(() => l2normalize(model.encodeText(b.text, noDropout))));
    b.dispose();
  }
  const sim = tf.tidy(() => {
    const img = tf.concat(imgParts, 0);
    const txt = tf.concat(txtParts, 0);
    return tf.matMul(img, tf.transpose(txt)).dataSync() as Float32Array;
  });
  tf.dispose([...imgParts, ...txtParts]);
  const scale = Math.exp(model.params.get('logit_scale')!.dataSync()[0]!);
  const r = retrieval(sim, n);
  const out: Record<string, number> = { [`${prefix}/loss`]: blockContrastiveLoss(sim, n, scale, evalBatchSize) };
  for (const dir of ['i2t', 't2i'] as const) {
    for (const [k, v] of Object.entries(r[dir])) out[`${prefix}/${dir}_${k}`] = v;
  }
  return out;
}
