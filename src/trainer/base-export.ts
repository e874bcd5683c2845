// The base model as real weights are shipped: a safetensors file in OpenCLIP naming, the
// OpenCLIP model config beside it (open_clip_config.json) and the word vocabulary (vocab.txt, one
// word per line, in id order). The repository ships one (models/base-tiny/), so `init: base` needs
// no pretraining on a fresh clone, and `sweep clip embed` / `sweep clip eval` open it like any CLIP.
import fs from 'node:fs';
import path from 'node:path';
import { mappingFor, toExternal } from '../clip/naming.js';
import { writeSafetensors, type TensorToWrite } from '../clip/safetensors.js';
import type { ModelConfig } from '../model/config.js';

export const WEIGHTS_FILE = 'open_clip_model.safetensors';
export const CONFIG_FILE = 'open_clip_config.json';
export const VOCAB_FILE = 'vocab.txt';

/** OpenCLIP's open_clip_config.json for a model of the built-in layout (no pixel normalisation). */
export function openClipConfig(c: ModelConfig): Record<string, unknown> {
  return {
    model_cfg: {
      embed_dim: c.embedDim,
      quick_gelu: c.quickGelu ?? false,
      vision_cfg: {
        image_size: c.imageSize,
        patch_size: c.patchSize,
        width: c.width,
        layers: c.layers,
        head_width: c.width / c.heads,
        mlp_ratio: c.mlpRatio,
      },
      text_cfg: {
        context_length: c.contextLength,
        vocab_size: c.vocabSize,
        width: c.textWidth,
        heads: c.textHeads,
        layers: c.textLayers,
        mlp_ratio: c.textMlpRatio ?? c.mlpRatio,
      },
    },
    // The built-in model sees [0, 1] pixels as they are: mean 0, std 1 is the identity.
    preprocess_cfg: { mean: [0, 0, 0], std: [1, 1, 1] },
  };
}

/** Writes the three files into `dir`; returns the weights file. */
export function exportOpenClip(
  dir: string,
  config: ModelConfig,
  vocab: readonly string[],
  params: ReadonlyMap<string, Float32Array>,
  metadata: Record<string, string>,
): string {
  fs.mkdirSync(dir, { recursive: true });
  const tensors: TensorToWrite[] = [];
  for (const m of mappingFor('openclip', config)) {
    const values = params.get(m.internal);
    if (!values) throw new Error(`cannot export ${dir}: parameter ${m.internal} is missing`);
    toExternal(m, values).forEach((data, i) =>
      tensors.push({ name: m.external[i]!.name, dtype: 'F32', shape: m.external[i]!.shape, data }),
    );
  }
  const file = path.join(dir, WEIGHTS_FILE);
  writeSafetensors(file, tensors, { format: 'pt', ...metadata });
  fs.writeFileSync(path.join(dir, CONFIG_FILE), JSON.stringify(openClipConfig(config), null, 2) + '\n');
  fs.writeFileSync(path.join(dir, VOCAB_FILE), vocab.join('\n') + '\n');
  return file;
}

/** A word vocabulary file: one token per line, the id is the line number. */
export function isWordVocab(file: string): boolean {
  return path.basename(file) === VOCAB_FILE && fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true;
}

export function readWordVocab(file: string): string[] {
  const words = fs.readFileSync(file, 'utf8').split('\n');
  if (words[words.length - 1] === '') words.pop();
  return words;
}
