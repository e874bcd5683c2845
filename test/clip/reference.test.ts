// Runs the PyTorch CLIP reference's fixture generator as a real child process and checks what it
// wrote: safetensors files that parse, HF and OpenCLIP files holding the same numbers, unit-norm
// expected embeddings, plausible f16/bf16 rounding effects, and byte-identical reruns.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, tempDir } from '../helpers.js';

const PYTHON = '/usr/bin/python3';
const MAKE_FIXTURES = join(ROOT, 'test/clip/reference/make_fixtures.py');
const CONFIGS = ['gelu', 'quickgelu'] as const;
const DTYPES = ['f32', 'f16', 'bf16'] as const;
const BOS = 49406;
const EOS = 49407;
const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8 };

interface Tensor {
  dtype: string;
  shape: number[];
  values: Float64Array;
}

interface OpenClipFile {
  model_cfg: {
    embed_dim: number;
    quick_gelu: boolean;
    vision_cfg: { image_size: number; patch_size: number; width: number; head_width: number };
    text_cfg: { vocab_size: number; width: number; mlp_ratio: number };
  };
  preprocess_cfg: { mean: number[]; std: number[] };
}

interface HfConfig {
  architectures: string[];
  vision_config: { hidden_act: string; num_attention_heads: number; num_hidden_layers: number };
  text_config: {
    hidden_act: string;
    intermediate_size: number;
    num_hidden_layers: number;
    max_position_embeddings: number;
  };
}

interface Expected {
  image_embeds: number[][];
  text_embeds: number[][];
  logit_scale: number;
  logits_per_image: number[][];
}

const run = promisify(execFile);
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decode(data: Buffer, dtype: string, begin: number, count: number): Float64Array {
  const values = new Float64Array(count);
  const size = BYTES[dtype]!;
  for (let i = 0; i < count; i++) {
    const at = begin + i * size;
    if (dtype === 'F32') values[i] = data.readFloatLE(at);
    else if (dtype === 'F16') values[i] = halfToNumber(data.readUInt16LE(at));
    else if (dtype === 'BF16') values[i] = new Float32Array(new Uint32Array([data.readUInt16LE(at) << 16]).buffer)[0]!;
    else values[i] = Number(data.readBigInt64LE(at));
  }
  return values;
}

/** Minimal safetensors reader: 8-byte LE header length, JSON header, raw LE data. */
function readSafetensors(path: string): { metadata: unknown; tensors: Map<string, Tensor> } {
  const buf = readFileSync(path);
  const headerLen = Number(buf.readBigUInt64LE(0));
  assert.equal(headerLen % 8, 0, `${path}: header length ${headerLen} is not padded to 8 bytes`);
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>;
  const data = buf.subarray(8 + headerLen);
  const tensors = new Map<string, Tensor>();
  let end = 0;
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const {
      dtype,
      shape,
      data_offsets: [begin, stop],
    } = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const count = shape.reduce((a, b) => a * b, 1);
    const size = BYTES[dtype];
    assert.ok(size, `${path}: ${name} has unexpected dtype ${dtype}`);
    assert.equal(stop - begin, count * size, `${path}: ${name} byte range does not match its shape`);
    let decoded: Float64Array | undefined;
    // Decoded on first use: most checks need only a few of the tensors.
    tensors.set(name, {
      dtype,
      shape,
      get values() {
        return (decoded ??= decode(data, dtype, begin, count));
      },
    });
    end = Math.max(end, stop);
  }
  assert.equal(end, data.length, `${path}: data section length does not match the header`);
  return { metadata: header.__metadata__, tensors };
}

function get(tensors: Map<string, Tensor>, name: string): Tensor {
  const t = tensors.get(name);
  assert.ok(t, `missing tensor ${name}`);
  return t;
}

function transpose(t: Tensor): Tensor {
  const [rows, cols] = t.shape as [number, number];
  const values = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[c * rows + r] = t.values[r * cols + c]!;
  return { dtype: t.dtype, shape: [cols, rows], values };
}

function thirdOf(t: Tensor, part: number): Tensor {
  const n = t.values.length / 3;
  const [first, ...rest] = t.shape as [number, ...number[]];
  return { dtype: t.dtype, shape: [first / 3, ...rest], values: t.values.subarray(part * n, (part + 1) * n) };
}

