// Checking a real CLIP checkpoint without training: embeddings of images and texts, and retrieval
// on a COCO-layout validation split. Both run the built-in trainer's model and data code, so what
// they measure is what a fine-tuning run starts from.
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../errors.js';
import { ClipModel, initParams, disposeParams, type ParamMap } from './model/clip.js';
import { restore, disposeLoaded } from './checkpoint.js';
import { loadClipInit, type ClipInit } from './clip-init.js';
import { makeBatch } from './batches.js';
import { evalSet, evaluate } from './evaluate.js';
import { l2normalize } from './loss.js';
import { decodeSquare } from './data/decode.js';
import { readCocoSplit } from './data/coco.js';
import { toImageCaptionSplit } from './data/split.js';
import type { ImageCaptionSplit } from './data/types.js';

export interface OpenedClip {
  init: ClipInit;
  model: ClipModel;
  params: ParamMap;
  dispose(): void;
}

export function openClip(opts: {
  weights: string;
  config?: string | undefined;
  vocab?: string | undefined;
}): OpenedClip {
  const init = loadClipInit({ init: opts.weights, modelConfig: opts.config, vocab: opts.vocab });
  const params = initParams(init.loaded.manifest.config, 0);
  restore(init.loaded, params, null);
  disposeLoaded(init.loaded);
  const model = new ClipModel(init.loaded.manifest.config, params);
  return {
    init,
    model,
    params,
    dispose() {
      model.dispose();
      disposeParams(params);
    },
  };
}

const noDropout = { dropout: 0, dropoutSeed: 0 };

/** A split holding just these images and texts (pairing is irrelevant: each tower runs alone). */
async function adhocSplit(clip: OpenedClip, images: string[], texts: string[]): Promise<ImageCaptionSplit> {
  const c = clip.model.config;
  const bytes = c.imageSize * c.imageSize * 3;
  const pixels = new Uint8Array(Math.max(1, images.length) * bytes);
  for (const [i, file] of images.entries()) {
    const r = await decodeSquare(file, c.imageSize);
    if (!r.ok)
      throw new BadInputError(`${file}: cannot use this image (${r.reason}): give a readable PNG, JPEG or WebP file`);
    pixels.set(r.pixels, i * bytes);
  }
  const captions = texts.length ? texts : [''];
  return toImageCaptionSplit(
    {
      pixels,
      imageSize: c.imageSize,
      count: Math.max(1, images.length),
      imageIds: [],
      captions,
      captionImage: new Int32Array(captions.length),
      problems: [],
    },
    clip.init.tokenizer,
    c.imageMean && c.imageStd ? { mean: c.imageMean, std: c.imageStd } : undefined,
  );
}

export interface Embeddings {
  image_embeds: number[][];
  text_embeds: number[][];
  logit_scale: number;
  logits_per_image: number[][];
  tokens: number[][];
}

function rows(t: tf.Tensor2D): number[][] {
  return t.arraySync();
}

export async function embed(clip: OpenedClip, images: string[], texts: string[]): Promise<Embeddings> {
  const split = await adhocSplit(clip, images, texts);
  const eot = clip.init.tokenizer.eotToken;
  const c = clip.model.config;
  const idx = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  // Each tower runs alone: the other half of the batch points at item 0 and is not encoded.
  const encode = (tower: 'image' | 'text', n: number): tf.Tensor2D => {
    if (n === 0) return tf.zeros([0, c.embedDim]);
    const b =
      tower === 'image'
        ? makeBatch(split, c, eot, idx(n), new Int32Array(n), null, null)
        : makeBatch(split, c, eot, new Int32Array(n), idx(n), null, null);
    const e = tf.tidy(() =>
      l2normalize(
        tower === 'image' ? clip.model.encodeImage(b.image, noDropout) : clip.model.encodeText(b.text, noDropout),
      ),
    );
    b.dispose();
    return e;
  };
  const img = encode('image', images.length);
  const txt = encode('text', texts.length);
  const scale = Math.exp(clip.params.get('logit_scale')!.dataSync()[0]!);
  const logits = tf.tidy(() => tf.mul(tf.matMul(img, txt, false, true), scale) as tf.Tensor2D);
  const L = c.contextLength;
  const tokens = texts.map((_, i) => Array.from(split.tokens.subarray(i * L, (i + 1) * L)));
  const out = {
    image_embeds: rows(img),
    text_embeds: rows(txt),
    logit_scale: scale,
    logits_per_image: rows(logits),
    tokens,
  };
  tf.dispose([img, txt, logits]);
  return out;
}

/** Retrieval (R@1/5/10 both ways, ranks, loss) on the validation split of a COCO-layout folder. */
export async function evalRetrieval(
  clip: OpenedClip,
  dataset: string,
  opts: { maxImages?: number | undefined; batchSize: number },
): Promise<{ metrics: Record<string, number>; images: number; problems: number }> {
  const c = clip.model.config;
  const raw = await readCocoSplit(dataset, 'val', {
    imageSize: c.imageSize,
    ...(opts.maxImages ? { maxImages: opts.maxImages } : {}),
  });
  if (raw.count === 0)
    throw new BadInputError(`${dataset}: no readable validation image with a caption: check the folder's COCO layout`);
  const split = toImageCaptionSplit(
    raw,
    clip.init.tokenizer,
    c.imageMean && c.imageStd ? { mean: c.imageMean, std: c.imageStd } : undefined,
  );
  const metrics = evaluate(clip.model, evalSet(split), clip.init.tokenizer.eotToken, opts.batchSize, 'val');
  return { metrics, images: raw.count, problems: raw.problems.length };
}
