// How the built-in model's parameters correspond to the tensors of a real CLIP checkpoint, in
// OpenCLIP/OpenAI naming and in Hugging Face CLIPModel naming. Each entry names the external
// tensors, their shapes, and the layout change between the two (torch Linear weights are stored
// [out, in], the built-in model multiplies x @ W with W [in, out]; the patch convolution becomes a
// matmul over patches laid out (row, column, channel) as src/trainer/batches.ts builds them).
import type { ModelConfig } from '../model/config.js';
import { paramShapes } from '../model/params.js';
import type { Naming } from './arch.js';

export type Layout =
  /** same numbers, same order */
  | 'copy'
  /** [out, in] <-> [in, out] */
  | 'transpose'
  /** conv weight [w, 3, p, p] <-> [p * p * 3, w] */
  | 'conv'
  /** q, k, v weights [w, w] each <-> [w, 3w] (Hugging Face) */
  | 'qkv-weights'
  /** q, k, v biases [w] each <-> [3w] */
  | 'qkv-biases';

export interface TensorMapping {
  internal: string;
  internalShape: number[];
  external: { name: string; shape: number[] }[];
  layout: Layout;
}

type Rule = (c: ModelConfig, m: RegExpMatchArray) => Omit<TensorMapping, 'internal' | 'internalShape'>;

const one = (name: string, shape: number[], layout: Layout = 'copy') => ({ external: [{ name, shape }], layout });

function blockRules(naming: Naming, tower: 'visual' | 'text'): [RegExp, Rule][] {
  const base =
    naming === 'openclip'
      ? (l: string) => (tower === 'visual' ? `visual.transformer.resblocks.${l}` : `transformer.resblocks.${l}`)
      : (l: string) => `${tower === 'visual' ? 'vision_model' : 'text_model'}.encoder.layers.${l}`;
  const width = (c: ModelConfig) => (tower === 'visual' ? c.width : c.textWidth);
  const hidden = (c: ModelConfig) => width(c) * (tower === 'visual' ? c.mlpRatio : (c.textMlpRatio ?? c.mlpRatio));
  const re = (rest: string) => new RegExp(`^${tower}\\.blocks\\.(\\d+)\\.${rest.replace(/\./g, '\\.')}$`);
  const ln = naming === 'openclip' ? ['ln_1', 'ln_2'] : ['layer_norm1', 'layer_norm2'];
  const fc = naming === 'openclip' ? ['mlp.c_fc', 'mlp.c_proj'] : ['mlp.fc1', 'mlp.fc2'];
  const out = naming === 'openclip' ? 'attn.out_proj' : 'self_attn.out_proj';
  const rules: [RegExp, Rule][] = [
    [re('ln1.g'), (c, m) => one(`${base(m[1]!)}.${ln[0]}.weight`, [width(c)])],
    [re('ln1.b'), (c, m) => one(`${base(m[1]!)}.${ln[0]}.bias`, [width(c)])],
    [re('ln2.g'), (c, m) => one(`${base(m[1]!)}.${ln[1]}.weight`, [width(c)])],
    [re('ln2.b'), (c, m) => one(`${base(m[1]!)}.${ln[1]}.bias`, [width(c)])],
    [re('attn.out.w'), (c, m) => one(`${base(m[1]!)}.${out}.weight`, [width(c), width(c)], 'transpose')],
    [re('attn.out.b'), (c, m) => one(`${base(m[1]!)}.${out}.bias`, [width(c)])],
    [re('mlp.fc.w'), (c, m) => one(`${base(m[1]!)}.${fc[0]}.weight`, [hidden(c), width(c)], 'transpose')],
    [re('mlp.fc.b'), (c, m) => one(`${base(m[1]!)}.${fc[0]}.bias`, [hidden(c)])],
    [re('mlp.proj.w'), (c, m) => one(`${base(m[1]!)}.${fc[1]}.weight`, [width(c), hidden(c)], 'transpose')],
    [re('mlp.proj.b'), (c, m) => one(`${base(m[1]!)}.${fc[1]}.bias`, [width(c)])],
  ];
  if (naming === 'openclip') {
    rules.push(
      [re('attn.qkv.w'), (c, m) => one(`${base(m[1]!)}.attn.in_proj_weight`, [3 * width(c), width(c)], 'transpose')],
      [re('attn.qkv.b'), (c, m) => one(`${base(m[1]!)}.attn.in_proj_bias`, [3 * width(c)])],
    );
  } else {
    const qkv = (m: RegExpMatchArray, what: string, shape: number[]) =>
      ['q_proj', 'k_proj', 'v_proj'].map((p) => ({ name: `${base(m[1]!)}.self_attn.${p}.${what}`, shape }));
    rules.push(
      [re('attn.qkv.w'), (c, m) => ({ external: qkv(m, 'weight', [width(c), width(c)]), layout: 'qkv-weights' })],
      [re('attn.qkv.b'), (c, m) => ({ external: qkv(m, 'bias', [width(c)]), layout: 'qkv-biases' })],
    );
  }
  return rules;
}