/** HF name -> the OpenCLIP tensor it must hold, written out independently of clip_ref.py. */
function hfFromOpenClip(oc: Map<string, Tensor>, visionLayers: number, textLayers: number): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const same = (hf: string, name: string): void => void out.set(hf, get(oc, name));
  same('vision_model.embeddings.class_embedding', 'visual.class_embedding');
  same('vision_model.embeddings.patch_embedding.weight', 'visual.conv1.weight');
  same('vision_model.embeddings.position_embedding.weight', 'visual.positional_embedding');
  same('text_model.embeddings.token_embedding.weight', 'token_embedding.weight');
  same('text_model.embeddings.position_embedding.weight', 'positional_embedding');
  same('logit_scale', 'logit_scale');
  out.set('visual_projection.weight', transpose(get(oc, 'visual.proj')));
  out.set('text_projection.weight', transpose(get(oc, 'text_projection')));
  for (const k of ['weight', 'bias']) {
    same(`vision_model.pre_layrnorm.${k}`, `visual.ln_pre.${k}`);
    same(`vision_model.post_layernorm.${k}`, `visual.ln_post.${k}`);
    same(`text_model.final_layer_norm.${k}`, `ln_final.${k}`);
    for (const [src, dst, layers] of [
      ['visual.transformer', 'vision_model.encoder', visionLayers],
      ['transformer', 'text_model.encoder', textLayers],
    ] as const) {
      for (let i = 0; i < layers; i++) {
        const s = `${src}.resblocks.${i}`;
        const d = `${dst}.layers.${i}`;
        ['q', 'k', 'v'].forEach((p, part) =>
          out.set(`${d}.self_attn.${p}_proj.${k}`, thirdOf(get(oc, `${s}.attn.in_proj_${k}`), part)),
        );
        same(`${d}.self_attn.out_proj.${k}`, `${s}.attn.out_proj.${k}`);
        same(`${d}.layer_norm1.${k}`, `${s}.ln_1.${k}`);
        same(`${d}.layer_norm2.${k}`, `${s}.ln_2.${k}`);
        same(`${d}.mlp.fc1.${k}`, `${s}.mlp.c_fc.${k}`);
        same(`${d}.mlp.fc2.${k}`, `${s}.mlp.c_proj.${k}`);
      }
    }
  }
  return out;
}

const maxAbsDiff = (a: number[][], b: number[][]): number =>
  Math.max(...a.flatMap((row, i) => row.map((x, j) => Math.abs(x - b[i]![j]!))));
const embedDiff = (a: Expected, b: Expected): number =>
  Math.max(maxAbsDiff(a.image_embeds, b.image_embeds), maxAbsDiff(a.text_embeds, b.text_embeds));

