import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildVocab, createTokenizer, splitWords } from '../../../src/trainer/data/tokenizer.js';

describe('word tokenizer', () => {
  const vocab = buildVocab(['A small red circle, on the left.', 'a big blue square']);

  it('lowercases and splits punctuation', () => {
    assert.deepEqual(splitWords('A Red-Circle, left!'), ['a', 'red', '-', 'circle', ',', 'left', '!']);
  });

  it('puts the special tokens first and is independent of caption order', () => {
    assert.deepEqual(vocab.slice(0, 4), ['<pad>', '<sot>', '<eot>', '<unk>']);
    assert.equal(vocab[4], 'a'); // the most frequent word
    assert.deepEqual(buildVocab(['a big blue square', 'A small red circle, on the left.']), vocab);
    assert.deepEqual(buildVocab(['a a b', 'b c'], { minCount: 2 }), ['<pad>', '<sot>', '<eot>', '<unk>', 'a', 'b']);
  });

  it('round trips <sot> words <eot> then padding', () => {
    const tok = createTokenizer(vocab, 12);
    const ids = tok.encode('A small red circle, on the left.');
    assert.equal(ids.length, 12);
    assert.equal(ids[0], tok.sotToken);
    assert.equal(ids[10], tok.eotToken); // 9 words and marks after <sot>
    assert.equal(ids[11], 0);
    assert.equal(tok.decode(ids), 'a small red circle , on the left .');
  });

  it('truncates long captions but keeps <eot> last', () => {
    const tok = createTokenizer(vocab, 5);
    const ids = tok.encode('a small red circle on the left');
    assert.deepEqual([...ids], [tok.sotToken, ...['a', 'small', 'red'].map((w) => vocab.indexOf(w)), tok.eotToken]);
    assert.deepEqual([...createTokenizer(vocab, 2).encode('anything at all')], [tok.sotToken, tok.eotToken]);
  });

  it('maps unknown words to <unk>', () => {
    const tok = createTokenizer(vocab, 8);
    const ids = tok.encode('a purple hexagon');
    assert.deepEqual(
      [...ids.subarray(0, 5)],
      [tok.sotToken, vocab.indexOf('a'), tok.unkToken, tok.unkToken, tok.eotToken],
    );
    assert.equal(tok.decode(ids), 'a <unk> <unk>');
  });

  it('rejects a vocabulary without the special tokens and a context without room for them', () => {
    assert.throws(() => createTokenizer(['a', 'b'], 8), /entry 0 must be <pad>/);
    assert.throws(() => createTokenizer(vocab, 1), /contextLength/);
  });
});
