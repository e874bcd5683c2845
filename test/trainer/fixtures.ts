// Small in-memory data sets and helpers for the trainer tests.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { DatasetBundle, ImageCaptionSplit } from '../../src/trainer/data/types.js';
import type { Tokenizer } from '../../src/model/tokenizer.js';
import { parseParams, type TrainParams } from '../../src/trainer/params.js';
import { makeRng } from '../../src/trainer/rng.js';
import { selectBackend } from '../../src/trainer/backend.js';

export const WORDS = ['red', 'green', 'blue', 'circle', 'square', 'star', 'left', 'right', 'big', 'small'];
const VOCAB = ['<pad>', '<sot>', '<eot>', '<unk>', ...WORDS];

export function tokenizer(contextLength: number): Tokenizer {
  return {
    vocab: VOCAB,
    vocabSize: VOCAB.length,
    contextLength,
    padToken: 0,
    sotToken: 1,
    eotToken: 2,
    unkToken: 3,
    encode(text: string) {
      const ids = new Int32Array(contextLength);
      const words = text
        .split(' ')
        .map((w) => Math.max(3, VOCAB.indexOf(w)))
        .slice(0, contextLength - 2);
      ids[0] = 1;
      words.forEach((w, i) => (ids[i + 1] = w));
      ids[words.length + 1] = 2;
      return ids;
    },
  };
}

/** `count` random images, each with two captions of three words that identify it. */
export function split(count: number, seed: number, imageSize = 16, contextLength = 8): ImageCaptionSplit {
  const rng = makeRng(seed, 99);
  const tok = tokenizer(contextLength);
  const images = new Float32Array(count * imageSize * imageSize * 3);
  for (let i = 0; i < images.length; i++) images[i] = rng.next();
  const captions: string[] = [];
  const captionImage: number[] = [];
  for (let i = 0; i < count; i++) {
    const a = WORDS[i % 10]!,
      b = WORDS[Math.floor(i / 10) % 10]!,
      c = WORDS[(i * 7 + 3) % 10]!;
    captions.push(`${a} ${b} ${c}`, `${a} ${b}`);
    captionImage.push(i, i);
  }
  const tokens = new Int32Array(captions.length * contextLength);
  captions.forEach((c, k) => tokens.set(tok.encode(c), k * contextLength));
  return {
    images,
    imageSize,
    count,
    tokens,
    contextLength,
    captionImage: Int32Array.from(captionImage),
    captions,
    imageIds: Array.from({ length: count }, (_, i) => i + 1),
  };
}

export function bundle(trainCount = 16, valCount = 8): DatasetBundle {
  return {
    train: split(trainCount, 1),
    val: split(valCount, 2),
    tokenizer: tokenizer(8),
    problems: [],
    description: 'test fixture',
  };
}

export function params(over: Record<string, unknown> = {}): TrainParams {
  return parseParams({
    model: 'micro',
    init: 'none',
    augment: false,
    batch_size: 8,
    lr: 1e-3,
    warmup: 2,
    steps: 6,
    eval_every: 3,
    log_every: 1,
    eval_batch_size: 8,
    ...over,
  });
}

let ready: Promise<unknown> | null = null;
/** The tests run on the wasm backend, as the trainer does by default here. */
export function useBackend(): Promise<unknown> {
  ready ??= selectBackend('wasm');
  return ready;
}

/** A COCO-layout folder with real PNG files (for child-process runs). */
export async function cocoFixture(dir: string, train = 16, val = 8, size = 16): Promise<string> {
  fs.mkdirSync(path.join(dir, 'annotations'), { recursive: true });
  let id = 1;
  for (const [name, count] of [
    ['train', train],
    ['val', val],
  ] as const) {
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    const images: { id: number; file_name: string; width: number; height: number }[] = [];
    const annotations: { id: number; image_id: number; caption: string }[] = [];
    for (let i = 0; i < count; i++, id++) {
      const rng = makeRng(id, 7);
      const px = Buffer.alloc(size * size * 3);
      for (let k = 0; k < px.length; k++) px[k] = Math.floor(rng.next() * 256);
      const file = `${String(id).padStart(12, '0')}.png`;
      await sharp(px, { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toFile(path.join(dir, name, file));
      images.push({ id, file_name: file, width: size, height: size });
      annotations.push({ id: id * 2, image_id: id, caption: `${WORDS[i % 10]} ${WORDS[Math.floor(i / 10) % 10]}` });
      annotations.push({ id: id * 2 + 1, image_id: id, caption: `a ${WORDS[i % 10]} thing` });
    }
    fs.writeFileSync(path.join(dir, 'annotations', `captions_${name}.json`), JSON.stringify({ images, annotations }));
  }
  return dir;
}
