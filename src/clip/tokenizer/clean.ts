// CLIP's caption clean-up. OpenCLIP runs ftfy.fix_text, then html.unescape twice, strips, collapses
// whitespace and lower-cases. ftfy has no JS port, so fixText below implements only the part of it
// that matters for clean captions (mojibake repair, terminal escapes and the rest are left out):
//   - Latin ligatures spelled out ("ﬁ" -> "fi", "Ĳ" -> "IJ"),
//   - full-width and half-width forms to their usual width ("ＡＢＣ" -> "ABC", ideographic space -> " "),
//   - curly quotes to straight ones (‘ ’ ‚ ‛ ʼ -> ', “ ” „ ‟ -> "),
//   - control characters removed (C0 and C1 controls except whitespace, DEL, BOM, deprecated
//     format controls); unlike ftfy, C1 controls are dropped rather than read as Windows-1252,
//   - Unicode NFC normalisation.
import { decodeHTML } from 'entities';

const LIGATURES: Readonly<Record<string, string>> = {
  '\u0132': 'IJ',
  '\u0133': 'ij',
  '\u0149': '\u02bcn',
  '\u01c4': 'D\u017d',
  '\u01c5': 'D\u017e',
  '\u01c6': 'd\u017e',
  '\u01c7': 'LJ',
  '\u01c8': 'Lj',
  '\u01c9': 'lj',
  '\u01ca': 'NJ',
  '\u01cb': 'Nj',
  '\u01cc': 'nj',
  '\u01f1': 'DZ',
  '\u01f2': 'Dz',
  '\u01f3': 'dz',
  '\ufb00': 'ff',
  '\ufb01': 'fi',
  '\ufb02': 'fl',
  '\ufb03': 'ffi',
  '\ufb04': 'ffl',
  '\ufb05': '\u017ft',
  '\ufb06': 'st',
};
const LIGATURE_RE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;

// U+FF01..U+FFEE are the full-width ASCII and half-width CJK forms; NFKC gives their usual width.
const WIDTH_RE = /[\u3000\uff01-\uffee]/g;
const SINGLE_QUOTE_RE = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTE_RE = /[\u201c-\u201f]/g;
// Keeps \t \n \f \r and NEL (U+0085): they are whitespace, collapsed to one space later.
// eslint-disable-next-line no-control-regex -- matching control characters is this regex's job
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f-\x84\x86-\x9f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
// Python's str.isspace() set, not JS's \s (which adds U+FEFF and lacks U+001C..U+001F and U+0085),
// so that the whitespace runs are the ones OpenCLIP's re.sub(r'\s+', ' ') sees.
// eslint-disable-next-line no-control-regex -- Python's whitespace set includes control characters
const WHITESPACE_RUN_RE = /[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;

/** The ftfy.fix_text subset described at the top of this file. */
export function fixText(text: string): string {
  return text
    .replace(LIGATURE_RE, (ch) => LIGATURES[ch] ?? ch)
    .replace(WIDTH_RE, (ch) => (ch === '\u3000' ? ' ' : ch.normalize('NFKC')))
    .replace(SINGLE_QUOTE_RE, "'")
    .replace(DOUBLE_QUOTE_RE, '"')
    .replace(CONTROL_RE, '')
    .normalize('NFC');
}

function unescapeHtml(text: string): string {
  return text.includes('&') ? decodeHTML(text) : text;
}

/**
 * The text CLIP's BPE sees: fixText, HTML unescaped twice (as OpenCLIP: "&amp;amp;" -> "&"),
 * whitespace runs collapsed to one space, trimmed, lower-cased. ftfy itself unescapes entities
 * before its fixes, so fixText runs again on the unescaped text ("&rsquo;" -> "'").
 */
export function cleanCaption(text: string): string {
  const first = fixText(text);
  const unescaped = unescapeHtml(unescapeHtml(first));
  const fixed = unescaped === first ? first : fixText(unescaped);
  return fixed.replace(WHITESPACE_RUN_RE, ' ').trim().toLowerCase();
}
