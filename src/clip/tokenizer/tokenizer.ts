// The CLIP tokenizer proper: clean, split into pieces, byte-encode each piece, merge by rank,
// look the tokens up; then frame with <|startoftext|> ... <|endoftext|> and pad to the context.
import { CHAR_TO_BYTE, BYTE_TO_CHAR } from './bytes.js';
import { mergeWord, pairKey } from './bpe.js';
import { cleanCaption } from './clean.js';
import { ClipTokenizerError } from './errors.js';
import { EOT_TEXT, SOT_TEXT, splitPieces } from './pieces.js';
import { END_OF_WORD, type LoadedVocab } from './vocab-files.js';
import type { Tokenizer } from '../../model/tokenizer.js';

/**
 * The trainer's tokenizer contract (vocab, special ids, `encode`: exactly contextLength ids:
 * start, BPE ids truncated to fit, end, then 0s), plus what scripts and tests need.
 */
export interface ClipBpeTokenizer extends Tokenizer {
  /** The BPE ids only: no start/end markers, no padding, no truncation. */
  encodeIds(text: string): number[];
  /**
   * Text of the ids: start markers skipped, stops at the first end marker (what follows it is
   * padding; 0 cannot be skipped elsewhere since it is also the token "!"), bytes decoded as UTF-8,
   * each end of word becomes a space, trailing space removed.
   */
  decode(ids: ArrayLike<number>): string;
}

// Caps memory on endless distinct input; COCO's captions have ~30k distinct words.
const CACHE_LIMIT = 200_000;

export function checkContextLength(contextLength: number): void {
  if (!Number.isInteger(contextLength) || contextLength < 2) {
    throw new ClipTokenizerError(
      'TOKENIZER_ARGUMENT',
      '',
      `contextLength: expected an integer >= 2 (room for the start and end tokens), got ${contextLength}`,
    );
  }
}

export function createClipTokenizer(loaded: LoadedVocab, contextLength: number): ClipBpeTokenizer {
  checkContextLength(contextLength);
  const vocab = Object.freeze(loaded.vocab.slice());
  const { sotToken, eotToken } = loaded;
  // A later duplicate wins, as in OpenCLIP's dict(zip(vocab, ids)).
  const tokenIds = new Map(vocab.map((token, id) => [token, id]));
  const ranks = new Map(loaded.merges.map(([a, b], rank) => [pairKey(a, b), rank]));
  const cache = new Map<string, readonly number[]>();
  const utf8 = new TextEncoder();

  function pieceIds(piece: string): readonly number[] {
    const cached = cache.get(piece);
    if (cached) return cached;
    const symbols = Array.from(utf8.encode(piece), (b) => BYTE_TO_CHAR[b]!);
    symbols[symbols.length - 1] += END_OF_WORD;
    const ids = mergeWord(symbols, ranks).map((token) => {
      const id = tokenIds.get(token);
      if (id === undefined)
        throw new Error(`CLIP tokenizer: BPE produced ${JSON.stringify(token)}, which is not in the vocabulary`);
      return id;
    });
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(piece, ids);
    return ids;
  }

  function encodeIds(text: string): number[] {
    const out: number[] = [];
    for (const piece of splitPieces(cleanCaption(text))) {
      if (piece === SOT_TEXT) out.push(sotToken);
      else if (piece === EOT_TEXT) out.push(eotToken);
      else for (const id of pieceIds(piece)) out.push(id);
    }
    return out;
  }

  return {
    vocab,
    vocabSize: vocab.length,
    contextLength,
    padToken: 0,
    sotToken,
    eotToken,
    // CLIP has no unknown token: byte-level BPE can encode any input. The trainer's contract asks
    // for one, so it is the end token, which nothing in CLIP's own pipeline maps text to.
    unkToken: eotToken,
    encodeIds,
    encode(text: string): Int32Array {
      const ids = encodeIds(text);
      const out = new Int32Array(contextLength); // zero-filled: padding
      const kept = Math.min(ids.length, contextLength - 2); // truncated, keeping the end token
      out[0] = sotToken;
      for (let i = 0; i < kept; i++) out[i + 1] = ids[i]!;
      out[kept + 1] = eotToken;
      return out;
    },
    decode(ids: ArrayLike<number>): string {
      const bytes: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (id === eotToken) break;
        if (id === sotToken) continue;
        const token = vocab[id];
        if (token === undefined)
          throw new RangeError(`decode: id ${id} at position ${i} is not in 0..${vocab.length - 1}`);
        for (const ch of token) {
          const b = CHAR_TO_BYTE.get(ch);
          if (b === undefined)
            throw new RangeError(
              `decode: token ${id} ${JSON.stringify(token)} holds a character outside the byte table`,
            );
          bytes.push(b);
        }
      }
      return new TextDecoder().decode(Uint8Array.from(bytes)).replaceAll(END_OF_WORD, ' ').trimEnd();
    },
  };
}
