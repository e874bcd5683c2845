// Decodes one image file as CLIP preprocesses it: RGB, the shorter side resized to the target,
// then a centre crop to a square (sharp's "cover" fit does both in one resample).
import { stat } from 'node:fs/promises';
import sharp from 'sharp';

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
      .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'cubic' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== 3) {
      return { ok: false, reason: `decoded to ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3` };
    }
    return { ok: true, pixels: data };
  } catch (err) {
    return { ok: false, reason: `cannot decode: ${(err as Error).message}` };
  }
}
