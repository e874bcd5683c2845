// Model sizes. "tiny" is the reference tiny CLIP of issue 3's speed section (966,913 parameters
// at vocab 1000); "vit-b-32" has ViT-B/32's tower sizes.

export interface ModelConfig {
  imageSize: number;
  patchSize: number;
  width: number;
  layers: number;
  heads: number;
  mlpRatio: number;
  textWidth: number;
  textLayers: number;
  textHeads: number;
  contextLength: number;
  embedDim: number;
  /** Filled in from the tokenizer. */
  vocabSize: number;
  /** QuickGELU x*sigmoid(1.702x), as OpenAI's weights were trained with; exact erf GELU otherwise. */
  quickGelu?: boolean;
  /** The text tower's MLP ratio when it differs from the image tower's. */
  textMlpRatio?: number;
  /** Per-channel normalisation applied to [0, 1] pixels (CLIP's mean and std); none when absent. */
  imageMean?: [number, number, number];
  imageStd?: [number, number, number];
}

export type ModelSize = Omit<ModelConfig, 'vocabSize'>;

export const presets: Record<string, ModelSize> = {
  tiny: {
    imageSize: 32,
    patchSize: 8,
    width: 128,
    layers: 2,
    heads: 4,
    mlpRatio: 4,
    textWidth: 128,
    textLayers: 2,
    textHeads: 4,
    contextLength: 16,
    embedDim: 64,
  },
  // For tests: trains in well under a second per step.
  micro: {
    imageSize: 16,
    patchSize: 8,
    width: 32,
    layers: 1,
    heads: 2,
    mlpRatio: 2,
    textWidth: 32,
    textLayers: 1,
    textHeads: 2,
    contextLength: 8,
    embedDim: 16,
  },
  'vit-b-32': {
    imageSize: 224,
    patchSize: 32,
    width: 768,
    layers: 12,
    heads: 12,
    mlpRatio: 4,
    textWidth: 512,
    textLayers: 12,
    textHeads: 8,
    contextLength: 77,
    embedDim: 512,
  },
};

export function checkModelSize(m: ModelSize): string[] {
  const errs: string[] = [];
  if (m.imageSize % m.patchSize !== 0)
    errs.push(`model: image_size ${m.imageSize} is not a multiple of patch_size ${m.patchSize}`);
  if (m.width % m.heads !== 0) errs.push(`model: width ${m.width} is not a multiple of heads ${m.heads}`);
  if (m.textWidth % m.textHeads !== 0)
    errs.push(`model: text_width ${m.textWidth} is not a multiple of text_heads ${m.textHeads}`);
  return errs;
}
