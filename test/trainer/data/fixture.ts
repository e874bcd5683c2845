// A small COCO-layout folder with real JPEG files, one corrupt file and one missing file.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/** 80x40: blue left quarter, green right quarter, centre square red on top and yellow below. */
export function knownImage(): Buffer {
  const w = 80;
  const h = 40;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const rgb = x < 20 ? [0, 0, 255] : x >= 60 ? [0, 255, 0] : y < 20 ? [255, 0, 0] : [255, 255, 0];
      px.set(rgb, (y * w + x) * 3);
    }
  }
  return px;
}

export interface CocoFixture {
  root: string;
  trainImages: number; // listed in the train annotations
  goodTrainImages: number;
  valImages: number;
}

export async function makeCocoFixture(): Promise<CocoFixture> {
  const root = await mkdtemp(join(tmpdir(), 'clipsweep-coco-'));
  await mkdir(join(root, 'annotations'));
  await mkdir(join(root, 'train2017'));
  await mkdir(join(root, 'val2017'));
  const known = sharp(knownImage(), { raw: { width: 80, height: 40, channels: 3 } });
  const jpeg = (w: number, h: number, rgb: [number, number, number]) =>
    sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
      .jpeg({ quality: 95 })
      .toBuffer();
  const name = (id: number) => `${String(id).padStart(12, '0')}.jpg`;
  // train: ids 1..6; 3 is corrupt, 5 is missing; 6 is greyscale
  await writeFile(join(root, 'train2017', name(1)), await known.clone().jpeg({ quality: 95 }).toBuffer());
  await writeFile(join(root, 'train2017', name(2)), await jpeg(50, 70, [10, 200, 30]));
  await writeFile(join(root, 'train2017', name(3)), Buffer.from('this is not a jpeg, only its name says so'));
  await writeFile(join(root, 'train2017', name(4)), await jpeg(64, 64, [250, 250, 250]));
  await writeFile(
    join(root, 'train2017', name(6)),
    await sharp({ create: { width: 30, height: 30, channels: 3, background: '#808080' } })
      .greyscale()
      .jpeg()
      .toBuffer(),
  );
  await writeFile(join(root, 'val2017', name(101)), await jpeg(40, 40, [0, 0, 200]));
  await writeFile(
    join(root, 'val2017', name(102)),
    await known
      .clone()
      .png()
      .toBuffer()
      .then((b) => sharp(b).jpeg().toBuffer()),
  );
  const images = (ids: number[]) => ids.map((id) => ({ id, file_name: name(id), width: 0, height: 0 }));
  let annId = 1;
  const caps = (ids: number[]) =>
    ids.flatMap((id) =>
      [`Image ${id}, first caption.`, `another caption of image ${id}`].map((caption) => ({
        id: annId++,
        image_id: id,
        caption,
      })),
    );
  // Listed out of id order on purpose: the loader sorts by id.
  await writeFile(
    join(root, 'annotations', 'captions_train2017.json'),
    JSON.stringify({ images: images([6, 5, 4, 3, 2, 1]), annotations: caps([1, 2, 3, 4, 5, 6]) }),
  );
  await writeFile(
    join(root, 'annotations', 'captions_val2017.json'),
    JSON.stringify({ images: images([101, 102]), annotations: caps([102, 101]) }),
  );
  return { root, trainImages: 6, goodTrainImages: 4, valImages: 2 };
}
