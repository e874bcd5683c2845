import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { readCocoSplit } from '../../../src/trainer/data/coco.js';
import { decodeSquare } from '../../../src/trainer/data/decode.js';
import { DatasetError, loadDataset } from '../../../src/trainer/data/index.js';
import { knownImage, makeCocoFixture, type CocoFixture } from './fixture.js';

/** RGB of pixel (x, y) of a size x size NHWC image at `offset` floats. */
function pixel(images: Float32Array | Uint8Array, size: number, x: number, y: number, offset = 0): number[] {
  const o = offset + (y * size + x) * 3;
  return [images[o] as number, images[o + 1] as number, images[o + 2] as number];
}

describe('COCO loader', () => {
  let fx: CocoFixture;
  let cacheDir: string;
  before(async () => {
    fx = await makeCocoFixture();
    cacheDir = await mkdtemp(join(tmpdir(), 'clipsweep-cache-'));
  });
  after(async () => {
    await rm(fx.root, { recursive: true, force: true });
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('loads the readable images and reports the corrupt and the missing one', async () => {
    const b = await loadDataset({ dataset: fx.root, imageSize: 16, contextLength: 12, cacheDir });
    assert.equal(b.train.count, fx.goodTrainImages);
    assert.deepEqual(b.train.imageIds, [1, 2, 4, 6]);
    assert.equal(b.val.count, fx.valImages);
    assert.equal(b.retainVal, undefined);
    assert.equal(b.problems.length, 2);
    const reasons = Object.fromEntries(b.problems.map((p) => [p.path.slice(-16), p.reason]));
    assert.equal(reasons['000000000005.jpg'], 'missing file');
    assert.match(reasons['000000000003.jpg'] ?? '', /cannot decode/);
    // Captions of skipped images are dropped; the others point at their image's index.
    assert.equal(b.train.captions.length, 8);
    assert.ok(b.train.captions.every((c) => !/ (3|5)\b/.test(c)));
    b.train.captions.forEach((c, i) =>
      assert.match(c, new RegExp(` ${b.train.imageIds[b.train.captionImage[i] as number]}\\b`)),
    );
    assert.equal(b.train.images.length, 4 * 16 * 16 * 3);
    assert.equal(b.train.tokens.length, 8 * 12);
    // The vocabulary comes from the training captions: "image" is known, words only in val are not.
    assert.ok(b.tokenizer.vocab.includes('image'));
    assert.match(b.description, /2 problem/);
  });

  it('decodes to [0, 1], centre-crops and keeps orientation (known image)', async () => {
    const b = await loadDataset({ dataset: fx.root, imageSize: 8, contextLength: 8, cacheDir });
    assert.ok(b.train.images.every((v) => v >= 0 && v <= 1));
    // Image 1 is the known 80x40 picture: the centre crop keeps only the red-over-yellow square.
    for (let x = 1; x < 7; x++) {
      const top = pixel(b.train.images, 8, x, 1);
      const bottom = pixel(b.train.images, 8, x, 6);
      assert.ok(top[0]! > 0.85 && top[1]! < 0.15 && top[2]! < 0.15, `top ${x}: ${top}`);
      assert.ok(bottom[0]! > 0.85 && bottom[1]! > 0.85 && bottom[2]! < 0.15, `bottom ${x}: ${bottom}`);
    }
    // Image 6 is a greyscale JPEG: three equal channels.
    const grey = pixel(b.train.images, 8, 4, 4, 3 * 8 * 8 * 3);
    assert.ok(Math.abs(grey[0]! - 0.5) < 0.03 && grey[0] === grey[1] && grey[1] === grey[2], `grey ${grey}`);
  });

  it('decodes a lossless image exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clipsweep-png-'));
    const path = join(dir, 'known.png');
    await sharp(knownImage(), { raw: { width: 80, height: 40, channels: 3 } })
      .png()
      .toFile(path);
    const same = await decodeSquare(path, 40); // no resampling: the crop is exact
    assert.ok(same.ok);
    if (same.ok) {
      assert.equal(same.pixels.length, 40 * 40 * 3);
      assert.deepEqual(pixel(same.pixels, 40, 0, 0), [255, 0, 0]);
      assert.deepEqual(pixel(same.pixels, 40, 39, 19), [255, 0, 0]);
      assert.deepEqual(pixel(same.pixels, 40, 0, 20), [255, 255, 0]);
      assert.deepEqual(pixel(same.pixels, 40, 39, 39), [255, 255, 0]);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('caps images deterministically (first by id) and skips bad ones within the cap', async () => {
    const raw = await readCocoSplit(fx.root, 'train', { imageSize: 8, maxImages: 3 });
    assert.deepEqual(raw.imageIds, [1, 2, 4]);
    assert.equal(raw.problems.length, 1); // image 3 was tried; image 5 was never needed
    const two = await readCocoSplit(fx.root, 'train', { imageSize: 8, maxImages: 2 });
    assert.deepEqual(two.imageIds, [1, 2]);
    assert.equal(two.problems.length, 0);
  });

  it('reuses decoded pixels from its cache, problems included', async () => {
    const decodedCacheDir = join(cacheDir, 'cache-test');
    const first = await readCocoSplit(fx.root, 'train', { imageSize: 8, decodedCacheDir });
    const second = await readCocoSplit(fx.root, 'train', { imageSize: 8, decodedCacheDir });
    assert.deepEqual(second.imageIds, first.imageIds);
    assert.deepEqual(second.problems, first.problems);
    assert.deepEqual(Buffer.from(second.pixels), Buffer.from(first.pixels));
    assert.deepEqual(second.captions, first.captions);
  });

  it('reuses a given vocabulary', async () => {
    const vocab = ['<pad>', '<sot>', '<eot>', '<unk>', 'image', 'caption'];
    const b = await loadDataset({ dataset: fx.root, imageSize: 8, contextLength: 8, cacheDir, vocab });
    assert.deepEqual(b.tokenizer.vocab, vocab);
    assert.equal(b.train.tokens[1], 4); // "image 1, first caption." -> image
  });

  it('fails with a DatasetError for a missing folder or a folder without annotations', async () => {
    await assert.rejects(
      loadDataset({ dataset: join(fx.root, 'nope'), imageSize: 8, contextLength: 8, cacheDir }),
      (e: unknown) => e instanceof DatasetError && e.code === 'DATASET_NOT_FOUND',
    );
    await assert.rejects(
      loadDataset({ dataset: join(fx.root, 'train2017'), imageSize: 8, contextLength: 8, cacheDir }),
      (e: unknown) => e instanceof DatasetError && e.code === 'DATASET_LAYOUT',
    );
    await assert.rejects(loadDataset({ dataset: fx.root, imageSize: 0, contextLength: 8, cacheDir }), /imageSize/);
  });

  it('reads captions_{train,val}.json with train/ and val/ folders, reporting malformed entries', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clipsweep-alt-'));
    await mkdir(join(dir, 'annotations'));
    for (const split of ['train', 'val']) {
      await mkdir(join(dir, split));
      await sharp({ create: { width: 20, height: 10, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
        .png()
        .toFile(join(dir, split, 'a.png'));
      const json = {
        images: [
          { id: 7, file_name: 'a.png' },
          { id: 'eight', file_name: 'b.png' },
        ],
        annotations: [
          { id: 1, image_id: 7, caption: 'a red thing' },
          { id: 2, image_id: 7 },
        ],
      };
      await writeFile(join(dir, 'annotations', `captions_${split}.json`), JSON.stringify(json));
    }
    const b = await loadDataset({ dataset: dir, imageSize: 4, contextLength: 6, cacheDir });
    assert.equal(b.train.count, 1);
    assert.deepEqual(b.train.captions, ['a red thing']);
    assert.equal(b.problems.length, 4); // per split: one bad image entry, one bad annotation
    assert.ok(b.problems.some((p) => p.path.endsWith('captions_train.json#images[1]')));
    assert.ok(b.problems.some((p) => p.path.endsWith('captions_val.json#annotations[1]')));
    await rm(dir, { recursive: true, force: true });
  });
});
