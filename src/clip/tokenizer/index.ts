// CLIP's byte-level BPE tokenizer (the one OpenCLIP and Hugging Face use), for the trainer's
// captions. The vocabulary file is not shipped: find it with findVocab, load it once.
import { findVocab, type VocabSource } from './find.js';
import { checkContextLength, createClipTokenizer, type ClipBpeTokenizer } from './tokenizer.js';
import { readBpeGz, readHfVocab } from './vocab-files.js';

export type { ClipBpeTokenizer } from './tokenizer.js';
export type { VocabSource } from './find.js';
export { findVocab } from './find.js';
export { ClipTokenizerError, type ClipTokenizerErrorCode } from './errors.js';
export { cleanCaption, fixText } from './clean.js';
export { splitPieces } from './pieces.js';

export function loadClipTokenizer(source: VocabSource, contextLength: number): ClipBpeTokenizer {
  checkContextLength(contextLength); // before reading a file for nothing
  const loaded = 'bpeFile' in source ? readBpeGz(source.bpeFile) : readHfVocab(source.vocabJson, source.mergesTxt);
  return createClipTokenizer(loaded, contextLength);
}

/** findVocab then loadClipTokenizer. */
export function loadClipTokenizerFrom(dirOrFile: string, contextLength: number): ClipBpeTokenizer {
  return loadClipTokenizer(findVocab(dirOrFile), contextLength);
}
