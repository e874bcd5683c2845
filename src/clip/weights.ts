// Loads real CLIP weights from a safetensors file into the built-in model's parameter layout, and
// saves fine-tuned parameters back into the same file layout: the same naming, dtypes, tensor
// order and metadata, with every tensor the model does not use (Hugging Face's position_ids
// buffers, anything extra) copied byte for byte. A mapped tensor whose values did not change is
// also written from its original bytes, so that an untouched tensor is bit-identical.
import type { ModelConfig } from '../model/config.js';
import { BadInputError } from '../errors.js';
import type { ClipArch, Naming } from './arch.js';
import { detectNaming, mappingFor, toExternal, toInternal, type TensorMapping } from './naming.js';
import {
  readSafetensors,
  writeSafetensors,
  type Dtype,
  type SafetensorsFile,
  type TensorToWrite,
} from './safetensors.js';

export class WeightsError extends BadInputError {
  override readonly name = 'WeightsError';
}

export interface ClipWeights {
  config: ModelConfig;
  naming: Naming;
  /** Internal parameter name -> values in the built-in layout. */
  params: Map<string, Float32Array>;
  /** The file they came from, kept to save in the same layout. */
  source: SafetensorsFile;
  mapping: TensorMapping[];
  /** The floating dtype most of the mapped tensors use (F32, F16, BF16). */
  dtype: Dtype;
}

const FLOAT: readonly Dtype[] = ['F64', 'F32', 'F16', 'BF16'];

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  // A scalar is stored as [] by torch and as [1] by some exporters.
  const norm = (s: readonly number[]) => (s.length === 1 && s[0] === 1 ? [] : s);
  return norm(a).join() === norm(b).join();
}

export function loadClipWeights(file: string, arch: ClipArch): ClipWeights {
  const st = readSafetensors(file);
  const naming = detectNaming(st.tensors.map((t) => t.name));
  if (!naming) {
    const some = st.tensors
      .slice(0, 5)
      .map((t) => t.name)
      .join(', ');
    throw new WeightsError(
      `${file}: unknown architecture: neither OpenCLIP naming (visual.conv1.weight, token_embedding.weight) nor Hugging Face CLIPModel naming (vision_model.embeddings.patch_embedding.weight, ...); it holds ${some}${st.tensors.length > 5 ? ', ...' : ''}`,
    );
  }
  const config = arch.config;
  const mapping = mappingFor(naming, config);
  const problems: string[] = [];
  const params = new Map<string, Float32Array>();
  const dtypes = new Map<Dtype, number>();
  for (const m of mapping) {
    const parts: Float32Array[] = [];
    for (const ext of m.external) {
      const info = st.get(ext.name);
      if (!info) {
        problems.push(`missing tensor ${ext.name}`);
        continue;
      }
      if (!FLOAT.includes(info.dtype)) problems.push(`tensor ${ext.name} is ${info.dtype}, expected a floating type`);
      else if (!sameShape(info.shape, ext.shape))
        problems.push(`tensor ${ext.name} has shape [${info.shape}], the config ${arch.file} implies [${ext.shape}]`);
      else {
        parts.push(st.float32(ext.name));
        dtypes.set(info.dtype, (dtypes.get(info.dtype) ?? 0) + 1);
      }
    }
    if (parts.length === m.external.length) params.set(m.internal, toInternal(m, parts));
  }
  if (problems.length) {
    const shown = problems.slice(0, 12);
    throw new WeightsError(
      `${file} (${naming} naming) does not fit ${arch.file}:\n${shown.map((p) => `  - ${p}`).join('\n')}${problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : ''}`,
    );
  }
  const dtype = [...dtypes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
  return { config, naming, params, source: st, mapping, dtype };
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Writes `params` (internal names and layout) to `out` in the layout of `from.source`: each
 * tensor in its original dtype and position, unused tensors and metadata copied.
 */
export function saveClipWeights(
  out: string,
  from: Pick<ClipWeights, 'source' | 'mapping'>,
  params: ReadonlyMap<string, Float32Array>,
): void {
  const st = from.source;
  const updated = new Map<string, Float32Array>();
  for (const m of from.mapping) {
    const values = params.get(m.internal);
    if (!values) throw new WeightsError(`cannot save ${out}: parameter ${m.internal} is missing`);
    toExternal(m, values).forEach((v, i) => updated.set(m.external[i]!.name, v));
  }
  const tensors: TensorToWrite[] = st.tensors.map((t) => {
    const v = updated.get(t.name);
    // Unchanged values keep their original bytes (F16/BF16 re-encoding would be exact anyway; this
    // also keeps F64 and any NaN payloads as they were).
    if (!v || bitsEqual(v, st.float32(t.name)))
      return { name: t.name, dtype: t.dtype, shape: t.shape, data: st.bytes(t.name) };
    if (t.dtype === 'F64') {
      const d = Float64Array.from(v);
      return { name: t.name, dtype: t.dtype, shape: t.shape, data: new Uint8Array(d.buffer) };
    }
    return { name: t.name, dtype: t.dtype, shape: t.shape, data: v };
  });
  writeSafetensors(out, tensors, st.metadata);
}
