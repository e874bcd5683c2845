// GPT-2/CLIP's reversible byte <-> character table. BPE works on strings, so every byte needs a
// printable, non-whitespace character: bytes that already are one map to themselves, the others
// (controls, space, DEL, NBSP, soft hyphen) to U+0100 onwards, in byte order.

function isSelfPrintable(byte: number): boolean {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
}

/**
 * The bytes in vocabulary order: the self-printable bytes ascending, then the rest ascending.
 * CLIP's first 256 vocabulary entries are these bytes' characters in exactly this order.
 */
export const BYTE_ORDER: readonly number[] = (() => {
  const all = Array.from({ length: 256 }, (_, b) => b);
  return [...all.filter(isSelfPrintable), ...all.filter((b) => !isSelfPrintable(b))];
})();

/** byte -> its character (index = byte value). */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const table = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++)
    table[b] = isSelfPrintable(b) ? String.fromCharCode(b) : String.fromCharCode(0x100 + shifted++);
  return table;
})();

/** character -> its byte, the inverse of BYTE_TO_CHAR. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((ch, b) => [ch, b]));
