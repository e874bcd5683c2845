// Fine-tuning from real CLIP weights (init: *.safetensors): the architecture from its config, the
// weights in the built-in layout, CLIP's BPE tokenizer, and the export of fine-tuned weights in
// the file's own naming and dtypes.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { findArchBeside, readArch } from '../clip/arch.js';
import { loadClipWeights, saveClipWeights, type ClipWeights } from '../clip/weights.js';
import { findVocab, loadClipTokenizer } from '../clip/tokenizer/index.js';
import { createTokenizer } from './data/tokenizer.js';
import type { Tokenizer } from '../model/tokenizer.js';
import { isWordVocab, readWordVocab, VOCAB_FILE } from './base-export.js';
import { FORMAT, type Loaded, type TokenizerSource } from './checkpoint.js';
import type { ParamMap } from './model/clip.js';
import { BadInputError } from '../errors.js';

export interface ClipInit {
  weights: ClipWeights;
  tokenizer: Tokenizer;
  /** CLIP's BPE vocabulary, recorded in checkpoints; null for a word vocabulary (the checkpoint keeps the words). */
  tokenizerSource: TokenizerSource | null;
  /** The vocabulary file or folder used. */
  vocabFile: string;
  /** The weights as an init checkpoint for train(). */
  loaded: Loaded;
  archFile: string;
}

export function isClipWeightsFile(init: string): boolean {
  return init.endsWith('.safetensors');
}

/** The BPE vocabulary: given, or beside the weights (a .txt.gz, or vocab.json + merges.txt). */
function vocabPath(weightsFile: string, given: string | undefined): string {
  if (given) return path.resolve(given);
  const dir = path.dirname(weightsFile);
  const files = fs.readdirSync(dir);
  const gz = files.find((f) => /^bpe_simple_vocab.*\.txt\.gz$/.test(f));
  // The built-in base model ships a word vocabulary (vocab.txt) instead of CLIP's BPE.
  if (!gz && files.includes(VOCAB_FILE) && !files.includes('merges.txt')) return path.join(dir, VOCAB_FILE);
  return gz ? path.join(dir, gz) : dir;
}

export function loadClipInit(opts: {
  init: string;
  modelConfig?: string | undefined;
  vocab?: string | undefined;
}): ClipInit {
  const file = path.resolve(opts.init);
  if (!fs.existsSync(file))
    throw new BadInputError(`init: ${file} does not exist: give the path of a .safetensors file`);
  const archFile = opts.modelConfig ? path.resolve(opts.modelConfig) : findArchBeside(file);
  const arch = readArch(archFile);
  const weights = loadClipWeights(file, arch);
  const vocab = vocabPath(file, opts.vocab);
  const words = isWordVocab(vocab) ? readWordVocab(vocab) : null;
  const tokenizer: Tokenizer = words
    ? createTokenizer(words, arch.config.contextLength)
    : loadClipTokenizer(findVocab(vocab), arch.config.contextLength);
  if (tokenizer.vocabSize > arch.config.vocabSize) {
    throw new BadInputError(
      `vocab ${vocab} has ${tokenizer.vocabSize} tokens, the model ${arch.config.vocabSize} (${archFile})`,
    );
  }
  const tensors = new Map<string, tf.Tensor>();
  for (const m of weights.mapping)
    tensors.set(`p:${m.internal}`, tf.tensor(weights.params.get(m.internal)!, m.internalShape));
  // The JS copies are no longer needed (ViT-B/32 is 600 MB of them); the file stays for export.
  weights.params.clear();
  const loaded: Loaded = {
    manifest: {
      format: FORMAT,
      kind: 'init',
      weights: file,
      config: arch.config,
      vocab: words ?? [],
      ...(words ? {} : { tokenizer: { kind: 'clip-bpe' as const, vocab } }),
      tensors: [],
      optimizer: null,
      state: { step: 0, totalSteps: 0, bestValue: null, bestStep: null, evalsWithoutImprovement: 0 },
      info: { naming: weights.naming, dtype: weights.dtype, model_config: archFile },
    },
    tensors,
  };
  return {
    weights,
    tokenizer,
    tokenizerSource: words ? null : { kind: 'clip-bpe', vocab },
    vocabFile: vocab,
    loaded,
    archFile,
  };
}

/** Writes the model's current parameters as <dir>/<kind>.safetensors in the source's layout. */
export function exportClipWeights(init: Pick<ClipInit, 'weights'>, params: ParamMap, file: string): string {
  const values = new Map<string, Float32Array>();
  for (const [name, v] of params) values.set(name, v.dataSync() as Float32Array);
  saveClipWeights(file, init.weights, values);
  return file;
}