function topRules(naming: Naming): [RegExp, Rule][] {
  const grid = (c: ModelConfig) => (c.imageSize / c.patchSize) ** 2 + 1;
  const exact = (name: string): RegExp => new RegExp(`^${name.replace(/\./g, '\\.')}$`);
  if (naming === 'openclip') {
    return [
      [exact('visual.patch.w'), (c) => one('visual.conv1.weight', [c.width, 3, c.patchSize, c.patchSize], 'conv')],
      [exact('visual.class'), (c) => one('visual.class_embedding', [c.width])],
      [exact('visual.pos'), (c) => one('visual.positional_embedding', [grid(c), c.width])],
      [exact('visual.ln_pre.g'), (c) => one('visual.ln_pre.weight', [c.width])],
      [exact('visual.ln_pre.b'), (c) => one('visual.ln_pre.bias', [c.width])],
      [exact('visual.ln_post.g'), (c) => one('visual.ln_post.weight', [c.width])],
      [exact('visual.ln_post.b'), (c) => one('visual.ln_post.bias', [c.width])],
      [exact('visual.proj'), (c) => one('visual.proj', [c.width, c.embedDim])],
      [exact('text.token'), (c) => one('token_embedding.weight', [c.vocabSize, c.textWidth])],
      [exact('text.pos'), (c) => one('positional_embedding', [c.contextLength, c.textWidth])],
      [exact('text.ln_final.g'), (c) => one('ln_final.weight', [c.textWidth])],
      [exact('text.ln_final.b'), (c) => one('ln_final.bias', [c.textWidth])],
      [exact('text.proj'), (c) => one('text_projection', [c.textWidth, c.embedDim])],
      [exact('logit_scale'), () => one('logit_scale', [])],
    ];
  }
  return [
    [
      exact('visual.patch.w'),
      (c) => one('vision_model.embeddings.patch_embedding.weight', [c.width, 3, c.patchSize, c.patchSize], 'conv'),
    ],
    [exact('visual.class'), (c) => one('vision_model.embeddings.class_embedding', [c.width])],
    [exact('visual.pos'), (c) => one('vision_model.embeddings.position_embedding.weight', [grid(c), c.width])],
    [exact('visual.ln_pre.g'), (c) => one('vision_model.pre_layrnorm.weight', [c.width])],
    [exact('visual.ln_pre.b'), (c) => one('vision_model.pre_layrnorm.bias', [c.width])],
    [exact('visual.ln_post.g'), (c) => one('vision_model.post_layernorm.weight', [c.width])],
    [exact('visual.ln_post.b'), (c) => one('vision_model.post_layernorm.bias', [c.width])],
    [exact('visual.proj'), (c) => one('visual_projection.weight', [c.embedDim, c.width], 'transpose')],
    [exact('text.token'), (c) => one('text_model.embeddings.token_embedding.weight', [c.vocabSize, c.textWidth])],
    [exact('text.pos'), (c) => one('text_model.embeddings.position_embedding.weight', [c.contextLength, c.textWidth])],
    [exact('text.ln_final.g'), (c) => one('text_model.final_layer_norm.weight', [c.textWidth])],
    [exact('text.ln_final.b'), (c) => one('text_model.final_layer_norm.bias', [c.textWidth])],
    [exact('text.proj'), (c) => one('text_projection.weight', [c.embedDim, c.textWidth], 'transpose')],
    [exact('logit_scale'), () => one('logit_scale', [])],
  ];
}

