// Where a CLIP vocabulary is, given a file or a folder (e.g. a model or checkpoint folder).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ClipTokenizerError } from './errors.js';

export type VocabSource = { bpeFile: string } | { vocabJson: string; mergesTxt: string };

const EXPECTED =
  'a bpe_simple_vocab*.txt.gz file, or a folder holding vocab.json + merges.txt or one bpe_simple_vocab*.txt.gz';
const GZ_NAME_RE = /^bpe_simple_vocab.*\.txt\.gz$/;

/** A .gz file as is; in a folder, vocab.json + merges.txt first, else its one bpe_simple_vocab*.txt.gz. */
export function findVocab(dirOrFile: string): VocabSource {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dirOrFile).isDirectory();
  } catch (err) {
    throw new ClipTokenizerError('TOKENIZER_NOT_FOUND', dirOrFile, `no such file or folder (expected ${EXPECTED})`, {
      cause: err,
    });
  }
  if (!isDirectory) {
    if (dirOrFile.endsWith('.gz')) return { bpeFile: dirOrFile };
    throw new ClipTokenizerError('TOKENIZER_NOT_FOUND', dirOrFile, `not a .gz file (expected ${EXPECTED})`);
  }
  const names = new Set(readdirSync(dirOrFile));
  const hasVocab = names.has('vocab.json');
  const hasMerges = names.has('merges.txt');
  if (hasVocab && hasMerges)
    return { vocabJson: join(dirOrFile, 'vocab.json'), mergesTxt: join(dirOrFile, 'merges.txt') };
  if (hasVocab !== hasMerges) {
    throw new ClipTokenizerError(
      'TOKENIZER_NOT_FOUND',
      dirOrFile,
      `has ${hasVocab ? 'vocab.json' : 'merges.txt'} but no ${hasVocab ? 'merges.txt' : 'vocab.json'} (the Hugging Face layout needs both)`,
    );
  }
  const gzFiles = [...names].filter((name) => GZ_NAME_RE.test(name)).sort();
  if (gzFiles.length === 1) return { bpeFile: join(dirOrFile, gzFiles[0]!) };
  if (gzFiles.length > 1) {
    throw new ClipTokenizerError(
      'TOKENIZER_NOT_FOUND',
      dirOrFile,
      `holds several BPE files (${gzFiles.join(', ')}); name the one to use`,
    );
  }
  throw new ClipTokenizerError('TOKENIZER_NOT_FOUND', dirOrFile, `no vocabulary found (expected ${EXPECTED})`);
}
