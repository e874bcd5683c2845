// The tokenizer contract every text encoder of the model implements (the trainer's word-level
// tokenizer and CLIP's BPE): fixed-length id rows ending in the end-of-text token.

/**
 * A tokenizer. The word-level one: token 0 is padding, then <sot>, <eot>, <unk>, then words.
 * `encode` returns exactly contextLength ids: <sot> words... <eot> then padding; a caption that is
 * too long is truncated so that <eot> is always present (the text tower pools at <eot>).
 */
export interface Tokenizer {
  readonly vocab: readonly string[];
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly padToken: 0;
  readonly sotToken: number;
  readonly eotToken: number;
  readonly unkToken: number;
  encode(text: string): Int32Array;
}