describe('PyTorch CLIP reference fixtures', () => {
  const made: string[] = [];
  const makeFixtures = async (seed: number): Promise<string> => {
    const dir = tempDir('clipsweep-clipref-');
    made.push(dir);
    await run(PYTHON, [MAKE_FIXTURES, dir, '--seed', String(seed)]);
    return dir;
  };
  let out = '';
  before(async () => {
    out = await makeFixtures(0);
  });
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true }); // ~80 MB each
  });

  it('writes configs that agree with each other and with the tensor shapes', () => {
    for (const config of CONFIGS) {
      const dir = join(out, config);
      const oc = readJson<OpenClipFile>(join(dir, 'open_clip_config.json'));
      const hf = readJson<HfConfig>(join(dir, 'config.json'));
      const { vision_cfg: v, text_cfg: t } = oc.model_cfg;
      assert.equal(oc.model_cfg.quick_gelu, config === 'quickgelu');
      assert.deepEqual(oc.preprocess_cfg.mean, [0.48145466, 0.4578275, 0.40821073]);
      assert.deepEqual(hf.architectures, ['CLIPModel']);
      assert.equal(hf.vision_config.hidden_act, config === 'quickgelu' ? 'quick_gelu' : 'gelu');
      assert.equal(hf.text_config.hidden_act, hf.vision_config.hidden_act);
      assert.equal(hf.vision_config.num_attention_heads, v.width / v.head_width);
      assert.equal(hf.text_config.intermediate_size, t.width * t.mlp_ratio);
      const grid = v.image_size / v.patch_size;
      const { tensors } = readSafetensors(join(dir, 'openclip-f32.safetensors'));
      assert.deepEqual(get(tensors, 'visual.conv1.weight').shape, [v.width, 3, v.patch_size, v.patch_size]);
      assert.deepEqual(get(tensors, 'visual.positional_embedding').shape, [grid * grid + 1, v.width]);
      assert.deepEqual(get(tensors, 'visual.proj').shape, [v.width, oc.model_cfg.embed_dim]);
      assert.deepEqual(get(tensors, 'token_embedding.weight').shape, [t.vocab_size, t.width]);
      assert.deepEqual(get(tensors, 'text_projection').shape, [t.width, oc.model_cfg.embed_dim]);
      assert.deepEqual(get(tensors, 'transformer.resblocks.1.attn.in_proj_weight').shape, [3 * t.width, t.width]);
      assert.deepEqual(get(tensors, 'logit_scale').shape, []);
    }
  });

  it('stores the same numbers under HF and OpenCLIP names, rounded correctly per dtype', () => {
    const { vision_config: vision, text_config: text } = readJson<HfConfig>(join(out, 'gelu/config.json'));
    const full = readSafetensors(join(out, 'gelu/openclip-f32.safetensors')).tensors;
    for (const dtype of DTYPES) {
      const oc = readSafetensors(join(out, `gelu/openclip-${dtype}.safetensors`));
      const hf = readSafetensors(join(out, `gelu/hf-${dtype}.safetensors`));
      assert.deepEqual([oc.metadata, hf.metadata], [{ format: 'pt' }, { format: 'pt' }]);
      const mapped = hfFromOpenClip(oc.tensors, vision.num_hidden_layers, text.num_hidden_layers);
      const extras = ['vision_model.embeddings.position_ids', 'text_model.embeddings.position_ids'];
      assert.deepEqual([...hf.tensors.keys()].sort(), [...mapped.keys(), ...extras].sort());
      for (const [name, want] of mapped) {
        const got = get(hf.tensors, name);
        assert.deepEqual([got.dtype, got.shape], [want.dtype, want.shape], name);
        assert.ok(
          got.values.every((x, i) => x === want.values[i]),
          `${dtype}: ${name} differs from its OpenCLIP source`,
        );
      }
      assert.deepEqual(get(hf.tensors, extras[0]!), {
        dtype: 'I64',
        shape: [1, 17],
        values: Float64Array.from({ length: 17 }, (_, i) => i),
      });
      assert.deepEqual(get(hf.tensors, extras[1]!).shape, [1, text.max_position_embeddings]);
      // Round-to-nearest: within half an ulp of the f32 value (2^-11 relative for f16, 2^-8 for bf16).
      const rel = { f32: 0, f16: 2 ** -11, bf16: 2 ** -8 }[dtype];
      for (const [name, t] of oc.tensors) {
        const ref = get(full, name).values;
        assert.ok(
          t.values.every(
            (x, i) => Math.abs(x - ref[i]!) <= Math.max(Math.abs(ref[i]!) * rel, dtype === 'f16' ? 2 ** -25 : 0),
          ),
          `${dtype}: ${name} is not the rounded f32 value`,
        );
      }
    }
  });

  it('writes inputs as described: NCHW pixels and token rows with start/end tokens', () => {
    const inputs = readJson<{ pixels: number[]; pixel_shape: number[]; tokens: number[][] }>(
      join(out, 'gelu/inputs.json'),
    );
    assert.equal(
      inputs.pixels.length,
      inputs.pixel_shape.reduce((a, b) => a * b, 1),
    );
    assert.deepEqual(inputs.pixel_shape.slice(1), [3, 32, 32]);
    const lengths = inputs.tokens.map((row) => row.indexOf(EOS) + 1);
    for (const row of inputs.tokens) {
      assert.equal(row.length, 16);
      assert.equal(row[0], BOS);
      assert.equal(row.indexOf(Math.max(...row)), row.indexOf(EOS), 'the end token is the row maximum');
      assert.ok(row.slice(1, row.indexOf(EOS)).every((id) => id >= 1 && id < BOS));
      assert.ok(row.slice(row.indexOf(EOS) + 1).every((id) => id === 0));
    }
    assert.ok(lengths.includes(16), 'one caption fills the whole context');
    assert.equal(new Set(lengths).size, lengths.length, 'captions have different lengths');
  });

  it('writes unit-norm embeddings and logits consistent with them', () => {
    for (const config of CONFIGS) {
      const oc = readJson<OpenClipFile>(join(out, config, 'open_clip_config.json'));
      for (const tag of [...DTYPES, 'full']) {
        const e = readJson<Expected>(join(out, config, `expected-${tag}.json`));
        for (const row of [...e.image_embeds, ...e.text_embeds]) {
          assert.equal(row.length, oc.model_cfg.embed_dim);
          assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-12, `${config}/${tag}: embedding norm ${Math.hypot(...row)}`);
        }
        const logits = e.image_embeds.map((img) =>
          e.text_embeds.map((txt) => e.logit_scale * img.reduce((s, x, i) => s + x * txt[i]!, 0)),
        );
        assert.ok(maxAbsDiff(logits, e.logits_per_image) < 1e-9, `${config}/${tag}: logits are not scale * cosine`);
        assert.ok(Math.max(...e.logits_per_image.flat().map(Math.abs)) > 0.5, `${config}/${tag}: logits near zero`);
        // The scale comes from the weights as stored in that file (f32 for "full").
        const file = tag === 'full' ? 'f32' : tag;
        const stored = get(readSafetensors(join(out, config, `openclip-${file}.safetensors`)).tensors, 'logit_scale')
          .values[0]!;
        assert.ok(Math.abs(e.logit_scale - Math.exp(stored)) < 1e-12, `${config}/${tag}: logit_scale`);
      }
      assert.ok(
        Math.abs(
          readJson<Expected>(join(out, config, 'expected-full.json')).logit_scale - Math.exp(Math.log(1 / 0.07) + 0.3),
        ) < 1e-5,
      );
    }
  });

  it('shows f16/bf16 rounding as a small, plausible change (bf16 larger than f16)', () => {
    for (const config of CONFIGS) {
      const load = (tag: string) => readJson<Expected>(join(out, config, `expected-${tag}.json`));
      const full = load('full');
      assert.deepEqual(load('f32'), full, 'the f32 file holds the unrounded weights');
      const f16 = embedDiff(load('f16'), full);
      const bf16 = embedDiff(load('bf16'), full);
      assert.ok(f16 > 1e-6 && f16 < 2e-3, `${config}: f16 embedding change ${f16}`);
      assert.ok(bf16 > f16 && bf16 < 2e-2, `${config}: bf16 embedding change ${bf16}`);
    }
  });

  it('gives different embeddings for exact GELU and QuickGELU on identical weights and inputs', () => {
    for (const file of ['openclip-f32.safetensors', 'hf-f32.safetensors', 'inputs.json']) {
      assert.ok(
        readFileSync(join(out, 'gelu', file)).equals(readFileSync(join(out, 'quickgelu', file))),
        `${file} differs between configs`,
      );
    }
    const gelu = readJson<Expected>(join(out, 'gelu/expected-full.json'));
    const quick = readJson<Expected>(join(out, 'quickgelu/expected-full.json'));
    const f16 = embedDiff(readJson<Expected>(join(out, 'gelu/expected-f16.json')), gelu);
    // Far above f16 rounding, so a loader checked at f16 tolerance cannot ignore the activation.
    assert.ok(
      embedDiff(gelu, quick) > 4 * f16,
      `activation changes embeddings by ${embedDiff(gelu, quick)}, f16 rounding by ${f16}`,
    );
  });

  it('is byte-identical when run again with the same seed, and changes with the seed', async () => {
    const again = await makeFixtures(0);
    const other = await makeFixtures(1);
    assert.ok(
      !readFileSync(join(out, 'gelu/openclip-f32.safetensors')).equals(
        readFileSync(join(other, 'gelu/openclip-f32.safetensors')),
      ),
    );
    for (const config of CONFIGS) {
      const files = readdirSync(join(out, config)).sort();
      assert.deepEqual(readdirSync(join(again, config)).sort(), files);
      assert.equal(files.length, 13);
      for (const file of files) {
        assert.ok(
          readFileSync(join(out, config, file)).equals(readFileSync(join(again, config, file))),
          `${config}/${file} differs between runs`,
        );
      }
    }
  });
});
