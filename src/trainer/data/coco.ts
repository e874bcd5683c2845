// Loads one split of a COCO-layout data set as 8-bit pixels and captions; bad images are
// reported and skipped along with their captions; decoded pixels are cached on disk.
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { findSplitFiles, readCaptions, type SplitName } from './coco-layout.js';
import { decodeSquare } from './decode.js';
import { mapLimit } from './pool.js';

export interface RawSplit {
  /** count * imageSize * imageSize * 3 bytes, NHWC. */
  pixels: Uint8Array;
  imageSize: number;
  count: number;
  imageIds: number[];
  captions: string[];
  captionImage: Int32Array;
  problems: { path: string; reason: string }[];
}

export interface ReadSplitOptions {
  imageSize: number;
  /** At most this many readable images: the first ones by image id. */
  maxImages?: number | undefined;
  /** Where decoded pixels may be cached (none: decode every time). */
  decodedCacheDir?: string;
}

interface CacheMeta {
  imageIds: number[];
  problems: { path: string; reason: string }[];
}

/** Decodes images in id order until `maxImages` have been read, skipping (and reporting) bad ones. */
async function decodeImages(
  images: { id: number; path: string }[],
  size: number,
  maxImages: number,
): Promise<{ ids: number[]; pixels: Uint8Array; problems: CacheMeta['problems'] }> {
  const want = Math.min(maxImages, images.length);
  const bytes = size * size * 3;
  const pixels = new Uint8Array(want * bytes);
  const ids: number[] = [];
  const problems: CacheMeta['problems'] = [];
  let next = 0;
  while (ids.length < want && next < images.length) {
    // Decode just what is still missing, so a cap of 100 over 118k images reads about 100 files.
    const chunk = images.slice(next, next + Math.max(8, want - ids.length));
    next += chunk.length;
    const results = await mapLimit(chunk, 8, (im) => decodeSquare(im.path, size));
    for (let i = 0; i < results.length && ids.length < want; i++) {
      const r = results[i];
      const im = chunk[i] as { id: number; path: string };
      if (r === undefined) continue;
      if (!r.ok) {
        problems.push({ path: im.path, reason: r.reason });
      } else {
        pixels.set(r.pixels, ids.length * bytes);
        ids.push(im.id);
      }
    }
  }
  return { ids, pixels: pixels.subarray(0, ids.length * bytes), problems };
}

export async function readCocoSplit(root: string, split: SplitName, options: ReadSplitOptions): Promise<RawSplit> {
  const { imageSize } = options;
  const files = await findSplitFiles(root, split);
  const parsed = await readCaptions(files.annotationsFile);
  const images = parsed.images.map((im) => ({ id: im.id, path: resolve(files.imageDir, im.fileName) }));
  const maxImages = options.maxImages ?? Number.POSITIVE_INFINITY;

  let meta: CacheMeta | undefined;
  let pixels: Uint8Array | undefined;
  let cacheBase: string | undefined;
  if (options.decodedCacheDir !== undefined) {
    const st = await stat(files.annotationsFile);
    const key = createHash('sha256')
      .update(
        JSON.stringify({
          v: 2,
          file: resolve(files.annotationsFile),
          imageDir: resolve(files.imageDir),
          mtime: st.mtimeMs,
          size: st.size,
          imageSize,
          maxImages: String(maxImages),
        }),
      )
      .digest('hex')
      .slice(0, 20);
    cacheBase = join(options.decodedCacheDir, `${split}-${imageSize}px-${key}`);
    try {
      const m = JSON.parse(await readFile(`${cacheBase}.json`, 'utf8')) as CacheMeta;
      const p = new Uint8Array(await readFile(`${cacheBase}.u8`));
      if (p.length === m.imageIds.length * imageSize * imageSize * 3) [meta, pixels] = [m, p];
    } catch {
      // no cache yet, or a damaged one: decode again
    }
  }
  if (meta === undefined || pixels === undefined) {
    const decoded = await decodeImages(images, imageSize, maxImages);
    meta = { imageIds: decoded.ids, problems: decoded.problems };
    pixels = decoded.pixels;
    if (cacheBase !== undefined && options.decodedCacheDir !== undefined) {
      await mkdir(options.decodedCacheDir, { recursive: true });
      await writeFileAtomic(`${cacheBase}.u8`, pixels); // pixels first: the .json marks a complete entry
      await writeFileAtomic(`${cacheBase}.json`, JSON.stringify(meta));
    }
  }

  const captions: string[] = [];
  const captionImage: number[] = [];
  meta.imageIds.forEach((id, index) => {
    for (const caption of parsed.captionsByImage.get(id) ?? []) {
      captions.push(caption);
      captionImage.push(index);
    }
  });
  return {
    pixels,
    imageSize,
    count: meta.imageIds.length,
    imageIds: meta.imageIds,
    captions,
    captionImage: Int32Array.from(captionImage),
    problems: [...parsed.problems, ...meta.problems],
  };
}
