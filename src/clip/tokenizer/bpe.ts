// The BPE merge loop: repeatedly merge the adjacent pair with the lowest rank (earliest line of
// the merges file), every non-overlapping occurrence left to right, until no pair has a rank.

export type MergeRanks = ReadonlyMap<string, number>;

/** The key of a pair in MergeRanks. Tokens never hold a space (the byte table maps it away). */
export function pairKey(first: string, second: string): string {
  return `${first} ${second}`;
}

/** Merges `symbols` (one word's characters, the last with its </w>) into BPE tokens. */
export function mergeWord(symbols: readonly string[], ranks: MergeRanks): string[] {
  let word = symbols.slice();
  while (word.length > 1) {
    let bestRank = Infinity;
    let bestIndex = -1;
    for (let i = 0; i + 1 < word.length; i++) {
      const rank = ranks.get(pairKey(word[i]!, word[i + 1]!));
      // Strictly lower: bestIndex is the leftmost occurrence of the winning pair.
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        bestIndex = i;
      }
    }
    if (bestIndex < 0) break;
    const first = word[bestIndex]!;
    const second = word[bestIndex + 1]!;
    const merged = word.slice(0, bestIndex);
    let i = bestIndex;
    while (i < word.length) {
      if (i + 1 < word.length && word[i] === first && word[i + 1] === second) {
        merged.push(first + second);
        i += 2;
      } else {
        merged.push(word[i]!);
        i += 1;
      }
    }
    word = merged;
  }
  return word;
}
