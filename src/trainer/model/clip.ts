// The CLIP model: a ViT image tower and a causal text transformer pooled at the end-of-text
// token, both projected and L2-normalised by the loss. Parameters are named tensors in a Map so
// that the optimiser, checkpoints and weight-decay rules can treat them uniformly.
import * as tf from '@tensorflow/tfjs';
import { makeRng, Stream, hashInts } from '../rng.js';
import type { ModelConfig } from '../../model/config.js';
import { paramSpecs } from '../../model/params.js';
import { attention, dense2d, embedTokens, gelu, layerNorm, matmul2d, quickGelu, selectRows } from './ops.js';

export type ParamMap = Map<string, tf.Variable>;

/** What one forward pass needs, built from a batch by batches.ts (constants, no gradient). */
export interface ImageInput {
  /** [n * patchesPerImage, patchSize * patchSize * 3] */
  patches: tf.Tensor2D;
  n: number;
}
export interface TextInput {
  /** [n * contextLength] int32 */
  ids: tf.Tensor1D;
  /** the same ids in JS, for the embedding gradient's scatter-add */
  idsJs: Int32Array;
  /** selection of the EOT rows [n, n * ctx] and its transpose */
  eotSel: tf.Tensor2D;
  eotSelT: tf.Tensor2D;
  n: number;
}

export interface ForwardOptions {
  dropout: number;
  /** Seeds the dropout masks; different for every step. */
  dropoutSeed: number;
}

let instances = 0;