/** Every parameter of the built-in model for config `c`, with its external tensors. */
export function mappingFor(naming: Naming, c: ModelConfig): TensorMapping[] {
  const rules = [...topRules(naming), ...blockRules(naming, 'visual'), ...blockRules(naming, 'text')];
  return paramShapes(c).map(([internal, internalShape]) => {
    for (const [re, rule] of rules) {
      const m = internal.match(re);
      if (m) return { internal, internalShape, ...rule(c, m) };
    }
    throw new Error(`no ${naming} name for parameter ${internal}`);
  });
}

/** Which naming a checkpoint uses, from its tensor names. */
export function detectNaming(names: Iterable<string>): Naming | null {
  const set = new Set(names);
  if (set.has('visual.conv1.weight') && set.has('token_embedding.weight')) return 'openclip';
  if (
    set.has('vision_model.embeddings.patch_embedding.weight') &&
    set.has('text_model.embeddings.token_embedding.weight')
  )
    return 'hf';
  return null;
}

/** External tensors -> the internal layout. */
export function toInternal(m: TensorMapping, parts: Float32Array[]): Float32Array {
  const [a] = parts as [Float32Array];
  switch (m.layout) {
    case 'copy':
      return a;
    case 'transpose': {
      const [r, c] = m.external[0]!.shape as [number, number];
      return transpose(a, r, c);
    }
    case 'conv':
      return convLayout(a, m.external[0]!.shape as [number, number, number, number], true);
    case 'qkv-weights': {
      // Stack [q; k; v] as [3w, w] (torch's in_proj layout), then transpose to [w, 3w].
      const w = m.external[0]!.shape[0]!;
      const stacked = new Float32Array(3 * w * w);
      parts.forEach((p, i) => stacked.set(p, i * w * w));
      return transpose(stacked, 3 * w, w);
    }
    case 'qkv-biases': {
      const w = m.external[0]!.shape[0]!;
      const out = new Float32Array(3 * w);
      parts.forEach((p, i) => out.set(p, i * w));
      return out;
    }
  }
}

/** The internal layout -> external tensors (in the order of m.external). */
export function toExternal(m: TensorMapping, x: Float32Array): Float32Array[] {
  switch (m.layout) {
    case 'copy':
      return [x];
    case 'transpose': {
      const [r, c] = m.external[0]!.shape as [number, number];
      return [transpose(x, c, r)];
    }
    case 'conv':
      return [convLayout(x, m.external[0]!.shape as [number, number, number, number], false)];
    case 'qkv-weights': {
      const w = m.external[0]!.shape[0]!;
      const stacked = transpose(x, w, 3 * w);
      return [0, 1, 2].map((i) => stacked.slice(i * w * w, (i + 1) * w * w));
    }
    case 'qkv-biases': {
      const w = m.external[0]!.shape[0]!;
      return [0, 1, 2].map((i) => x.slice(i * w, (i + 1) * w));
    }
  }
}

/** [r, c] row-major -> [c, r]. */
export function transpose(a: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j]!;
  return out;
}

/** conv [w, ch, p, p] <-> patch matrix [(y * p + x) * ch + c, w]: the same index pairs, either way. */
function convLayout(src: Float32Array, [w, ch, p]: [number, number, number, number], toPatch: boolean): Float32Array {
  const out = new Float32Array(src.length);
  for (let o = 0; o < w; o++)
    for (let c = 0; c < ch; c++)
      for (let y = 0; y < p; y++)
        for (let x = 0; x < p; x++) {
          const conv = ((o * ch + c) * p + y) * p + x;
          const patch = ((y * p + x) * ch + c) * w + o;
          if (toPatch) out[patch] = src[conv]!;
          else out[conv] = src[patch]!;
        }
  return out;
}
