// Decodes one image file as CLIP preprocesses it: sharp decodes to 8-bit sRGB, then the shorter
// side is resized to the target and the centre cropped to a square as Pillow and torchvision do it
// (resize.ts says why that is not sharp's own resize).
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { resizeShortSideAndCrop } from './resize.js';

export type DecodeResult = { ok: true; pixels: Buffer } | { ok: false; reason: string };

export async function decodeSquare(path: string, size: number): Promise<DecodeResult> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return { ok: false, reason: 'not a file' };
  } catch {
    return { ok: false, reason: 'missing file' };
  }
  try {
    // failOn 'warning' (sharp's default, spelled out): a truncated or damaged file is rejected, not half-read.
    const { data, info } = await sharp(path, { failOn: 'warning' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) return { ok: false, reason: `decoded to ${info.channels} channels, expected 3` };
    const px = resizeShortSideAndCrop(
      new Uint8Array(data.buffer, data.byteOffset, data.length),
      info.width,
      info.height,
      size,
    );
    return { ok: true, pixels: Buffer.from(px.buffer, px.byteOffset, px.length) };
  } catch (err) {
    return { ok: false, reason: `cannot decode: ${(err as Error).message}` };
  }
}
