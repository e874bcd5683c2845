// Word-level tokenizer for the built-in model (real CLIP BPE is a separate issue).
import type { Tokenizer } from '../../model/tokenizer.js';
import { BadInputError } from '../../errors.js';

export const PAD = '<pad>';
export const SOT = '<sot>';
export const EOT = '<eot>';
export const UNK = '<unk>';
export const SPECIAL_TOKENS: readonly string[] = [PAD, SOT, EOT, UNK];

/** Lowercases and splits into words and single punctuation marks ("red, round." -> red , round .). */
export function splitWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?|[^\s\p{L}\p{N}]/gu) ?? [];
}

export interface BuildVocabOptions {
  /** Drop words seen fewer times than this (default 1: keep every word). */
  minCount?: number;
  /** Keep at most this many entries in all, special tokens included (most frequent words first). */
  maxSize?: number;
}

/**
 * The vocabulary of some captions: the special tokens, then words by descending frequency, ties
 * broken alphabetically, so that the same captions always give the same ids whatever their order.
 */
export function buildVocab(captions: Iterable<string>, options: BuildVocabOptions = {}): string[] {
  const minCount = options.minCount ?? 1;
  const counts = new Map<string, number>();
  for (const caption of captions) {
    for (const word of splitWords(caption)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const words = [...counts.entries()]
    .filter(([word, n]) => n >= minCount && !SPECIAL_TOKENS.includes(word))
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .map(([word]) => word);
  const vocab = [...SPECIAL_TOKENS, ...words];
  return options.maxSize === undefined ? vocab : vocab.slice(0, Math.max(SPECIAL_TOKENS.length, options.maxSize));
}

/** The tokenizer of types.ts plus `decode`, which the contract does not need but tests and logs do. */
export interface WordTokenizer extends Tokenizer {
  /** Words of the ids between <sot> and <eot>, joined by spaces (padding and specials dropped). */
  decode(ids: ArrayLike<number>): string;
}

export function createTokenizer(vocab: readonly string[], contextLength: number): WordTokenizer {
  if (!Number.isInteger(contextLength) || contextLength < 2) {
    throw new RangeError(`contextLength: expected an integer >= 2 (room for <sot> and <eot>), got ${contextLength}`);
  }
  SPECIAL_TOKENS.forEach((token, i) => {
    if (vocab[i] !== token) {
      throw new BadInputError(
        `vocab: entry ${i} must be ${token}, got ${JSON.stringify(vocab[i])} (not a clipsweep word vocabulary?)`,
      );
    }
  });
  const frozen = Object.freeze(vocab.slice());
  const ids = new Map<string, number>();
  frozen.forEach((word, i) => {
    if (!ids.has(word)) ids.set(word, i);
  });
  const sotToken = 1;
  const eotToken = 2;
  const unkToken = 3;
  return {
    vocab: frozen,
    vocabSize: frozen.length,
    contextLength,
    padToken: 0,
    sotToken,
    eotToken,
    unkToken,
    encode(text: string): Int32Array {
      const out = new Int32Array(contextLength); // zero-filled: padding
      const words = splitWords(text).slice(0, contextLength - 2); // truncate, keeping room for <eot>
      out[0] = sotToken;
      words.forEach((word, i) => {
        out[i + 1] = ids.get(word) ?? unkToken;
      });
      out[words.length + 1] = eotToken;
      return out;
    },
    decode(tokens: ArrayLike<number>): string {
      const words: string[] = [];
      for (let i = 0; i < tokens.length; i++) {
        const id = tokens[i] as number;
        if (id === eotToken) break;
        if (id === 0 || id === sotToken) continue;
        words.push(id === unkToken ? UNK : (frozen[id] ?? UNK));
      }
      return words.join(' ');
    },
  };
}
