#!/usr/bin/env python3
"""Reference CLIP BPE tokenizer for clipsweep's tests, written for clipsweep.

Same algorithm as src/clip/tokenizer/ minus the ftfy subset: html.unescape twice, whitespace
runs to one space, strip, lower; split into pieces; bytes to characters; merge by rank.
Standard library plus the `regex` module (Debian python3-regex) for \\p{L} and \\p{N}.

stdin:  {"texts": [...], "context_length": 77, "bpe_file": ".../bpe_simple_vocab_16e6.txt.gz"}
stdout: {"tokens": [[...], ...]}  one row of context_length ids per text
"""
import gzip
import html
import json
import re
import sys

import regex

SOT_TEXT = "<|startoftext|>"
EOT_TEXT = "<|endoftext|>"
MERGE_COUNT = 49152 - 256 - 2
PIECE_PATTERN = regex.compile(
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+",
    regex.IGNORECASE,
)


def byte_characters():
    """(byte -> character, bytes in vocabulary order)."""
    keeps_own = [b for b in range(256) if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF]
    shifted = [b for b in range(256) if b not in keeps_own]
    char_of = {b: chr(b) for b in keeps_own}
    for n, b in enumerate(shifted):
        char_of[b] = chr(0x100 + n)
    return char_of, keeps_own + shifted


class Reference:
    def __init__(self, bpe_file):
        with gzip.open(bpe_file, "rt", encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        pairs = [tuple(line.split()) for line in lines[1 : MERGE_COUNT + 1]]
        self.char_of, order = byte_characters()
        singles = [self.char_of[b] for b in order]
        tokens = singles + [t + "</w>" for t in singles] + ["".join(p) for p in pairs] + [SOT_TEXT, EOT_TEXT]
        self.id_of = {token: i for i, token in enumerate(tokens)}
        self.rank_of = {pair: i for i, pair in enumerate(pairs)}
        self.sot = self.id_of[SOT_TEXT]
        self.eot = self.id_of[EOT_TEXT]

    def merge(self, symbols):
        while len(symbols) > 1:
            ranked = [(self.rank_of[p], p) for p in zip(symbols, symbols[1:]) if p in self.rank_of]
            if not ranked:
                break
            first, second = min(ranked)[1]
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == first and symbols[i + 1] == second:
                    out.append(first + second)
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            symbols = out
        return symbols

    def ids(self, text):
        text = html.unescape(html.unescape(text)).strip()
        text = re.sub(r"\s+", " ", text).strip().lower()
        out = []
        for piece in PIECE_PATTERN.findall(text):
            if piece in (SOT_TEXT, EOT_TEXT):
                out.append(self.id_of[piece])
                continue
            symbols = [self.char_of[b] for b in piece.encode("utf-8")]
            symbols[-1] += "</w>"
            out.extend(self.id_of[t] for t in self.merge(symbols))
        return out

    def row(self, text, context_length):
        tokens = [self.sot] + self.ids(text) + [self.eot]
        if len(tokens) > context_length:
            tokens = tokens[:context_length]
            tokens[-1] = self.eot
        return tokens + [0] * (context_length - len(tokens))


def main():
    request = json.load(sys.stdin)
    reference = Reference(request["bpe_file"])
    rows = [reference.row(text, request["context_length"]) for text in request["texts"]]
    json.dump({"tokens": rows}, sys.stdout)


if __name__ == "__main__":
    main()
