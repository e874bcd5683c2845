// The CLIP tokenizer on the real vocabulary: the well-known ids, framing and truncation, decode,
// and the ftfy subset that only the TS side implements.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanCaption, loadClipTokenizer, splitPieces, type ClipBpeTokenizer } from '../../src/clip/tokenizer/index.js';
import type { Tokenizer } from '../../src/model/tokenizer.js';
import { LONG_CAPTION, PARITY_CAPTIONS, requireBpeFile } from './captions.js';

let cached: ClipBpeTokenizer | undefined;
function tokenizer(): ClipBpeTokenizer {
  cached ??= loadClipTokenizer({ bpeFile: requireBpeFile() }, 77);
  return cached;
}

test('the vocabulary has the standard layout and markers', () => {
  const tok = tokenizer();
  assert.equal(tok.vocabSize, 49408);
  assert.equal(tok.vocab.length, 49408);
  assert.equal(tok.sotToken, 49406);
  assert.equal(tok.eotToken, 49407);
  assert.equal(tok.vocab[49406], '<|startoftext|>');
  assert.equal(tok.vocab[49407], '<|endoftext|>');
  assert.equal(tok.padToken, 0);
  assert.equal(tok.unkToken, tok.eotToken);
  assert.equal(tok.vocab[0], '!'); // the first self-printable byte
  assert.equal(tok.vocab[320], 'a</w>');
  assert.equal(tok.vocab[255], 'Ń'); // the 68th shifted byte: 0xAD, soft hyphen, comes last
  assert.equal(tok.vocab[256 + 255], 'Ń</w>');
});

test('well-known anchors: "a photo of a cat" and "a dog"', () => {
  const tok = tokenizer();
  assert.deepEqual(
    Array.from(tok.encode('a photo of a cat').slice(0, 8)),
    [49406, 320, 1125, 539, 320, 2368, 49407, 0],
  );
  assert.deepEqual(Array.from(tok.encode('a dog').slice(0, 5)), [49406, 320, 1929, 49407, 0]);
  assert.deepEqual(tok.encodeIds('a photo of a cat'), [320, 1125, 539, 320, 2368]);
  assert.deepEqual(tok.encodeIds('A  DOG '), [320, 1929]);
});

test('encode frames with the markers and pads with 0 to exactly contextLength', () => {
  const tok = tokenizer();
  for (const caption of PARITY_CAPTIONS) {
    const row = tok.encode(caption);
    assert.ok(row instanceof Int32Array);
    assert.equal(row.length, 77);
    const ids = tok.encodeIds(caption);
    if (ids.length > 75) continue; // truncation is the next test
    assert.deepEqual(Array.from(row), [
      tok.sotToken,
      ...ids,
      tok.eotToken,
      ...new Array<number>(75 - ids.length).fill(0),
    ]);
  }
  assert.deepEqual(Array.from(tok.encode('').slice(0, 3)), [49406, 49407, 0]);
  assert.deepEqual(Array.from(tok.encode(' \t\n ').slice(0, 3)), [49406, 49407, 0]);
});

test('text longer than the context is truncated so that the end token stays last', () => {
  const tok = tokenizer();
  const ids = tok.encodeIds(LONG_CAPTION);
  assert.ok(ids.length > 200, `expected a long caption, got ${ids.length} ids`);
  const row = tok.encode(LONG_CAPTION);
  assert.deepEqual(Array.from(row), [tok.sotToken, ...ids.slice(0, 75), tok.eotToken]);
  const tiny = loadClipTokenizer({ bpeFile: requireBpeFile() }, 2);
  assert.deepEqual(Array.from(tiny.encode('a photo of a cat')), [49406, 49407]);
  const three = loadClipTokenizer({ bpeFile: requireBpeFile() }, 3);
  assert.deepEqual(Array.from(three.encode('a photo of a cat')), [49406, 320, 49407]);
});

test('decode(encodeIds(x)) gives the cleaned text, one space between pieces', () => {
  const tok = tokenizer();
  for (const caption of PARITY_CAPTIONS.filter((c) => !c.includes('<|'))) {
    const pieces = splitPieces(cleanCaption(caption));
    assert.equal(tok.decode(tok.encodeIds(caption)), pieces.join(' '), JSON.stringify(caption));
  }
  assert.equal(tok.decode(tok.encodeIds("Don't stop: café 🐱 2017!")), "don 't stop : café 🐱 2 0 1 7 !");
  // A padded row: start skipped, stops at the end token (0 is "!" elsewhere, not padding).
  assert.equal(tok.decode(tok.encode('wow!! ok')), 'wow !! ok');
  // Literal markers in a caption encode as the markers, so decode stops there too.
  assert.equal(tok.decode(tok.encodeIds('before <|endoftext|> after')), 'before');
  assert.throws(() => tok.decode([49408]), /id 49408 at position 0 is not in 0\.\.49407/);
});

test('the ftfy subset: curly quotes, ligatures, full-width, controls, NFC', () => {
  const tok = tokenizer();
  const same = (fancy: string, plain: string) =>
    assert.deepEqual(
      tok.encodeIds(fancy),
      tok.encodeIds(plain),
      `${JSON.stringify(fancy)} vs ${JSON.stringify(plain)}`,
    );
  same('I\u2019m \u201chappy\u201d, it\u2018s \u201equoted\u201f', 'I\'m "happy", it\'s "quoted"');
  same('\ufb01sh \ufb02ower e\ufb00ort \ufb03ce \u0132sselmeer', 'fish flower effort ffice IJsselmeer');
  same('\uff21\uff22\uff23 \uff11\uff12\uff13\uff01\u3000\uff54\uff45\uff58\uff54', 'ABC 123! text');
  same('c\u0000a\u0007t\u007f \ufeffdog\u0090 m\u206aat', 'cat dog mat');
  same('cafe\u0301 A\u030angstro\u0308m', 'café Ångström');
  same('it&rsquo;s &ldquo;here&rdquo;', 'it\'s "here"');
  // What those become, and that the contractions then split as in CLIP.
  assert.equal(cleanCaption('  \uff21\uff22\uff23\t \ufb01ne \u201cx\u201d  I\u2019d  '), 'abc fine "x" i\'d');
  assert.deepEqual(splitPieces(cleanCaption('we\u2019ll')), ['we', "'ll"]);
  // Without the subset the curly apostrophe would be punctuation of its own, not a contraction.
  assert.notDeepEqual(splitPieces('we\u2019ll'), ['we', "'ll"]);
});

test('HTML is unescaped twice and whitespace runs become one space', () => {
  assert.equal(cleanCaption('Tom &amp;amp; Jerry &lt;3 &#39;x&#39; &quot;y&quot;'), 'tom & jerry <3 \'x\' "y"');
  assert.equal(cleanCaption('a\u00a0\u00a0b\t\tc\n\u2028d\u0085e'), 'a b c d e');
});

test("it satisfies the trainer's Tokenizer contract", () => {
  const asTrainerTokenizer: Tokenizer = tokenizer(); // compile-time: structural fit
  const row = asTrainerTokenizer.encode('a dog');
  assert.equal(row.length, asTrainerTokenizer.contextLength);
  assert.equal(row[3], asTrainerTokenizer.eotToken);
  assert.equal(asTrainerTokenizer.vocab.length, asTrainerTokenizer.vocabSize);
});
