// The data sets of the built-in trainer: the embedded shapes set (generated on first use, then
// read through the COCO loader like real COCO) and COCO-layout folders.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { readCocoSplit, type RawSplit } from './coco.js';
import { embeddedVocab } from './embedded/captions.js';
import { DEFAULT_EMBEDDED_SIZES, ensureEmbedded, type EmbeddedSizes } from './embedded/generate.js';
import { DatasetError } from './errors.js';
import { toImageCaptionSplit } from './split.js';
import { buildVocab, createTokenizer } from './tokenizer.js';
import type { DatasetBundle, DatasetRequest } from './types.js';

export type { DatasetBundle, DatasetRequest, ImageCaptionSplit } from './types.js';
export type { Tokenizer } from '../../model/tokenizer.js';
export { buildVocab, createTokenizer, splitWords, type WordTokenizer } from './tokenizer.js';
export { embeddedVocab } from './embedded/captions.js';
export { DEFAULT_EMBEDDED_SIZES, ensureEmbedded, type EmbeddedSizes } from './embedded/generate.js';
export { DatasetError } from './errors.js';

function checkRequest(req: DatasetRequest): void {
  const positiveInt = (name: string, v: number | undefined, min: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) {
      throw new DatasetError('DATASET_REQUEST', `${name}: expected an integer >= ${min}, got ${v}`);
    }
  };
  positiveInt('imageSize', req.imageSize, 1);
  positiveInt('contextLength', req.contextLength, 2);
  if (req.tokenizer && req.tokenizer.contextLength !== req.contextLength) {
    throw new DatasetError(
      'DATASET_REQUEST',
      `tokenizer context ${req.tokenizer.contextLength} differs from the requested ${req.contextLength}`,
    );
  }
  positiveInt('maxTrainImages', req.maxTrainImages, 1);
  positiveInt('maxValImages', req.maxValImages, 1);
  for (const [k, v] of Object.entries(req.embeddedSizes ?? {})) positiveInt(`embeddedSizes.${k}`, v, 1);
}

function summary(name: string, s: { count: number; captions: string[] }): string {
  return `${name} ${s.count} images / ${s.captions.length} captions`;
}

async function loadEmbedded(req: DatasetRequest, domain: 'pretrain' | 'finetune'): Promise<DatasetBundle> {
  const sizes: EmbeddedSizes = { ...DEFAULT_EMBEDDED_SIZES, ...req.embeddedSizes };
  const root = await ensureEmbedded(req.cacheDir, req.imageSize, sizes);
  const decodedCacheDir = join(root, 'decoded');
  const read = (d: string, split: 'train' | 'val', maxImages: number | undefined): Promise<RawSplit> =>
    readCocoSplit(join(root, d), split, {
      imageSize: req.imageSize,
      maxImages,
      decodedCacheDir: join(decodedCacheDir, d),
    });
  const [train, val, retain] = await Promise.all([
    read(domain, 'train', req.maxTrainImages),
    read(domain, 'val', req.maxValImages),
    domain === 'finetune' ? read('pretrain', 'val', req.maxValImages) : undefined,
  ]);
  // The vocabulary of both domains, fixed by the generator: a base model pretrained here reads the
  // fine-tuning captions without <unk>.
  const tokenizer = req.tokenizer ?? createTokenizer(req.vocab ?? embeddedVocab(), req.contextLength);
  const bundle: DatasetBundle = {
    train: toImageCaptionSplit(train, tokenizer, req.normalize),
    val: toImageCaptionSplit(val, tokenizer, req.normalize),
    tokenizer,
    problems: [...train.problems, ...val.problems, ...(retain?.problems ?? [])],
    description: '',
  };
  if (retain) bundle.retainVal = toImageCaptionSplit(retain, tokenizer, req.normalize);
  const label =
    domain === 'finetune'
      ? 'embedded shapes, fine-tuning domain (textured backgrounds, outlines, corners, second objects)'
      : 'embedded shapes, pretraining domain';
  bundle.description =
    `${label}, ${req.imageSize}px: ${summary('train', bundle.train)}, ${summary('val', bundle.val)}` +
    (bundle.retainVal ? `; retain (pretraining val) ${summary('', bundle.retainVal).trim()}` : '') +
    `; vocab ${tokenizer.vocabSize}; ${root}`;
  return bundle;
}

async function loadCoco(req: DatasetRequest): Promise<DatasetBundle> {
  const root = resolve(req.dataset);
  if (!existsSync(root)) {
    throw new DatasetError(
      'DATASET_NOT_FOUND',
      `dataset: "${req.dataset}" is neither "embedded", "embedded-pretrain" nor an existing folder`,
    );
  }
  const decodedCacheDir = join(
    req.cacheDir,
    'coco-decoded',
    createHash('sha256').update(root).digest('hex').slice(0, 16),
  );
  const [train, val] = await Promise.all([
    readCocoSplit(root, 'train', { imageSize: req.imageSize, maxImages: req.maxTrainImages, decodedCacheDir }),
    readCocoSplit(root, 'val', { imageSize: req.imageSize, maxImages: req.maxValImages, decodedCacheDir }),
  ]);
  if (train.count === 0)
    throw new DatasetError('DATASET_EMPTY', `dataset ${root}: no readable training image with a caption`);
  if (val.count === 0)
    throw new DatasetError('DATASET_EMPTY', `dataset ${root}: no readable validation image with a caption`);
  // Built from the training captions only, as a model would be: validation-only words become <unk>.
  const tokenizer = req.tokenizer ?? createTokenizer(req.vocab ?? buildVocab(train.captions), req.contextLength);
  const problems = [...train.problems, ...val.problems];
  const trainSplit = toImageCaptionSplit(train, tokenizer, req.normalize);
  const valSplit = toImageCaptionSplit(val, tokenizer, req.normalize);
  return {
    train: trainSplit,
    val: valSplit,
    tokenizer,
    problems,
    description:
      `COCO-layout ${root}, ${req.imageSize}px: ${summary('train', trainSplit)}, ${summary('val', valSplit)}; ` +
      `vocab ${tokenizer.vocabSize}; ${problems.length} problem(s)`,
  };
}

/**
 * Loads a data set for the built-in trainer. Throws DatasetError when it cannot be used at all (no
 * such folder, no annotations, no readable image); unreadable images are listed in `problems`.
 */
export async function loadDataset(req: DatasetRequest): Promise<DatasetBundle> {
  checkRequest(req);
  if (req.dataset === 'embedded') return loadEmbedded(req, 'finetune');
  if (req.dataset === 'embedded-pretrain') return loadEmbedded(req, 'pretrain');
  return loadCoco(req);
}
