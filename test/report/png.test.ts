// PNGs decoded with sharp: 1400x800, not blank, and the configurations' colours in the pixels.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { PALETTE } from '../../src/report/configs.js';
import { buildReport } from '../../src/report/index.js';
import { mainSweep, tempDir } from './fixtures.js';

let outDir: string;
let files: string[];

before(async () => {
  const result = await buildReport({
    dbFile: mainSweep(join(tempDir(), 'png.db')),
    outDir: join(tempDir(), 'out'),
    formats: ['png'],
  });
  outDir = result.outDir;
  files = result.files.map((f) => f.slice(outDir.length + 1));
});

async function pixels(file: string) {
  const { data, info } = await sharp(join(outDir, file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, info };
}

/** How many pixels are within `tol` of `hex` on every channel. */
function count(data: Buffer, hex: string, tol = 8): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < data.length; i += 3) {
    if (Math.abs(data[i]! - r!) <= tol && Math.abs(data[i + 1]! - g!) <= tol && Math.abs(data[i + 2]! - b!) <= tol) n++;
  }
  return n;
}

test('every chart of the issue is written', () => {
  assert.deepEqual(files.sort(), [
    'gap.png',
    'heatmaps.png',
    'lr.png',
    'overfitting.png',
    'retrieval.png',
    'scale-by-batch.png',
    'scale-by-lr.png',
    'scale.png',
  ]);
});

test('each PNG is 1400x800 on white and not blank', async () => {
  for (const file of files) {
    const { data, info } = await pixels(file);
    assert.equal(info.width, 1400, file);
    assert.equal(info.height, 800, file);
    const white = count(data, '#ffffff', 2);
    const total = info.width * info.height;
    assert.ok(white > total * 0.3, `${file}: background is not white`);
    assert.ok(total - white > 5000, `${file}: nearly blank (${total - white} non-white pixels)`);
  }
});

test("the configurations' colours are in the pixels, one colour per configuration", async () => {
  // Configurations in sweep order: overfit, rebound, clean, <script>; all four draw train loss.
  const overfit = (await pixels('overfitting.png')).data;
  for (const color of PALETTE.slice(0, 4)) assert.ok(count(overfit, color) > 100, `overfitting.png lacks ${color}`);
  // The onset shading (overfit only) is there too: orange at 22 % on white.
  assert.ok(count(overfit, '#f9e8c7', 10) > 5000, 'overfitting.png has no onset shading');
  const scale = (await pixels('scale.png')).data;
  for (const color of PALETTE.slice(0, 2)) assert.ok(count(scale, color) > 300, `scale.png lacks ${color}`);
  const retrieval = (await pixels('retrieval.png')).data;
  for (const color of PALETTE.slice(0, 3)) assert.ok(count(retrieval, color) > 1000, `retrieval.png lacks ${color}`);
});
