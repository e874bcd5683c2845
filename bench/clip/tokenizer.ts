// node dist/bench/clip/tokenizer.js [--vocab PATH] [--captions N] [--coco captions_train2017.json]
// CLIP BPE tokenizer speed: vocabulary load time, then captions/s encoding N captions to rows of
// 77 ids, first with an empty word cache, then again with it filled. Figures only.
// Captions are COCO-like sentences from a seeded generator unless --coco names an annotations file.
import { readFileSync } from 'node:fs';
import { findVocab, loadClipTokenizer, type ClipBpeTokenizer } from '../../src/clip/tokenizer/index.js';
import { makeRng } from '../../src/trainer/rng.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const vocabPath = opt('vocab', process.env.CLIP_BPE_VOCAB ?? '/work/shared/data/clip/bpe_simple_vocab_16e6.txt.gz');
const count = Number(opt('captions', '100000'));
const coco = opt('coco', '');

const SUBJECTS = [
  'a man',
  'a woman',
  'two dogs',
  'a black cat',
  'a group of people',
  'a young boy',
  'an elephant',
  'a red double-decker bus',
  'three giraffes',
  'a surfer',
  "the chef's knife",
  'a plate of food',
];
const VERBS = [
  'riding',
  'standing next to',
  'sitting on',
  'holding',
  'looking at',
  'walking across',
  'eating',
  'parked beside',
  "that's near",
  'flying over',
];
const OBJECTS = [
  'a wave',
  'the street',
  'a wooden bench',
  'a large pizza',
  'a snowy mountain',
  'a kitchen counter',
  'a frisbee',
  'the ocean',
  'a traffic light',
  'a laptop computer',
];
const TAILS = [
  '.',
  ' on a sunny day.',
  ' in 2017.',
  ' at the park!',
  ', with 3 others.',
  ' &amp; smiling.',
  ' near café Zürich.',
  '',
];

function syntheticCaptions(n: number): string[] {
  const rng = makeRng(7);
  const pick = (xs: readonly string[]) => xs[rng.int(xs.length)]!;
  // A number in some captions keeps the distinct-word count realistic (COCO: ~30k words).
  return Array.from(
    { length: n },
    (_, i) =>
      `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)}${i % 5 === 0 ? ` number${rng.int(20000)}` : ''}${pick(TAILS)}`,
  );
}

function cocoCaptions(file: string, n: number): string[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { annotations?: { caption?: unknown }[] };
  return (parsed.annotations ?? []).map((a) => String(a.caption ?? '')).slice(0, n);
}

function timeEncode(tokenizer: ClipBpeTokenizer, captions: readonly string[]): number {
  const t0 = performance.now();
  let checksum = 0;
  for (const caption of captions) checksum += tokenizer.encode(caption)[1]!;
  const seconds = (performance.now() - t0) / 1000;
  if (checksum < 0) console.log(checksum); // keeps the loop from being optimised away
  return seconds;
}

const captions = coco ? cocoCaptions(coco, count) : syntheticCaptions(count);
const source = findVocab(vocabPath);
let t0 = performance.now();
const tokenizer = loadClipTokenizer(source, 77);
const loadMs = performance.now() - t0;
t0 = performance.now();
loadClipTokenizer(source, 77);
const reloadMs = performance.now() - t0;

const cold = timeEncode(tokenizer, captions);
const warm = timeEncode(tokenizer, captions);
const ids =
  captions.slice(0, 1000).reduce((n, c) => n + tokenizer.encodeIds(c).length, 0) / Math.min(1000, captions.length);
console.log(`vocabulary: ${vocabPath} (${tokenizer.vocabSize} tokens)`);
console.log(`load: ${loadMs.toFixed(0)} ms first, ${reloadMs.toFixed(0)} ms second`);
console.log(
  `captions: ${captions.length} (${coco ? coco : 'synthetic'}), ${ids.toFixed(1)} BPE ids per caption on average`,
);
console.log(`encode, empty word cache: ${cold.toFixed(2)} s, ${(captions.length / cold).toFixed(0)} captions/s`);
console.log(`encode, filled word cache: ${warm.toFixed(2)} s, ${(captions.length / warm).toFixed(0)} captions/s`);
