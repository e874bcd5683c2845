// The vocabulary files: OpenCLIP's .txt.gz and Hugging Face's vocab.json + merges.txt give the same
// tokenizer; findVocab; and the errors for missing or malformed files, which name the file.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ClipTokenizerError, findVocab, loadClipTokenizer } from '../../src/clip/tokenizer/index.js';
import { tempDir } from '../helpers.js';
import { PARITY_CAPTIONS, requireBpeFile } from './captions.js';

const MERGES = 48894;
const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder removed when the file's tests end (the derived vocab.json files are ~1.5 MB). */
function scratch(prefix: string): string {
  const dir = tempDir(prefix);
  made.push(dir);
  return dir;
}

function gzLines(): string[] {
  return gunzipSync(readFileSync(requireBpeFile())).toString('utf8').split('\n');
}

/** vocab.json + merges.txt derived from the .gz file, as Hugging Face publishes CLIP's. */
function writeHfLayout(dir: string, edit?: (vocab: Record<string, number>, merges: string[]) => void): void {
  const gz = loadClipTokenizer({ bpeFile: requireBpeFile() }, 77);
  const vocab: Record<string, number> = {};
  gz.vocab.forEach((token, id) => {
    vocab[token] = id;
  });
  const merges = gzLines().slice(1, MERGES + 1);
  edit?.(vocab, merges);
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
}

