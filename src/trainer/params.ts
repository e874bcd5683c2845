// The built-in trainer's parameters (SWEEP_PARAMS), validated once at the edge. docs/trainer.md
// documents every one with its default; keep the two in step.
import { z } from 'zod';
import { checkModelSize, presets, type ModelSize } from '../model/config.js';
import { parseWarmup, WARMUP_EXPECTED } from '../protocol/warmup.js';
import { BadInputError } from '../errors.js';

const positiveInt = z.number().int().positive();

/** Evaluation metrics the trainer writes (early stopping may watch any of them). */
const METRIC = /^(val|train_eval|retain)\/(loss|(i2t|t2i)_(R@(1|5|10)|mean_rank|median_rank))$/;

const modelObject = z
  .object({
    preset: z.string().default('tiny'),
    image_size: positiveInt.optional(),
    patch_size: positiveInt.optional(),
    width: positiveInt.optional(),
    layers: positiveInt.optional(),
    heads: positiveInt.optional(),
    mlp_ratio: positiveInt.optional(),
    text_width: positiveInt.optional(),
    text_layers: positiveInt.optional(),
    text_heads: positiveInt.optional(),
    context_length: z.number().int().min(2).optional(),
    embed_dim: positiveInt.optional(),
  })
  .strict();

const augmentObject = z
  .object({
    crop: z.boolean().default(true),
    crop_scale: z.tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)]).default([0.8, 1]),
    flip: z.boolean().default(false),
    word_dropout: z.number().min(0).lt(1).default(0),
  })
  .strict();

export const paramsSchema = z
  .object({
    seed: z.number().int().default(0),
    batch_size: positiveInt.default(64),
    lr: z.number().positive().max(1).default(5e-5),
    warmup: z
      .union([z.number(), z.string()])
      .refine((value) => parseWarmup(value) !== null, WARMUP_EXPECTED)
      .default('10%'),
    weight_decay: z.number().min(0).default(0.1),
    epochs: z.number().positive().optional(),
    steps: positiveInt.optional(),
    schedule: z.enum(['cosine', 'const', 'linear']).default('cosine'),
    grad_clip: z.number().positive().nullable().default(null),
    dropout: z.number().min(0).lt(1).default(0),
    augment: z.union([z.boolean(), augmentObject]).default(true),
    model: z.union([z.string(), modelObject]).default('tiny'),
    dataset: z.string().min(1).default('embedded'),
    init: z.string().min(1).default('base'),
    /** Real CLIP weights (init: *.safetensors): their config JSON and tokenizer, when not beside them. */
    model_config: z.string().min(1).optional(),
    vocab: z.string().min(1).optional(),
    /** Freeze a tower, as OpenCLIP's --lock-image / --lock-text (the logit scale still trains). */
    lock: z
      .object({ image: z.boolean().default(false), text: z.boolean().default(false) })
      .strict()
      .default({ image: false, text: false }),
    eval_every: z
      .union([positiveInt, z.string().regex(/^\d+(\.\d+)?\s*epochs?$/, 'a step count or a string such as "2 epochs"')])
      .default(50),
    log_every: positiveInt.default(10),
    eval_batch_size: positiveInt.default(32),
    train_eval_images: positiveInt.optional(),
    max_train_images: positiveInt.optional(),
    max_val_images: positiveInt.optional(),
    early_stopping: z
      .object({
        metric: z
          .string()
          .regex(
            METRIC,
            'a metric the trainer computes, e.g. val/loss, val/i2t_R@1, train_eval/t2i_mean_rank, retain/loss',
          )
          .default('val/loss'),
        /** Default: max for recall, min for losses and ranks. */
        mode: z.enum(['min', 'max']).optional(),
        patience: positiveInt.default(5),
        min_delta: z.number().min(0).default(0),
      })
      .strict()
      .nullable()
      .default(null),
    backend: z.enum(['auto', 'node-gpu', 'node', 'wasm', 'cpu']).default('auto'),
    runs_dir: z.string().optional(),
  })
  .strict();

export type RawParams = z.infer<typeof paramsSchema>;

export interface Augment {
  crop: boolean;
  cropScale: [number, number];
  flip: boolean;
  /** Light text perturbation: each caption word is dropped with this probability. */
  wordDropout: number;
}

export interface EarlyStopping {
  metric: string;
  mode: 'min' | 'max';
  patience: number;
  min_delta: number;
}

export interface TrainParams extends Omit<RawParams, 'augment' | 'model' | 'early_stopping'> {
  early_stopping: EarlyStopping | null;
  augment: Augment;
  model: ModelSize;
  /** The preset the sizes start from (names the base model for `init: base`). */
  modelPreset: string;
}

export class ParamError extends BadInputError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid trainer parameters:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ParamError';
    this.problems = problems;
  }
}

/** Validates SWEEP_PARAMS; throws ParamError listing every problem (unknown keys by name). */
export function parseParams(input: unknown): TrainParams {
  const r = paramsSchema.safeParse(input ?? {});
  if (!r.success) {
    throw new ParamError(
      r.error.issues.map((i) => {
        const at = i.path.length ? i.path.join('.') : '(params)';
        if (i.code === 'unrecognized_keys')
          return `${at}: unknown parameter(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
        return `${at}: ${i.message}`;
      }),
    );
  }
  const p = r.data;
  const problems: string[] = [];
  if (p.epochs !== undefined && p.steps !== undefined) problems.push('give either epochs or steps, not both');
  const m = typeof p.model === 'string' ? { preset: p.model } : p.model;
  const base = presets[m.preset ?? 'tiny'];
  if (!base)
    problems.push(`model: unknown preset ${JSON.stringify(m.preset)} (known: ${Object.keys(presets).join(', ')})`);
  const o: Partial<z.infer<typeof modelObject>> = typeof p.model === 'string' ? {} : p.model;
  const model: ModelSize = {
    ...(base ?? presets.tiny!),
    ...(o.image_size && { imageSize: o.image_size }),
    ...(o.patch_size && { patchSize: o.patch_size }),
    ...(o.width && { width: o.width }),
    ...(o.layers && { layers: o.layers }),
    ...(o.heads && { heads: o.heads }),
    ...(o.mlp_ratio && { mlpRatio: o.mlp_ratio }),
    ...(o.text_width && { textWidth: o.text_width }),
    ...(o.text_layers && { textLayers: o.text_layers }),
    ...(o.text_heads && { textHeads: o.text_heads }),
    ...(o.context_length && { contextLength: o.context_length }),
    ...(o.embed_dim && { embedDim: o.embed_dim }),
  };
  problems.push(...checkModelSize(model));
  const a = p.augment;
  const augment: Augment =
    a === true
      ? { crop: true, cropScale: [0.8, 1], flip: false, wordDropout: 0 }
      : a === false
        ? { crop: false, cropScale: [1, 1], flip: false, wordDropout: 0 }
        : { crop: a.crop, cropScale: a.crop_scale, flip: a.flip, wordDropout: a.word_dropout };
  if (augment.cropScale[0] > augment.cropScale[1]) problems.push('augment.crop_scale: the minimum exceeds the maximum');
  if (problems.length) throw new ParamError(problems);
  const es = p.early_stopping;
  const early_stopping = es && { ...es, mode: es.mode ?? (/R@/.test(es.metric) ? 'max' : 'min') };
  return { ...p, augment, model, early_stopping, modelPreset: m.preset ?? 'tiny' };
}
