// Turns decoded pixels and caption text into the trainer's ImageCaptionSplit.
import type { RawSplit } from './coco.js';
import type { ImageCaptionSplit } from './types.js';
import type { Tokenizer } from '../../model/tokenizer.js';

export function toImageCaptionSplit(
  raw: RawSplit,
  tokenizer: Tokenizer,
  normalize?: { mean: readonly number[]; std: readonly number[] },
): ImageCaptionSplit {
  const images = new Float32Array(raw.pixels.length);
  if (normalize) {
    const [m0, m1, m2] = normalize.mean as [number, number, number];
    const [s0, s1, s2] = normalize.std as [number, number, number];
    const mean = [m0, m1, m2];
    const std = [s0, s1, s2];
    for (let i = 0; i < raw.pixels.length; i++)
      images[i] = ((raw.pixels[i] as number) / 255 - mean[i % 3]!) / std[i % 3]!;
  } else {
    for (let i = 0; i < raw.pixels.length; i++) images[i] = (raw.pixels[i] as number) / 255;
  }
  const L = tokenizer.contextLength;
  const tokens = new Int32Array(raw.captions.length * L);
  raw.captions.forEach((caption, i) => tokens.set(tokenizer.encode(caption), i * L));
  return {
    images,
    imageSize: raw.imageSize,
    count: raw.count,
    tokens,
    contextLength: L,
    captionImage: raw.captionImage,
    captions: raw.captions,
    imageIds: raw.imageIds,
  };
}
