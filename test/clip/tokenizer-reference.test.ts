// The TS tokenizer against the Python reference (test/clip/reference_tokenizer.py), run as a real
// child process on the real vocabulary: token ids must agree exactly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadClipTokenizer } from '../../src/clip/tokenizer/index.js';
import { ROOT } from '../helpers.js';
import { LONG_CAPTION, PARITY_CAPTIONS, requireBpeFile } from './captions.js';

const PYTHON = '/usr/bin/python3';
const REFERENCE = join(ROOT, 'test/clip/reference_tokenizer.py');

function requirePythonRegex(): void {
  assert.ok(
    existsSync(PYTHON),
    `${PYTHON} is missing: the CLIP tokenizer reference test needs Debian's python3 with python3-regex (sudo apt-get install -y python3 python3-regex)`,
  );
  const probe = spawnSync(PYTHON, ['-c', 'import regex'], { encoding: 'utf8' });
  assert.equal(
    probe.status,
    0,
    `${PYTHON} cannot import the "regex" module, which the CLIP tokenizer reference needs for \\p{L}/\\p{N}: install it with "sudo apt-get install -y python3-regex" (Debian), then rerun.\n${probe.stderr}`,
  );
}

function referenceTokens(texts: readonly string[], contextLength: number, bpeFile: string): number[][] {
  const run = spawnSync(PYTHON, [REFERENCE], {
    input: JSON.stringify({ texts, context_length: contextLength, bpe_file: bpeFile }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(run.status, 0, `reference tokenizer failed (exit ${run.status}):\n${run.stderr}`);
  const parsed = JSON.parse(run.stdout) as { tokens: number[][] };
  assert.equal(parsed.tokens.length, texts.length);
  return parsed.tokens;
}

test('the parity captions are NFC, so that the reference (no ftfy) sees what the TS side sees', () => {
  for (const caption of PARITY_CAPTIONS) assert.equal(caption, caption.normalize('NFC'), JSON.stringify(caption));
});

for (const contextLength of [77, 8]) {
  test(`token ids equal the Python reference's at context length ${contextLength}`, () => {
    requirePythonRegex();
    const bpeFile = requireBpeFile();
    const tokenizer = loadClipTokenizer({ bpeFile }, contextLength);
    const expected = referenceTokens(PARITY_CAPTIONS, contextLength, bpeFile);
    PARITY_CAPTIONS.forEach((caption, i) => {
      assert.deepEqual(Array.from(tokenizer.encode(caption)), expected[i], `caption ${i}: ${JSON.stringify(caption)}`);
    });
  });
}

test('the reference agrees on the well-known anchors and truncates keeping the end token', () => {
  requirePythonRegex();
  const bpeFile = requireBpeFile();
  const [cat, dog, long] = referenceTokens(['a photo of a cat', 'a dog', LONG_CAPTION], 77, bpeFile);
  assert.deepEqual(cat!.slice(0, 8), [49406, 320, 1125, 539, 320, 2368, 49407, 0]);
  assert.deepEqual(dog!.slice(0, 5), [49406, 320, 1929, 49407, 0]);
  assert.equal(long!.length, 77);
  assert.equal(long![76], 49407);
});
