// Finds and parses the COCO captions layout: annotations/captions_<split>*.json and the image
// folder each one refers to.
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from './errors.js';

export type SplitName = 'train' | 'val';

export interface CocoImage {
  id: number;
  fileName: string;
}

export interface CocoSplitFiles {
  annotationsFile: string;
  imageDir: string;
}

export interface CocoCaptions {
  /** Images that have at least one caption, sorted by id (the deterministic selection order). */
  images: CocoImage[];
  captionsByImage: Map<number, string[]>;
  /** Entries of the JSON that could not be used. */
  problems: { path: string; reason: string }[];
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** annotations/captions_<split>2017.json, else captions_<split>.json, else the newest captions_<split><year>.json. */
export async function findSplitFiles(root: string, split: SplitName): Promise<CocoSplitFiles> {
  const annotationsDir = join(root, 'annotations');
  if (!isDir(annotationsDir)) {
    throw new DatasetError(
      'DATASET_LAYOUT',
      `dataset ${root}: no annotations/ folder (expected annotations/captions_${split}2017.json or captions_${split}.json)`,
    );
  }
  const names = (await readdir(annotationsDir)).filter((n) => new RegExp(`^captions_${split}\\d*\\.json$`).test(n));
  const preferred = [`captions_${split}2017.json`, `captions_${split}.json`];
  const name = preferred.find((n) => names.includes(n)) ?? names.sort().reverse()[0];
  if (name === undefined) {
    throw new DatasetError(
      'DATASET_LAYOUT',
      `dataset ${root}: no annotations/captions_${split}*.json (looked for ${preferred.join(', ')})`,
    );
  }
  const stem = name.slice('captions_'.length, -'.json'.length); // train2017, val, ...
  const candidates = [
    join(root, stem),
    join(root, 'images', stem),
    join(root, split),
    join(root, 'images', split),
    join(root, 'images'),
    root,
  ];
  const imageDir = candidates.find(isDir) ?? root;
  return { annotationsFile: join(annotationsDir, name), imageDir };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

export async function readCaptions(annotationsFile: string): Promise<CocoCaptions> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(annotationsFile, 'utf8'));
  } catch (err) {
    throw new DatasetError(
      'DATASET_ANNOTATIONS',
      `${annotationsFile}: cannot read as JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (!isRecord(json) || !Array.isArray(json.images) || !Array.isArray(json.annotations)) {
    throw new DatasetError(
      'DATASET_ANNOTATIONS',
      `${annotationsFile}: expected an object with "images" and "annotations" arrays`,
    );
  }
  const problems: CocoCaptions['problems'] = [];
  const captionsByImage = new Map<number, string[]>();
  json.annotations.forEach((a: unknown, i: number) => {
    if (!isRecord(a) || typeof a.image_id !== 'number' || typeof a.caption !== 'string') {
      problems.push({
        path: `${annotationsFile}#annotations[${i}]`,
        reason: 'expected {image_id: number, caption: string}',
      });
      return;
    }
    const list = captionsByImage.get(a.image_id) ?? [];
    list.push(a.caption.trim());
    captionsByImage.set(a.image_id, list);
  });
  const images: CocoImage[] = [];
  const seen = new Set<number>();
  json.images.forEach((im: unknown, i: number) => {
    if (!isRecord(im) || typeof im.id !== 'number' || typeof im.file_name !== 'string') {
      problems.push({ path: `${annotationsFile}#images[${i}]`, reason: 'expected {id: number, file_name: string}' });
      return;
    }
    if (seen.has(im.id)) {
      problems.push({ path: `${annotationsFile}#images[${i}]`, reason: `duplicate image id ${im.id}` });
      return;
    }
    seen.add(im.id);
    if (captionsByImage.has(im.id)) images.push({ id: im.id, fileName: im.file_name });
  });
  images.sort((x, y) => x.id - y.id);
  return { images, captionsByImage, problems };
}
