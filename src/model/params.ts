// The model's parameter layout: every parameter's name, shape and initial std, in a fixed order.
// Shared by the trainer (initialisation, checkpoints) and clip/ (mapping to checkpoint tensors),
// so neither imports the other for it.
import type { ModelConfig } from './config.js';

function blockShapes(prefix: string, w: number, mlp: number): [string, number[], number][] {
  // [name, shape, init std (0 = zeros, -1 = ones)]
  return [
    [`${prefix}.ln1.g`, [w], -1],
    [`${prefix}.ln1.b`, [w], 0],
    [`${prefix}.attn.qkv.w`, [w, 3 * w], NaN],
    [`${prefix}.attn.qkv.b`, [3 * w], 0],
    [`${prefix}.attn.out.w`, [w, w], NaN],
    [`${prefix}.attn.out.b`, [w], 0],
    [`${prefix}.ln2.g`, [w], -1],
    [`${prefix}.ln2.b`, [w], 0],
    [`${prefix}.mlp.fc.w`, [w, mlp * w], NaN],
    [`${prefix}.mlp.fc.b`, [mlp * w], 0],
    [`${prefix}.mlp.proj.w`, [mlp * w, w], NaN],
    [`${prefix}.mlp.proj.b`, [w], 0],
  ];
}

/** Every parameter's name and shape, in a fixed order (checkpoints rely on it). */
export function paramShapes(c: ModelConfig): [string, number[]][] {
  return paramSpecs(c).map(([n, s]) => [n, s]);
}

export function paramSpecs(c: ModelConfig): [string, number[], number][] {
  const P = (c.imageSize / c.patchSize) ** 2;
  const pd = c.patchSize * c.patchSize * 3;
  const w = c.width;
  const tw = c.textWidth;
  const specs: [string, number[], number][] = [];
  // Stds follow OpenCLIP's init_parameters (text transformer; the same rule for the ViT blocks).
  const tower = (prefix: string, width: number, layers: number, mlpRatio: number) => {
    const attnStd = width ** -0.5;
    const projStd = width ** -0.5 * (2 * layers) ** -0.5;
    const fcStd = (2 * width) ** -0.5;
    for (let l = 0; l < layers; l++) {
      for (const [name, shape, s] of blockShapes(`${prefix}.blocks.${l}`, width, mlpRatio)) {
        const std = Number.isNaN(s) ? (name.endsWith('qkv.w') ? attnStd : name.endsWith('fc.w') ? fcStd : projStd) : s;
        specs.push([name, shape, std]);
      }
    }
  };
  specs.push(['visual.patch.w', [pd, w], pd ** -0.5]);
  specs.push(['visual.class', [w], w ** -0.5]);
  specs.push(['visual.pos', [P + 1, w], w ** -0.5]);
  specs.push(['visual.ln_pre.g', [w], -1], ['visual.ln_pre.b', [w], 0]);
  tower('visual', w, c.layers, c.mlpRatio);
  specs.push(['visual.ln_post.g', [w], -1], ['visual.ln_post.b', [w], 0]);
  specs.push(['visual.proj', [w, c.embedDim], w ** -0.5]);
  specs.push(['text.token', [c.vocabSize, tw], 0.02]);
  specs.push(['text.pos', [c.contextLength, tw], 0.01]);
  tower('text', tw, c.textLayers, c.textMlpRatio ?? c.mlpRatio);
  specs.push(['text.ln_final.g', [tw], -1], ['text.ln_final.b', [tw], 0]);
  specs.push(['text.proj', [tw, c.embedDim], tw ** -0.5]);
  specs.push(['logit_scale', [], Math.log(1 / 0.07)]);
  return specs;
}
