// Reading a CLIP vocabulary from either of its two published layouts: OpenCLIP's
// bpe_simple_vocab_16e6.txt.gz (merges only; the vocabulary is derived from them) or Hugging
// Face's vocab.json (token -> id) + merges.txt. Both give the same LoadedVocab.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { BYTE_ORDER, BYTE_TO_CHAR } from './bytes.js';
import { ClipTokenizerError } from './errors.js';
import { EOT_TEXT, SOT_TEXT } from './pieces.js';

export const END_OF_WORD = '</w>';
/** Merges OpenCLIP takes from the .txt.gz: 49152 minus the 256 bytes minus the 2 markers. */
export const GZ_MERGE_COUNT = 49152 - 256 - 2;

export interface LoadedVocab {
  /** id -> token. */
  vocab: string[];
  /** Merge pairs, rank = index. */
  merges: [string, string][];
  sotToken: number;
  eotToken: number;
}

function readBytes(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new ClipTokenizerError('TOKENIZER_NOT_FOUND', file, `no such file (expected ${what})`, { cause: err });
    throw new ClipTokenizerError('TOKENIZER_FORMAT', file, `cannot read ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function decodeUtf8(file: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ClipTokenizerError('TOKENIZER_FORMAT', file, 'expected UTF-8 text', { cause: err });
  }
}

/** "a b" -> ["a", "b"]; anything else is an error naming the file and the 1-based line. */
function parseMerge(file: string, line: string, lineNumber: number): [string, string] {
  const parts = line.trim().split(/\s+/);
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new ClipTokenizerError(
      'TOKENIZER_FORMAT',
      file,
      `line ${lineNumber}: expected a merge of two tokens "a b", got ${JSON.stringify(line)}`,
    );
  }
  return [parts[0], parts[1]];
}

/** The 256 byte characters in vocabulary order. */
function byteTokens(): string[] {
  return BYTE_ORDER.map((b) => BYTE_TO_CHAR[b]!);
}

/** OpenCLIP's layout: line 0 is a header, lines 1..48894 the merges (the rest is unused). */
export function readBpeGz(file: string): LoadedVocab {
  const what = "a gzip-compressed BPE merges file such as OpenCLIP's bpe_simple_vocab_16e6.txt.gz";
  const compressed = readBytes(file, what);
  let raw: Buffer;
  try {
    raw = gunzipSync(compressed);
  } catch (err) {
    throw new ClipTokenizerError(
      'TOKENIZER_FORMAT',
      file,
      `not gzip data (expected ${what}): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const lines = decodeUtf8(file, raw).split('\n');
  if (lines.length < GZ_MERGE_COUNT + 1) {
    throw new ClipTokenizerError(
      'TOKENIZER_FORMAT',
      file,
      `expected a header line then at least ${GZ_MERGE_COUNT} merge lines, got ${lines.length} lines in all`,
    );
  }
  const merges = lines.slice(1, GZ_MERGE_COUNT + 1).map((line, i) => parseMerge(file, line, i + 2));
  const bytes = byteTokens();
  const vocab = [...bytes, ...bytes.map((t) => t + END_OF_WORD), ...merges.map(([a, b]) => a + b), SOT_TEXT, EOT_TEXT];
  return { vocab, merges, sotToken: vocab.length - 2, eotToken: vocab.length - 1 };
}

function readVocabJson(file: string): string[] {
  const what = 'a vocab.json object mapping each token to its integer id';
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeUtf8(file, readBytes(file, what)));
  } catch (err) {
    if (err instanceof ClipTokenizerError) throw err;
    throw new ClipTokenizerError(
      'TOKENIZER_FORMAT',
      file,
      `cannot parse as JSON (expected ${what}): ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ClipTokenizerError('TOKENIZER_FORMAT', file, `expected ${what}`);
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  const vocab = new Array<string>(entries.length);
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length) {
      throw new ClipTokenizerError(
        'TOKENIZER_FORMAT',
        file,
        `key ${JSON.stringify(token)}: expected an integer id in 0..${entries.length - 1}, got ${JSON.stringify(id)}`,
      );
    }
    if (vocab[id] !== undefined) {
      throw new ClipTokenizerError(
        'TOKENIZER_FORMAT',
        file,
        `key ${JSON.stringify(token)}: id ${id} is already used by ${JSON.stringify(vocab[id])}`,
      );
    }
    vocab[id] = token;
  }
  return vocab; // n distinct ids in 0..n-1: dense
}

function readMergesTxt(file: string): [string, string][] {
  const lines = decodeUtf8(
    file,
    readBytes(file, 'a merges.txt file ("#version" header, then one "a b" merge per line)'),
  ).split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const start = lines[0]?.startsWith('#version') ? 1 : 0;
  return lines.slice(start).map((line, i) => parseMerge(file, line, start + i + 1));
}

function requireToken(file: string, ids: ReadonlyMap<string, number>, token: string, why: string): number {
  const id = ids.get(token);
  if (id === undefined)
    throw new ClipTokenizerError('TOKENIZER_FORMAT', file, `expected the token ${JSON.stringify(token)} (${why})`);
  return id;
}

/** Hugging Face's layout; checks that every input can be encoded with it. */
export function readHfVocab(vocabJson: string, mergesTxt: string): LoadedVocab {
  const vocab = readVocabJson(vocabJson);
  const merges = readMergesTxt(mergesTxt);
  const ids = new Map(vocab.map((token, id) => [token, id]));
  for (const token of byteTokens()) {
    requireToken(vocabJson, ids, token, 'every byte character must be a token');
    requireToken(vocabJson, ids, token + END_OF_WORD, 'every byte character must be a token');
  }
  merges.forEach(([a, b], i) => {
    if (!ids.has(a + b)) {
      throw new ClipTokenizerError(
        'TOKENIZER_FORMAT',
        mergesTxt,
        `merge ${JSON.stringify(`${a} ${b}`)} (merge ${i + 1}): the merged token is not in ${vocabJson}`,
      );
    }
  });
  const sotToken = requireToken(vocabJson, ids, SOT_TEXT, 'the start-of-text marker');
  const eotToken = requireToken(vocabJson, ids, EOT_TEXT, 'the end-of-text marker');
  return { vocab, merges, sotToken, eotToken };
}