/** Fresh parameters, deterministic for the seed. */
export function initParams(c: ModelConfig, seed: number): ParamMap {
  const rng = makeRng(seed, Stream.init);
  const map: ParamMap = new Map();
  for (const [name, shape, std] of paramSpecs(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (name === 'logit_scale') data[0] = std;
    else if (std === -1) data.fill(1);
    else if (std > 0) for (let i = 0; i < size; i++) data[i] = std * rng.normal();
    // TF.js variable names are global; the suffix keeps several models in one process apart.
    const init = tf.tensor(data, shape);
    map.set(name, tf.variable(init, true, `${name}#${++instances}`));
    init.dispose();
  }
  return map;
}

export function disposeParams(p: ParamMap): void {
  for (const v of p.values()) v.dispose();
}

export function countParams(p: ParamMap): number {
  let n = 0;
  for (const v of p.values()) n += v.size;
  return n;
}

/** Decoupled weight decay applies to rank >= 2 tensors only (OpenCLIP's exclusion rule). */
export function decays(name: string, shape: readonly number[]): boolean {
  return shape.length >= 2 && !/(^|\.)(ln|bias)|logit_scale/.test(name);
}

export class ClipModel {
  private readonly causal: tf.Tensor2D;
  private readonly act: (x: tf.Tensor) => tf.Tensor;
  constructor(
    readonly config: ModelConfig,
    readonly params: ParamMap,
  ) {
    this.act = config.quickGelu ? quickGelu : gelu;
    const t = config.contextLength;
    const m = new Float32Array(t * t);
    for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) m[i * t + j] = -1e9;
    this.causal = tf.keep(tf.tensor2d(m, [t, t]));
  }

  private p(name: string): tf.Tensor {
    const v = this.params.get(name);
    if (!v) throw new Error(`missing parameter ${name}`);
    return v;
  }

  private block(
    x: tf.Tensor2D,
    prefix: string,
    n: number,
    t: number,
    heads: number,
    mask: tf.Tensor | null,
    o: ForwardOptions,
    salt: number,
  ): tf.Tensor2D {
    const w = x.shape[1];
    const dh = w / heads;
    let h = layerNorm(x, this.p(`${prefix}.ln1.g`), this.p(`${prefix}.ln1.b`));
    // One in-projection parameter as OpenCLIP, applied as three matmuls: splitting the small
    // weight is cheaper than splitting the activations, and the head split needs only rank-4
    // transposes (the wasm backend's rank-5 transpose is an order of magnitude slower).
    const ws = tf.split(this.p(`${prefix}.attn.qkv.w`), 3, 1);
    const bs = tf.split(this.p(`${prefix}.attn.qkv.b`), 3, 0);
    const [q, k, v] = [0, 1, 2].map((i) =>
      tf.reshape(tf.transpose(tf.reshape(dense2d(h as tf.Tensor2D, ws[i]!, bs[i]!), [n, t, heads, dh]), [0, 2, 1, 3]), [
        n * heads,
        t,
        dh,
      ]),
    ) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const a = attention(q, k, v, mask, dh ** -0.5);
    const merged = tf.reshape(tf.transpose(tf.reshape(a, [n, heads, t, dh]), [0, 2, 1, 3]), [n * t, w]) as tf.Tensor2D;
    let out = dense2d(merged, this.p(`${prefix}.attn.out.w`), this.p(`${prefix}.attn.out.b`)) as tf.Tensor;
    if (o.dropout > 0) out = tf.dropout(out, o.dropout, undefined, hashInts(o.dropoutSeed, salt, 1));
    x = tf.add(x, out);
    h = layerNorm(x, this.p(`${prefix}.ln2.g`), this.p(`${prefix}.ln2.b`));
    h = this.act(dense2d(h as tf.Tensor2D, this.p(`${prefix}.mlp.fc.w`), this.p(`${prefix}.mlp.fc.b`)));
    let m = dense2d(h as tf.Tensor2D, this.p(`${prefix}.mlp.proj.w`), this.p(`${prefix}.mlp.proj.b`)) as tf.Tensor;
    if (o.dropout > 0) m = tf.dropout(m, o.dropout, undefined, hashInts(o.dropoutSeed, salt, 2));
    return tf.add(x, m);
  }

  /** Image embeddings [n, embedDim], not normalised. */
  encodeImage(input: ImageInput, o: ForwardOptions): tf.Tensor2D {
    const c = this.config;
    const n = input.n;
    const P = (c.imageSize / c.patchSize) ** 2;
    const t = P + 1;
    const w = c.width;
    const e = tf.reshape(matmul2d(input.patches, this.p('visual.patch.w')), [n, P, w]);
    const cls = tf.add(tf.zeros([n, 1, w]), this.p('visual.class'));
    let x = tf.reshape(tf.add(tf.concat([cls, e], 1), this.p('visual.pos')), [n * t, w]) as tf.Tensor2D;
    x = layerNorm(x, this.p('visual.ln_pre.g'), this.p('visual.ln_pre.b')) as tf.Tensor2D;
    for (let l = 0; l < c.layers; l++) x = this.block(x, `visual.blocks.${l}`, n, t, c.heads, null, o, 100 + l);
    // Pool the class token: rows 0, t, 2t, ... (strided slice: reshape and take the first row).
    const pooled = tf.reshape(tf.slice(tf.reshape(x, [n, t, w]), [0, 0, 0], [n, 1, w]), [n, w]);
    const normed = layerNorm(pooled, this.p('visual.ln_post.g'), this.p('visual.ln_post.b'));
    return matmul2d(normed, this.p('visual.proj'));
  }

  /** Text embeddings [n, embedDim], not normalised. */
  encodeText(input: TextInput, o: ForwardOptions): tf.Tensor2D {
    const c = this.config;
    const n = input.n;
    const t = c.contextLength;
    const tw = c.textWidth;
    const tok = embedTokens(this.p('text.token'), input.ids, input.idsJs);
    let x = tf.reshape(tf.add(tf.reshape(tok, [n, t, tw]), this.p('text.pos')), [n * t, tw]) as tf.Tensor2D;
    for (let l = 0; l < c.textLayers; l++)
      x = this.block(x, `text.blocks.${l}`, n, t, c.textHeads, this.causal, o, 200 + l);
    const pooled = selectRows(x, input.eotSel, input.eotSelT);
    const normed = layerNorm(pooled, this.p('text.ln_final.g'), this.p('text.ln_final.b'));
    return matmul2d(normed, this.p('text.proj'));
  }

  dispose(): void {
    this.causal.dispose();
  }
}
