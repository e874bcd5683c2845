// Writes the embedded data set in the COCO captions layout, once per image size and split sizes,
// so that it is read back by the same loader as real COCO.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { publishDir, tempSibling } from '../atomic.js';
import { mapLimit } from '../pool.js';
import { captionsFor } from './captions.js';
import { renderScene } from './render.js';
import { drawScenes, type Domain } from './scene.js';

/**
 * Bump when the generator's output changes, so that old caches are not reused.
 * 4: fine-tuning captions name every attribute (the images are version 3's).
 */
export const EMBEDDED_VERSION = 4;

/** Images per split. */
export interface EmbeddedSizes {
  pretrainTrain: number;
  pretrainVal: number;
  finetuneTrain: number;
  finetuneVal: number;
}

/** Several thousand pretraining images; a fine-tuning set small enough to overfit in a few hundred steps. */
export const DEFAULT_EMBEDDED_SIZES: EmbeddedSizes = {
  pretrainTrain: 4000,
  pretrainVal: 400,
  finetuneTrain: 320,
  finetuneVal: 160,
};

export function embeddedDirName(imageSize: number, s: EmbeddedSizes): string {
  return `embedded-v${EMBEDDED_VERSION}-${imageSize}px-p${s.pretrainTrain}-${s.pretrainVal}-f${s.finetuneTrain}-${s.finetuneVal}`;
}

const SPLITS: readonly ('train' | 'val')[] = ['train', 'val'];

async function writeDomain(
  dir: string,
  domain: Domain,
  counts: Record<'train' | 'val', number>,
  imageSize: number,
): Promise<void> {
  let nextImageId = 1;
  let nextCaptionId = 1;
  await mkdir(join(dir, 'annotations'), { recursive: true });
  for (const split of SPLITS) {
    const scenes = drawScenes(domain, split, counts[split], nextImageId);
    nextImageId += scenes.length;
    await mkdir(join(dir, split), { recursive: true });
    const images = scenes.map((s) => ({
      id: s.imageId,
      file_name: `${String(s.imageId).padStart(12, '0')}.png`,
      width: imageSize,
      height: imageSize,
      // Extra fields (COCO readers ignore them): what the image shows, for tests and analysis.
      family: s.family,
      changed: s.changed,
      attributes: s.attributes,
      second: s.second,
    }));
    const annotations = scenes.flatMap((s) =>
      captionsFor(s, domain, split).map((caption) => ({ id: nextCaptionId++, image_id: s.imageId, caption })),
    );
    await mapLimit(scenes, 8, async (scene, i) => {
      const pixels = renderScene(scene, imageSize);
      await sharp(pixels, { raw: { width: imageSize, height: imageSize, channels: 3 } })
        .png({ compressionLevel: 6 })
        .toFile(join(dir, split, (images[i] as { file_name: string }).file_name));
    });
    const info = {
      description: `clipsweep embedded shapes, ${domain} domain, ${split} split`,
      version: String(EMBEDDED_VERSION),
    };
    await writeFile(join(dir, 'annotations', `captions_${split}.json`), JSON.stringify({ info, images, annotations }));
  }
}

/** Temporary folders left by a process that died while generating (older than an hour). */
async function removeStaleTemps(cacheDir: string, name: string): Promise<void> {
  for (const entry of await readdir(cacheDir)) {
    if (!entry.startsWith(`.tmp-${name}-`)) continue;
    const path = join(cacheDir, entry);
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > 3600_000) await rm(path, { recursive: true, force: true });
  }
}

/**
 * The folder holding both domains (pretrain/ and finetune/, each in the COCO layout), generated
 * under cacheDir on first use. Safe when several processes ask at once: each builds in a temporary
 * folder and renames it into place; the first rename wins.
 */
export async function ensureEmbedded(
  cacheDir: string,
  imageSize: number,
  sizes: EmbeddedSizes = DEFAULT_EMBEDDED_SIZES,
): Promise<string> {
  const root = join(cacheDir, embeddedDirName(imageSize, sizes));
  if (existsSync(join(root, 'manifest.json'))) return root;
  await mkdir(cacheDir, { recursive: true });
  await removeStaleTemps(cacheDir, embeddedDirName(imageSize, sizes));
  const tmp = tempSibling(root);
  try {
    await writeDomain(
      join(tmp, 'pretrain'),
      'pretrain',
      { train: sizes.pretrainTrain, val: sizes.pretrainVal },
      imageSize,
    );
    await writeDomain(
      join(tmp, 'finetune'),
      'finetune',
      { train: sizes.finetuneTrain, val: sizes.finetuneVal },
      imageSize,
    );
    // Written last: its presence means the folder is complete.
    await writeFile(
      join(tmp, 'manifest.json'),
      JSON.stringify({ generator: 'clipsweep embedded shapes', version: EMBEDDED_VERSION, imageSize, sizes }, null, 2),
    );
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await publishDir(tmp, root);
  return root;
}
