// The architecture of a real CLIP checkpoint, read from its config JSON: OpenCLIP's model config
// (bare, or wrapped as the hub's open_clip_config.json with its preprocess_cfg) or Hugging Face's
// CLIPModel config.json. Only plain ViT + causal-text CLIPs are supported; any option that would
// change the forward pass and that the built-in model does not implement is refused by name, so a
// checkpoint never loads into a model that silently computes something else.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ModelConfig } from '../model/config.js';
import { BadInputError } from '../errors.js';

export type Naming = 'openclip' | 'hf';

export interface ClipArch {
  config: ModelConfig;
  /** The naming this config describes (a hint: the weights file decides). */
  naming: Naming;
  /** The config file it came from. */
  file: string;
}

/** CLIP's preprocessing constants (OpenAI's, used by OpenCLIP's ViT-B/32 and Hugging Face). */
export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

export class ArchError extends BadInputError {
  override readonly name = 'ArchError';
}

const pos = z.number().int().positive();
const triple = z.tuple([z.number(), z.number(), z.number()]);

// Options that OpenCLIP configs may carry with values that change nothing here; any other key is
// refused (an unknown option could change the forward pass).
const openClipVision = z
  .object({
    image_size: pos,
    patch_size: pos,
    width: pos,
    layers: pos,
    head_width: pos.default(64),
    mlp_ratio: z.number().positive().default(4),
    patch_dropout: z.literal(0).optional(),
    ls_init_value: z.null().optional(),
    attentional_pool: z.literal(false).optional(),
    no_ln_pre: z.literal(false).optional(),
    final_ln_after_pool: z.literal(false).optional(),
    pool_type: z.literal('tok').optional(),
    output_tokens: z.boolean().optional(),
  })
  .strict();
const openClipText = z
  .object({
    context_length: pos,
    vocab_size: pos,
    width: pos,
    heads: pos,
    layers: pos,
    mlp_ratio: z.number().positive().default(4),
    ls_init_value: z.null().optional(),
    proj_bias: z.literal(false).optional(),
    pool_type: z.literal('argmax').optional(),
    embed_cls: z.literal(false).optional(),
    no_causal_mask: z.literal(false).optional(),
    output_tokens: z.boolean().optional(),
  })
  .strict();
const openClipModel = z
  .object({
    embed_dim: pos,
    quick_gelu: z.boolean().default(false),
    vision_cfg: openClipVision,
    text_cfg: openClipText,
    custom_text: z.literal(false).optional(),
    cast_dtype: z.string().optional(),
  })
  .strict();
const preprocess = z.object({ mean: triple.optional(), std: triple.optional() }).passthrough();

// Hugging Face configs carry dozens of generic keys: read what matters, check what could differ.
const hfTower = z
  .object({
    hidden_size: pos,
    intermediate_size: pos,
    num_attention_heads: pos,
    num_hidden_layers: pos,
    hidden_act: z.enum(['gelu', 'quick_gelu']).default('quick_gelu'),
    layer_norm_eps: z.literal(1e-5).default(1e-5),
  })
  .passthrough();
const hfModel = z
  .object({
    model_type: z.literal('clip').optional(),
    projection_dim: pos.default(512),
    text_config: hfTower.extend({ max_position_embeddings: pos.default(77), vocab_size: pos.default(49408) }),
    vision_config: hfTower.extend({
      image_size: pos.default(224),
      patch_size: pos.default(32),
      num_channels: z.literal(3).default(3),
    }),
  })
  .passthrough();

