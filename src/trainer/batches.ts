// Turns a split into model inputs: which images form each step's batch, which caption each image
// shows, mild augmentation (random resized crop, optional flip), and patchification in JS so that
// the patch embedding is a plain 2-D matmul.
import * as tf from '@tensorflow/tfjs';
import type { ImageCaptionSplit } from './data/types.js';
import type { ModelConfig } from '../model/config.js';
import type { ImageInput, TextInput } from './model/clip.js';
import { selection } from './model/ops.js';
import { makeRng, permutation, Stream, type Rng } from './rng.js';
import type { Augment } from './params.js';

/** Caption indices of each image, in data order. */
export function captionsByImage(split: ImageCaptionSplit): number[][] {
  const out: number[][] = Array.from({ length: split.count }, () => []);
  split.captionImage.forEach((img, c) => out[img]?.push(c));
  return out;
}

export function stepsPerEpoch(split: ImageCaptionSplit, batchSize: number): number {
  return Math.floor(split.count / batchSize);
}

/** The image indices of global step `step` (0-based): epochs are seeded permutations, last partial batch dropped. */
export function batchImages(split: ImageCaptionSplit, batchSize: number, seed: number, step: number): Int32Array {
  const spe = stepsPerEpoch(split, batchSize);
  const epoch = Math.floor(step / spe);
  const k = step % spe;
  return permutation(split.count, makeRng(seed, Stream.epoch, epoch)).slice(k * batchSize, (k + 1) * batchSize);
}

/** One caption per image: random for training (seeded by step), the first for evaluation. */
export function pickCaptions(byImage: number[][], images: ArrayLike<number>, rng: Rng | null): Int32Array {
  const out = new Int32Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const caps = byImage[images[i]!]!;
    if (caps.length === 0) throw new Error(`image ${images[i]} has no caption`);
    out[i] = caps[rng ? rng.int(caps.length) : 0]!;
  }
  return out;
}

/**
 * Patches [n * P, patch * patch * 3] for the given images, each augmented when `aug` and `rng`
 * are given (random resized crop: area fraction in crop_scale, aspect in [3/4, 4/3]).
 */
export function imagePatches(
  split: ImageCaptionSplit,
  images: ArrayLike<number>,
  patch: number,
  aug: Augment | null,
  rng: Rng | null,
): Float32Array {
  const s = split.imageSize;
  const g = s / patch;
  const pd = patch * patch * 3;
  const n = images.length;
  const out = new Float32Array(n * g * g * pd);
  for (let i = 0; i < n; i++) {
    const base = images[i]! * s * s * 3;
    // Crop window (y0, x0, h, w) in source pixels; the identity when not augmenting.
    let cy = 0,
      cx = 0,
      ch = s,
      cw = s,
      flip = false;
    if (aug && rng) {
      if (aug.crop) {
        const area = aug.cropScale[0] + (aug.cropScale[1] - aug.cropScale[0]) * rng.next();
        const ratio = Math.exp(Math.log(3 / 4) + (Math.log(4 / 3) - Math.log(3 / 4)) * rng.next());
        cw = Math.min(s, Math.sqrt(area * ratio) * s);
        ch = Math.min(s, Math.sqrt(area / ratio) * s);
        cy = rng.next() * (s - ch);
        cx = rng.next() * (s - cw);
      }
      if (aug.flip) flip = rng.next() < 0.5;
    }
    const identity = ch === s && cw === s && !flip;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const p = (i * g + Math.floor(y / patch)) * g + Math.floor(x / patch);
        const o = p * pd + ((y % patch) * patch + (x % patch)) * 3;
        if (identity) {
          const src = base + (y * s + x) * 3;
          out[o] = split.images[src]!;
          out[o + 1] = split.images[src + 1]!;
          out[o + 2] = split.images[src + 2]!;
        } else {
          // Bilinear sample; pixel centres map into the crop window (align_corners = false, as torchvision).
          const sy = cy + ((y + 0.5) * ch) / s - 0.5;
          const xx = flip ? s - 1 - x : x;
          const sx = cx + ((xx + 0.5) * cw) / s - 0.5;
          const y0 = Math.max(0, Math.min(s - 1, Math.floor(sy)));
          const x0 = Math.max(0, Math.min(s - 1, Math.floor(sx)));
          const fy = Math.max(0, Math.min(1, sy - y0));
          const fx = Math.max(0, Math.min(1, sx - x0));
          const a = base + (y0 * s + x0) * 3;
          const dx = x0 + 1 < s ? 3 : 0;
          const dy = y0 + 1 < s ? s * 3 : 0;
          const img = split.images;
          for (let c = 0; c < 3; c++) {
            const top = img[a + c]! * (1 - fx) + img[a + dx + c]! * fx;
            const bottom = img[a + dy + c]! * (1 - fx) + img[a + dy + dx + c]! * fx;
            out[o + c] = top * (1 - fy) + bottom * fy;
          }
        }
      }
    }
  }
  return out;
}

export interface Batch {
  image: ImageInput;
  text: TextInput;
  dispose(): void;
}

/** Builds the tensors for images[i] paired with captions[i]. */
export function makeBatch(
  split: ImageCaptionSplit,
  config: ModelConfig,
  eotToken: number,
  images: ArrayLike<number>,
  captions: ArrayLike<number>,
  aug: Augment | null,
  rng: Rng | null,
): Batch {
  const n = images.length;
  const ctx = split.contextLength;
  if (ctx !== config.contextLength) throw new Error(`captions have context ${ctx}, the model ${config.contextLength}`);
  if (split.imageSize !== config.imageSize)
    throw new Error(`images are ${split.imageSize} px, the model takes ${config.imageSize}`);
  const P = (config.imageSize / config.patchSize) ** 2;
  const patches = tf.tensor2d(imagePatches(split, images, config.patchSize, aug, rng), [
    n * P,
    config.patchSize ** 2 * 3,
  ]);
  const ids = new Int32Array(n * ctx);
  const eot = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = captions[i]! * ctx;
    let e = -1;
    const drop = aug && rng ? aug.wordDropout : 0;
    for (let t = 0, w = 0; t < ctx; t++) {
      const id = split.tokens[row + t]!;
      if (id >= config.vocabSize) throw new Error(`token id ${id} outside the vocabulary (${config.vocabSize})`);
      // Words (after <sot>, before <eot>) may be dropped; the rest shifts left, padding follows.
      if (drop > 0 && t > 0 && e < 0 && id !== eotToken && id !== 0 && rng!.next() < drop) continue;
      ids[i * ctx + w] = id;
      if (e < 0 && id === eotToken) e = w;
      w++;
    }
    eot[i] = i * ctx + (e < 0 ? ctx - 1 : e);
  }
  const { sel, selT } = selection(eot, n * ctx);
  const idsT = tf.tensor1d(ids, 'int32');
  return {
    image: { patches, n },
    text: { ids: idsT, idsJs: ids, eotSel: sel, eotSelT: selT, n },
    dispose() {
      tf.dispose([patches, idsT, sel, selT]);
    },
  };
}
