import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { publishDir, tempSibling } from '../../../src/trainer/data/atomic.js';
import { captionsFor, embeddedVocab } from '../../../src/trainer/data/embedded/captions.js';
import { embeddedDirName, ensureEmbedded, type EmbeddedSizes } from '../../../src/trainer/data/embedded/generate.js';
import { renderScene } from '../../../src/trainer/data/embedded/render.js';
import { drawScenes, FRAMES, type Attributes } from '../../../src/trainer/data/embedded/scene.js';
import { createTokenizer, loadDataset } from '../../../src/trainer/data/index.js';

const execFileP = promisify(execFile);
const SMALL: EmbeddedSizes = { pretrainTrain: 48, pretrainVal: 16, finetuneTrain: 24, finetuneVal: 12 };

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

interface CocoJson {
  images: {
    id: number;
    file_name: string;
    width: number;
    height: number;
    family: number;
    changed: keyof Attributes | null;
    attributes: Attributes;
  }[];
  annotations: { id: number; image_id: number; caption: string }[];
}

describe('embedded data set', () => {
  const dirs: string[] = [];
  const tmp = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'clipsweep-embedded-'));
    dirs.push(d);
    return d;
  };
  let root: string;
  before(async () => {
    root = await ensureEmbedded(await tmp(), 16, SMALL);
  });
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('is the same bytes when generated twice', async () => {
    const again = await ensureEmbedded(await tmp(), 16, SMALL);
    const files = await listFiles(root);
    assert.deepEqual(await listFiles(again), files);
    assert.ok(files.length > 100);
    for (const f of files) assert.ok((await readFile(join(root, f))).equals(await readFile(join(again, f))), f);
  });

  it('survives two processes generating at once (same folder, no leftovers)', async () => {
    const dir = await tmp();
    const generator = new URL('../../../src/trainer/data/embedded/generate.js', import.meta.url).href;
    const script = `const { ensureEmbedded } = await import(${JSON.stringify(generator)});
      process.stdout.write(await ensureEmbedded(process.argv[1], 12, JSON.parse(process.argv[2])));`;
    const child = () => execFileP(process.execPath, ['--input-type=module', '-e', script, dir, JSON.stringify(SMALL)]);
    const [a, b] = await Promise.all([child(), child()]);
    assert.equal(a.stdout, b.stdout);
    assert.deepEqual(await readdir(dir), [embeddedDirName(12, SMALL)]);
    assert.equal((await listFiles(a.stdout)).length, (await listFiles(root)).length);
  });

  it('writes a valid COCO captions layout with real PNG files', async () => {
    for (const domain of ['pretrain', 'finetune']) {
      for (const split of ['train', 'val'] as const) {
        const json = JSON.parse(
          await readFile(join(root, domain, 'annotations', `captions_${split}.json`), 'utf8'),
        ) as CocoJson;
        const expected = SMALL[`${domain}${split === 'train' ? 'Train' : 'Val'}` as keyof EmbeddedSizes];
        assert.equal(json.images.length, expected);
        assert.equal(new Set(json.images.map((i) => i.id)).size, expected);
        assert.equal(json.annotations.length, expected * 5);
        assert.equal(new Set(json.annotations.map((a) => a.id)).size, json.annotations.length);
        const ids = new Set(json.images.map((i) => i.id));
        assert.ok(json.annotations.every((a) => ids.has(a.image_id) && a.caption.length > 0));
        const first = json.images[0]!;
        const meta = await sharp(join(root, domain, split, first.file_name)).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 16, 16, 3]);
      }
    }
  });

  it('has hard negatives: family members differ from their base in exactly one attribute', async () => {
    for (const domain of ['pretrain', 'finetune'] as const) {
      const scenes = drawScenes(domain, 'val', 40, 1);
      let pairs = 0;
      for (const s of scenes) {
        const base = scenes.find((b) => b.family === s.family && b.changed === null)!;
        const diff = (Object.keys(base.attributes) as (keyof Attributes)[]).filter(
          (k) => base.attributes[k] !== s.attributes[k],
        );
        assert.deepEqual(diff, s.changed === null ? [] : [s.changed]);
        assert.deepEqual(s.second, base.second);
        if (diff.length === 1) pairs++;
      }
      assert.equal(pairs, 30); // 10 families of a base and 3 variants
    }
  });

  it('shifts the fine-tuning domain (shapes, backgrounds, styles, phrasing) away from pretraining', () => {
    const seen = (d: 'pretrain' | 'finetune', key: 'background' | 'shape' | 'style') =>
      new Set(drawScenes(d, 'train', 200, 1).map((s) => s.attributes[key]));
    for (const key of ['background', 'shape', 'style'] as const) {
      const pre = seen('pretrain', key);
      assert.ok(
        [...seen('finetune', key)].some((v) => !pre.has(v)),
        key,
      );
    }
    assert.deepEqual([...seen('pretrain', 'shape')], ['circle']);
    assert.ok([...seen('finetune', 'background')].every((b) => !seen('pretrain', 'background').has(b)));
    // Pretraining says each value one way; fine-tuning uses synonyms ("disc", "turquoise", ...).
    const words = (d: 'pretrain' | 'finetune') =>
      new Set(drawScenes(d, 'train', 200, 1).flatMap((s) => captionsFor(s, d, 'train').join(' ').split(' ')));
    const pre = words('pretrain');
    assert.ok(!pre.has('disc') && !pre.has('little') && !pre.has('middle'), [...pre].join(' '));
    assert.ok(['little', 'big', 'middle'].some((w) => words('finetune').has(w)));
    assert.ok(drawScenes('finetune', 'train', 200, 1).some((s) => s.second !== null));
    assert.ok(drawScenes('pretrain', 'train', 200, 1).every((s) => s.second === null));
  });

  it('captions both domains without <unk> using the shared embedded vocabulary', () => {
    const tok = createTokenizer(embeddedVocab(), 40);
    for (const domain of ['pretrain', 'finetune'] as const) {
      for (const s of drawScenes(domain, 'train', 400, 1)) {
        const caps = captionsFor(s, domain, 'train');
        assert.equal(caps.length, 5);
        assert.equal(new Set(caps).size, 5);
        for (const c of caps) assert.ok(!tok.encode(c).includes(tok.unkToken), c);
      }
    }
  });

  it("names every attribute in pretraining captions, within the tiny model's 16-token context", () => {
    const tok = createTokenizer(embeddedVocab(), 16);
    const frames = new Set<string>();
    for (const s of drawScenes('pretrain', 'val', 400, 1)) {
      const a = s.attributes;
      frames.add(a.frame);
      for (const c of captionsFor(s, 'pretrain', 'val')) {
        // One word per value in pretraining (the shortest synonym).
        for (const word of [a.size, a.color, a.shape, a.background]) assert.match(c, new RegExp(`\\b${word}\\b`), c);
        assert.match(c, a.frame === 'none' ? /^((?!frame).)*$/ : new RegExp(`\\b${a.frame} frame\\b`), c);
        const ids = Array.from(tok.encode(c));
        // <sot>, the words, <eot>: nothing cut off.
        assert.ok(ids.includes(tok.eotToken), `truncated: ${c}`);
      }
    }
    assert.deepEqual([...frames].sort(), [...FRAMES].sort(), 'every frame, and none, occurs');
    assert.ok(drawScenes('finetune', 'val', 200, 1).every((s) => s.attributes.frame === 'none'));
  });

  it('names every attribute in fine-tuning captions, position before background', () => {
    // The test's own synonyms (not captions.ts's tables), so that a template dropping one fails.
    const size = { small: /\b(small|little|tiny)\b/, large: /\b(large|big|huge)\b/ };
    const shape = {
      circle: /\b(circle|disc|round shape)\b/,
      square: /\b(square|box)\b/,
      triangle: /\btriang/,
      diamond: /\b(diamond|rhombus)\b/,
      star: /\bstar\b/,
      cross: /\b(cross|plus)\b/,
    };
    const background: Record<string, RegExp> = { striped: /stripe/, checkered: /checker/, dotted: /\bdot/ };
    const colourSynonyms: Record<string, string> = { purple: '(purple|violet)', cyan: '(cyan|turquoise)' };
    const side = /\b(left|right|top|bottom|upper|lower)\b/;
    for (const s of drawScenes('finetune', 'train', 200, 1)) {
      const a = s.attributes;
      const bg = background[a.background]!;
      const colour = new RegExp(`\\b${colourSynonyms[a.color] ?? a.color}\\b`);
      for (const c of captionsFor(s, 'finetune', 'train')) {
        const main = c.replace(/ (next to|with|and a small) .*$/, ''); // the second object, last
        assert.match(main, size[a.size], c);
        assert.match(main, shape[a.shape], c);
        assert.match(main, colour, c);
        assert.match(main, bg, c);
        if (a.style === 'outline') assert.match(main, /\b(outlined|hollow)\b/, c);
        assert.ok(main.search(side) < main.search(bg), `position first: ${c}`);
      }
    }
  });

  it('renders at any size, anti-aliased', () => {
    const [scene] = drawScenes('pretrain', 'train', 1, 1);
    for (const size of [5, 16, 33, 64]) {
      const px = renderScene(scene!, size);
      assert.equal(px.length, size * size * 3);
    }
    // Edge pixels take intermediate values: more distinct colours than background + object.
    const px = renderScene(scene!, 32);
    const colours = new Set<string>();
    for (let i = 0; i < px.length; i += 3) colours.add(`${px[i]},${px[i + 1]},${px[i + 2]}`);
    assert.ok(colours.size > 4, `${colours.size} colours`);
  });

  it('loads through loadDataset with retainVal, values in [0, 1], and caches the decoded pixels', async () => {
    const cacheDir = await tmp();
    const req = { dataset: 'embedded', imageSize: 16, contextLength: 16, cacheDir, embeddedSizes: SMALL };
    const b = await loadDataset(req);
    assert.equal(b.train.count, SMALL.finetuneTrain);
    assert.equal(b.val.count, SMALL.finetuneVal);
    assert.equal(b.retainVal?.count, SMALL.pretrainVal);
    assert.equal(b.train.images.length, b.train.count * 16 * 16 * 3);
    assert.equal(b.train.tokens.length, b.train.captions.length * 16);
    assert.equal(b.train.captionImage.length, b.train.count * 5);
    assert.ok(b.train.images.every((v) => v >= 0 && v <= 1));
    assert.ok(b.train.captionImage.every((i) => i >= 0 && i < b.train.count));
    assert.ok(!b.train.tokens.includes(b.tokenizer.unkToken));
    assert.deepEqual(b.problems, []);
    assert.deepEqual((await readdir(join(cacheDir, embeddedDirName(16, SMALL), 'decoded'))).sort(), [
      'finetune',
      'pretrain',
    ]);
    const again = await loadDataset(req);
    assert.deepEqual(again.train.images, b.train.images);
    assert.deepEqual(again.val.tokens, b.val.tokens);
    const pre = await loadDataset({ ...req, dataset: 'embedded-pretrain', maxTrainImages: 10 });
    assert.equal(pre.train.count, 10);
    assert.equal(pre.retainVal, undefined);
    assert.deepEqual(pre.tokenizer.vocab, b.tokenizer.vocab);
  });

  it('generates the default sizes at 32 px', async () => {
    const b = await loadDataset({ dataset: 'embedded', imageSize: 32, contextLength: 16, cacheDir: await tmp() });
    assert.deepEqual([b.train.count, b.val.count, b.retainVal?.count], [320, 160, 400]);
  });
});

describe('publishDir', () => {
  it('keeps the first folder renamed into place and deletes a later one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clipsweep-publish-'));
    const target = join(dir, 'final');
    const make = async (content: string): Promise<string> => {
      const t = tempSibling(target);
      await mkdir(t);
      await writeFile(join(t, 'f'), content);
      return t;
    };
    const first = await make('first');
    const second = await make('second');
    assert.equal(await publishDir(first, target), true);
    assert.equal(await publishDir(second, target), false);
    assert.deepEqual(await readdir(dir), ['final']);
    assert.equal(await readFile(join(target, 'f'), 'utf8'), 'first');
    await rm(dir, { recursive: true, force: true });
  });
});