function expectError(run: () => unknown, code: string, file: string, pattern: RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof ClipTokenizerError, `expected a ClipTokenizerError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.file, file);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('the Hugging Face layout gives the same vocabulary and ids as the .txt.gz', () => {
  const dir = scratch('clip-hf-');
  writeHfLayout(dir);
  const fromGz = loadClipTokenizer({ bpeFile: requireBpeFile() }, 77);
  const source = findVocab(dir);
  assert.deepEqual(source, { vocabJson: join(dir, 'vocab.json'), mergesTxt: join(dir, 'merges.txt') });
  const fromHf = loadClipTokenizer(source, 77);
  assert.deepEqual(fromHf.vocab, fromGz.vocab);
  assert.equal(fromHf.sotToken, 49406);
  assert.equal(fromHf.eotToken, 49407);
  for (const caption of PARITY_CAPTIONS)
    assert.deepEqual(fromHf.encode(caption), fromGz.encode(caption), JSON.stringify(caption));
});

test('findVocab: a .gz file, a folder with one bpe_simple_vocab*.txt.gz, and clear refusals', () => {
  const bpeFile = requireBpeFile();
  assert.deepEqual(findVocab(bpeFile), { bpeFile });
  const dir = scratch('clip-find-');
  const gzDir = join(dir, 'gz');
  mkdirSync(gzDir);
  writeFileSync(join(gzDir, 'bpe_simple_vocab_16e6.txt.gz'), readFileSync(bpeFile));
  assert.deepEqual(findVocab(gzDir), { bpeFile: join(gzDir, 'bpe_simple_vocab_16e6.txt.gz') });
  assert.equal(loadClipTokenizer(findVocab(gzDir), 77).encodeIds('a dog').join(), '320,1929');

  writeFileSync(join(gzDir, 'bpe_simple_vocab_other.txt.gz'), readFileSync(bpeFile));
  expectError(
    () => findVocab(gzDir),
    'TOKENIZER_NOT_FOUND',
    gzDir,
    /several BPE files \(bpe_simple_vocab_16e6\.txt\.gz, bpe_simple_vocab_other\.txt\.gz\)/,
  );

  const empty = join(dir, 'empty');
  mkdirSync(empty);
  expectError(
    () => findVocab(empty),
    'TOKENIZER_NOT_FOUND',
    empty,
    /no vocabulary found \(expected .*vocab\.json \+ merges\.txt/,
  );
  const half = join(dir, 'half');
  mkdirSync(half);
  writeFileSync(join(half, 'vocab.json'), '{}');
  expectError(() => findVocab(half), 'TOKENIZER_NOT_FOUND', half, /has vocab\.json but no merges\.txt/);
  const missing = join(dir, 'nowhere');
  expectError(() => findVocab(missing), 'TOKENIZER_NOT_FOUND', missing, /no such file or folder/);
  const notGz = join(dir, 'vocab.txt');
  writeFileSync(notGz, 'x');
  expectError(() => findVocab(notGz), 'TOKENIZER_NOT_FOUND', notGz, /not a \.gz file/);
});

test('.txt.gz errors name the file and what was expected', () => {
  const dir = scratch('clip-gz-');
  const missing = join(dir, 'missing.txt.gz');
  expectError(
    () => loadClipTokenizer({ bpeFile: missing }, 77),
    'TOKENIZER_NOT_FOUND',
    missing,
    /no such file \(expected a gzip-compressed BPE merges file/,
  );

  const plain = join(dir, 'plain.txt.gz');
  writeFileSync(plain, '#version: 0.2\ni n\n');
  expectError(() => loadClipTokenizer({ bpeFile: plain }, 77), 'TOKENIZER_FORMAT', plain, /not gzip data/);

  const short = join(dir, 'short.txt.gz');
  writeFileSync(short, gzipSync('#version: 0.2\ni n\nt h\n'));
  expectError(
    () => loadClipTokenizer({ bpeFile: short }, 77),
    'TOKENIZER_FORMAT',
    short,
    /at least 48894 merge lines, got 4 lines/,
  );

  const lines = gzLines();
  lines[5] = 'a b c'; // the 5th merge, line 6 of the file
  const badLine = join(dir, 'bad-line.txt.gz');
  writeFileSync(badLine, gzipSync(lines.join('\n')));
  expectError(
    () => loadClipTokenizer({ bpeFile: badLine }, 77),
    'TOKENIZER_FORMAT',
    badLine,
    /line 6: expected a merge of two tokens "a b", got "a b c"/,
  );
});

test('Hugging Face layout errors name the file and what was expected', () => {
  const dir = scratch('clip-hf-bad-');
  const layout = (name: string, edit: (vocab: Record<string, number>, merges: string[]) => void) => {
    const sub = join(dir, name);
    mkdirSync(sub);
    writeHfLayout(sub, edit);
    return { vocabJson: join(sub, 'vocab.json'), mergesTxt: join(sub, 'merges.txt') };
  };
  const badMerge = layout('bad-merge', (_, merges) => {
    merges[2] = 'lonely';
  });
  expectError(
    () => loadClipTokenizer(badMerge, 77),
    'TOKENIZER_FORMAT',
    badMerge.mergesTxt,
    /line 4: expected a merge of two tokens "a b", got "lonely"/,
  );

  const noEnd = layout('no-end', (vocab) => {
    delete vocab['<|endoftext|>'];
  });
  expectError(
    () => loadClipTokenizer(noEnd, 77),
    'TOKENIZER_FORMAT',
    noEnd.vocabJson,
    /expected the token "<\|endoftext\|>" \(the end-of-text marker\)/,
  );

  const badId = layout('bad-id', (vocab) => {
    vocab['a</w>'] = 1.5;
  });
  expectError(
    () => loadClipTokenizer(badId, 77),
    'TOKENIZER_FORMAT',
    badId.vocabJson,
    /key "a<\/w>": expected an integer id in 0\.\.49407, got 1\.5/,
  );

  const unknownMerge = layout('unknown-merge', (_, merges) => {
    merges.push('q z');
  });
  expectError(
    () => loadClipTokenizer(unknownMerge, 77),
    'TOKENIZER_FORMAT',
    unknownMerge.mergesTxt,
    /merge "q z" \(merge 48895\): the merged token is not in/,
  );

  const notJson = join(dir, 'not-json');
  mkdirSync(notJson);
  writeFileSync(join(notJson, 'vocab.json'), '[1, 2');
  writeFileSync(join(notJson, 'merges.txt'), '#version: 0.2\n');
  expectError(
    () => loadClipTokenizer(findVocab(notJson), 77),
    'TOKENIZER_FORMAT',
    join(notJson, 'vocab.json'),
    /cannot parse as JSON/,
  );
});

test('a context length below 2 is refused before any file is read', () => {
  for (const contextLength of [1, 0, 2.5]) {
    assert.throws(
      () => loadClipTokenizer({ bpeFile: '/nonexistent/bpe.txt.gz' }, contextLength),
      (err: unknown) =>
        err instanceof ClipTokenizerError &&
        err.code === 'TOKENIZER_ARGUMENT' &&
        /contextLength: expected an integer >= 2/.test(err.message),
    );
  }
});
