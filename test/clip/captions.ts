// Shared by the CLIP tokenizer tests: where the vocabulary is, and a caption set that touches
// every branch of the clean-up and the split pattern.
import { clipVocabFile } from './fixtures.js';

/** OpenCLIP's vocabulary; the package does not ship it (see fixtures.ts for where it is found). */
export function requireBpeFile(): string {
  return clipVocabFile();
}

export const LONG_CAPTION = Array.from({ length: 40 }, (_, i) => `photo ${i} of a cat, sitting on mat #${i * 7}.`).join(
  ' ',
);

/**
 * Captions the Python reference must tokenise identically. They avoid what only the TS side does
 * (the ftfy subset: curly quotes, ligatures, full-width forms, control characters, non-NFC text),
 * which tokenizer.test.ts covers on its own.
 */
export const PARITY_CAPTIONS: readonly string[] = [
  'a photo of a cat',
  'a dog',
  'A man riding a wave on top of a surfboard.',
  'Hello, world!!! What?! (Really...) [yes] {no} -- ok; fine: "quoted" `ticks` ~tilde~',
  "don't, it's, we'll, I'd, they're, you've, I'm, DON'T SHOUT, 'tis, rock 'n' roll, O'Neil's",
  'In 2017 pi was 3.14; 1,000,000 people paid $5.99 (50% off) at 10:30pm on 2017-06-01.',
  'Tom &amp; Jerry &quot;live&quot; &#39;here&#39; &lt;b&gt;bold&lt;/b&gt; &amp;amp; &#x41;&#66; non&nbsp;breaking',
  'café, naïve, Ångström, Zürich, São Paulo, Straße, ΟΔΟΣ, İstanbul, Привет мир',
  '日本語のテキスト、中文字符。한국어 문장 नमस्ते مرحبا بالعالم',
  'cat 🐱👍🏽 family 👨‍👩‍👧 flag 🇯🇵 ✨✨ ♥',
  'tabs\there\tand\nnewlines\r\nand\u2028separators',
  '   many    spaces   between     words   ',
  'UPPER CASE CAPTION WITH MiXeD cAsE',
  'antidisestablishmentarianism supercalifragilisticexpialidocious pneumonoultramicroscopic',
  'email: someone@example.com, url: https://example.com/a?b=c&d=e#frag',
  'before <|endoftext|> after <|startoftext|> markers',
  '!!!???...,,,;;;',
  "'s 'd 'll at the start",
  LONG_CAPTION,
  '',
  ' \t\n ',
];
