// CLIP's pre-tokenisation: the text is cut into pieces, each BPE-encoded on its own. The
// alternatives are tried in order at each position: the start/end markers, the English
// contractions, a run of letters, one digit (numbers are spelled digit by digit), then a run of
// anything that is neither whitespace, letter nor digit. Whitespace only separates pieces.

export const SOT_TEXT = '<|startoftext|>';
export const EOT_TEXT = '<|endoftext|>';

const PIECE_RE = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

/** The pieces of an already cleaned caption (see cleanCaption), in order. */
export function splitPieces(cleaned: string): string[] {
  return cleaned.match(PIECE_RE) ?? [];
}