function problems(file: string, err: z.ZodError): ArchError {
  const lines = err.issues.map((i) => {
    const at = i.path.length ? i.path.join('.') : '(top level)';
    if (i.code === 'unrecognized_keys')
      return `${at}: unsupported option(s) ${i.keys.join(', ')} (the built-in model implements plain ViT + text transformer CLIPs)`;
    return `${at}: ${i.message}`;
  });
  return new ArchError(`${file}: not a supported CLIP config:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
}

function ratio(file: string, key: string, hidden: number, inner: number): number {
  const r = inner / hidden;
  if (!Number.isInteger(inner) || inner <= 0) throw new ArchError(`${file}: ${key} must be a positive integer`);
  return r;
}

function check(file: string, c: ModelConfig): ModelConfig {
  const errs: string[] = [];
  if (c.imageSize % c.patchSize !== 0)
    errs.push(`image size ${c.imageSize} is not a multiple of patch size ${c.patchSize}`);
  if (c.width % c.heads !== 0) errs.push(`vision width ${c.width} is not a multiple of its ${c.heads} heads`);
  if (c.textWidth % c.textHeads !== 0)
    errs.push(`text width ${c.textWidth} is not a multiple of its ${c.textHeads} heads`);
  if (!Number.isInteger(c.width * c.mlpRatio)) errs.push(`vision mlp ratio ${c.mlpRatio} gives a fractional width`);
  if (!Number.isInteger(c.textWidth * (c.textMlpRatio ?? c.mlpRatio)))
    errs.push(`text mlp ratio gives a fractional width`);
  if (errs.length) throw new ArchError(`${file}: ${errs.join('; ')}`);
  return c;
}

function fromOpenClip(file: string, raw: unknown, pre: unknown): ClipArch {
  const r = openClipModel.safeParse(raw);
  if (!r.success) throw problems(file, r.error);
  const p = preprocess.safeParse(pre ?? {});
  if (!p.success) throw problems(file, p.error);
  const { vision_cfg: v, text_cfg: t } = r.data;
  if (v.width % v.head_width !== 0)
    throw new ArchError(`${file}: vision_cfg.width ${v.width} is not a multiple of head_width ${v.head_width}`);
  const config: ModelConfig = {
    imageSize: v.image_size,
    patchSize: v.patch_size,
    width: v.width,
    layers: v.layers,
    heads: v.width / v.head_width,
    mlpRatio: v.mlp_ratio,
    textWidth: t.width,
    textLayers: t.layers,
    textHeads: t.heads,
    contextLength: t.context_length,
    textMlpRatio: t.mlp_ratio,
    embedDim: r.data.embed_dim,
    vocabSize: t.vocab_size,
    quickGelu: r.data.quick_gelu,
    imageMean: p.data.mean ?? CLIP_MEAN,
    imageStd: p.data.std ?? CLIP_STD,
  };
  return { config: check(file, config), naming: 'openclip', file };
}

function fromHf(file: string, raw: unknown): ClipArch {
  const r = hfModel.safeParse(raw);
  if (!r.success) throw problems(file, r.error);
  const { vision_config: v, text_config: t } = r.data;
  if (v.hidden_act !== t.hidden_act)
    throw new ArchError(
      `${file}: the towers use different activations (${v.hidden_act}, ${t.hidden_act}); the built-in model uses one`,
    );
  const config: ModelConfig = {
    imageSize: v.image_size,
    patchSize: v.patch_size,
    width: v.hidden_size,
    layers: v.num_hidden_layers,
    heads: v.num_attention_heads,
    mlpRatio: ratio(file, 'vision_config.intermediate_size', v.hidden_size, v.intermediate_size),
    textWidth: t.hidden_size,
    textLayers: t.num_hidden_layers,
    textHeads: t.num_attention_heads,
    textMlpRatio: ratio(file, 'text_config.intermediate_size', t.hidden_size, t.intermediate_size),
    contextLength: t.max_position_embeddings,
    embedDim: r.data.projection_dim,
    vocabSize: t.vocab_size,
    quickGelu: v.hidden_act === 'quick_gelu',
    imageMean: CLIP_MEAN,
    imageStd: CLIP_STD,
  };
  return { config: check(file, config), naming: 'hf', file };
}

/** Parses a config JSON of either family. */
export function parseArch(file: string, json: unknown): ClipArch {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ArchError(`${file}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  if ('model_cfg' in o) return fromOpenClip(file, o.model_cfg, o.preprocess_cfg);
  if ('vision_cfg' in o || 'text_cfg' in o) return fromOpenClip(file, o, undefined);
  if ('vision_config' in o || 'text_config' in o || o.model_type === 'clip') {
    if (o.model_type !== undefined && o.model_type !== 'clip')
      throw new ArchError(`${file}: model_type ${JSON.stringify(o.model_type)} is not a CLIPModel`);
    return fromHf(file, o);
  }
  throw new ArchError(
    `${file}: unknown architecture: expected OpenCLIP's model config (embed_dim, vision_cfg, text_cfg), an open_clip_config.json (model_cfg) or a Hugging Face CLIPModel config.json (vision_config, text_config)`,
  );
}

export function readArch(file: string): ClipArch {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ArchError(
      `${file}: cannot read the model config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ArchError(`${file}: not JSON (${(e as Error).message})`);
  }
  return parseArch(file, json);
}

/** The config that sits beside a weights file, as the hubs ship them. */
export function findArchBeside(weightsFile: string): string {
  const dir = path.dirname(path.resolve(weightsFile));
  for (const name of ['open_clip_config.json', 'config.json']) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) return f;
  }
  throw new ArchError(
    `${weightsFile}: no model config given and none beside it (open_clip_config.json or config.json in ${dir}); pass one`,
  );
}
