// Shared by the real-CLIP tests: the PyTorch reference's fixtures (random tiny CLIPs saved in both
// namings and three dtypes, with the reference's outputs) and CLIP's BPE vocabulary file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

let made: string | null = null;
/** Runs test/clip/reference/make_fixtures.py once per process; returns its output folder. */
export function clipFixtures(): string {
  if (made) return made;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-clipref-'));
  execFileSync('/usr/bin/python3', [path.join(REPO, 'test/clip/reference/make_fixtures.py'), out], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  made = out;
  return out;
}

/**
 * OpenCLIP's bpe_simple_vocab_16e6.txt.gz. The project does not ship it; the tests read it from the
 * shared folder beside the checkout (or CLIPSWEEP_CLIP_VOCAB), and fail saying so when it is absent.
 */
export function clipVocabFile(): string {
  const candidates = [
    process.env.CLIPSWEEP_CLIP_VOCAB,
    path.join(REPO, '..', 'shared', 'data', 'clip', 'bpe_simple_vocab_16e6.txt.gz'),
    '/work/shared/data/clip/bpe_simple_vocab_16e6.txt.gz',
  ].filter((c): c is string => !!c);
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found)
    throw new Error(
      `CLIP's BPE vocabulary not found (looked at ${candidates.join(', ')}); set CLIPSWEEP_CLIP_VOCAB to bpe_simple_vocab_16e6.txt.gz`,
    );
  return found;
}

export interface RefInputs {
  pixels: number[];
  pixel_shape: [number, number, number, number];
  tokens: number[][];
}

export interface RefOutputs {
  image_embeds: number[][];
  text_embeds: number[][];
  logit_scale: number;
  logits_per_image: number[][];
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}
