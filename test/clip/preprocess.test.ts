// CLIP's preprocessing: our decode + resize + crop + normalisation against Pillow's (the reference
// script test/clip/reference/preprocess_ref.py, as OpenCLIP and torchvision compute it).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import sharp from 'sharp';
import { decodeSquare } from '../../src/trainer/data/decode.js';
import { CLIP_MEAN, CLIP_STD } from '../../src/clip/arch.js';
import { tempDir } from '../helpers.js';
import { REPO } from './fixtures.js';

let dir = '';
const images: string[] = [];

/** Smooth colour waves plus a sharp edge, so both interpolation and placement errors show. */
function pattern(w: number, h: number): Buffer {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++)
        px[(y * w + x) * 3 + c] =
          x > w / 3 && y < h / 2
            ? 250 - 40 * c
            : Math.floor(127.5 + 127.5 * Math.sin(x * (c + 1) * 0.05 + y * 0.07 * (3 - c)));
  return px;
}

before(async () => {
  dir = tempDir('clipsweep-preprocess-');
  const sizes: [number, number, string][] = [
    [640, 480, 'png'],
    [480, 640, 'png'],
    [300, 201, 'png'],
    [20, 30, 'png'],
    [225, 224, 'png'],
    [224, 224, 'png'],
    [500, 375, 'jpg'],
  ];
  for (const [w, h, ext] of sizes) {
    const file = path.join(dir, `${w}x${h}.${ext}`);
    const img = sharp(pattern(w, h), { raw: { width: w, height: h, channels: 3 } });
    await (ext === 'jpg' ? img.jpeg({ quality: 90 }) : img.png()).toFile(file);
    images.push(file);
  }
  const grey = path.join(dir, 'grey.png');
  await sharp(pattern(90, 60), { raw: { width: 90, height: 60, channels: 3 } })
    .greyscale()
    .png()
    .toFile(grey);
  images.push(grey);
});

for (const size of [224, 32]) {
  test(`decoded pixels match Pillow's bicubic resize, centre crop and CLIP normalisation at ${size} px`, async () => {
    const out = execFileSync(
      '/usr/bin/python3',
      [path.join(REPO, 'test/clip/reference/preprocess_ref.py'), '--size', String(size), ...images],
      { maxBuffer: 1 << 30 },
    );
    const ref = JSON.parse(out.toString()) as { shape: number[]; pixels: number[] };
    assert.deepEqual(ref.shape, [images.length, 3, size, size]);
    for (const [i, file] of images.entries()) {
      const r = await decodeSquare(file, size);
      assert.ok(r.ok, file);
      let max = 0;
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < size; y++)
          for (let x = 0; x < size; x++) {
            const ours = (r.pixels[(y * size + x) * 3 + c]! / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
            const theirs = ref.pixels[((i * 3 + c) * size + y) * size + x]!;
            max = Math.max(max, Math.abs(ours - theirs));
          }
      // Only float rounding may differ: one 8-bit level is 0.015 in these units.
      assert.ok(max < 1e-5, `${path.basename(file)} at ${size} px: max difference ${max}`);
    }
  });
}
