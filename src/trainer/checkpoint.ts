// Checkpoints: <kind>.json (manifest: step, model config, vocabulary, tensor table, training
// state) beside <kind>-<step>.bin (float32 weights, then AdamW's m and v). The .bin is written
// first and the manifest renamed into place last, so a kill at any moment leaves the previous
// complete checkpoint readable.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../model/config.js';
import type { ParamMap } from './model/clip.js';
import type { AdamW } from './optim.js';
import { BadInputError } from '../errors.js';

export const FORMAT = 'clipsweep-trainer-checkpoint/1';

export interface TrainState {
  /** Optimiser steps completed. */
  step: number;
  totalSteps: number;
  bestValue: number | null;
  bestStep: number | null;
  evalsWithoutImprovement: number;
}

export interface Manifest {
  format: typeof FORMAT;
  kind: string;
  weights: string;
  config: ModelConfig;
  /** The word vocabulary of the built-in tokenizer; empty when `tokenizer` names another one. */
  vocab: string[];
  /** A CLIP BPE tokenizer (real CLIP weights): where its vocabulary file is. */
  tokenizer?: TokenizerSource;
  tensors: { name: string; shape: number[]; offset: number }[];
  optimizer: { t: number } | null;
  state: TrainState;
  info: Record<string, unknown>;
}

export interface TokenizerSource {
  kind: 'clip-bpe';
  vocab: string;
}

export interface Loaded {
  manifest: Manifest;
  tensors: Map<string, tf.Tensor>;
}

export function manifestPath(dir: string, kind: string): string {
  return path.join(dir, `${kind}.json`);
}

export function saveCheckpoint(
  dir: string,
  kind: string,
  opts: {
    config: ModelConfig;
    vocab: readonly string[];
    tokenizer?: TokenizerSource;
    params: ParamMap;
    optimizer: AdamW | null;
    state: TrainState;
    info?: Record<string, unknown>;
  },
): string {
  const entries: [string, tf.Tensor][] = [];
  for (const [name, p] of opts.params) entries.push([`p:${name}`, p]);
  if (opts.optimizer) {
    for (const [name, m] of opts.optimizer.m) entries.push([`m:${name}`, m]);
    for (const [name, v] of opts.optimizer.v) entries.push([`v:${name}`, v]);
  }
  const tensors: Manifest['tensors'] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    tensors.push({ name, shape: t.shape, offset });
    offset += t.size;
  }
  const buf = new Float32Array(offset);
  entries.forEach(([, t], i) => buf.set(t.dataSync() as Float32Array, tensors[i]!.offset));
  const weights = `${kind}-${String(opts.state.step).padStart(7, '0')}.bin`;
  const tmpBin = path.join(dir, `.${weights}.${process.pid}.tmp`);
  fs.writeFileSync(tmpBin, Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  fs.renameSync(tmpBin, path.join(dir, weights));
  const manifest: Manifest = {
    format: FORMAT,
    kind,
    weights,
    config: opts.config,
    vocab: opts.tokenizer ? [] : [...opts.vocab],
    ...(opts.tokenizer ? { tokenizer: opts.tokenizer } : {}),
    tensors,
    optimizer: opts.optimizer ? { t: opts.optimizer.t } : null,
    state: opts.state,
    info: opts.info ?? {},
  };
  const target = manifestPath(dir, kind);
  const tmpJson = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(tmpJson, JSON.stringify(manifest));
  fs.renameSync(tmpJson, target);
  // Older weight files of this kind are now unreferenced.
  for (const f of fs.readdirSync(dir)) {
    if (f !== weights && f.startsWith(`${kind}-`) && f.endsWith('.bin')) fs.rmSync(path.join(dir, f), { force: true });
  }
  return target;
}

/** Reads a checkpoint manifest and its tensors; throws with the path when it is not one. */
export function loadCheckpoint(manifestFile: string): Loaded {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch (e) {
    throw new BadInputError(`checkpoint ${manifestFile}: cannot read (${(e as Error).message})`, { cause: e });
  }
  if (manifest.format !== FORMAT) throw new BadInputError(`checkpoint ${manifestFile}: not a ${FORMAT} manifest`);
  const raw = fs.readFileSync(path.join(path.dirname(manifestFile), manifest.weights));
  const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const tensors = new Map<string, tf.Tensor>();
  for (const t of manifest.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    tensors.set(t.name, tf.tensor(data.subarray(t.offset, t.offset + size), t.shape));
  }
  return { manifest, tensors };
}

/** Copies loaded weights (and optimiser moments when wanted) into live variables. */
export function restore(loaded: Loaded, params: ParamMap, optimizer: AdamW | null): void {
  for (const [name, p] of params) {
    const t = loaded.tensors.get(`p:${name}`);
    if (!t) throw new Error(`checkpoint lacks parameter ${name}`);
    if (t.shape.join() !== p.shape.join())
      throw new Error(`checkpoint parameter ${name} has shape [${t.shape}], the model [${p.shape}]`);
    p.assign(t);
  }
  if (optimizer && loaded.manifest.optimizer) {
    optimizer.t = loaded.manifest.optimizer.t;
    for (const [name, m] of optimizer.m) {
      const t = loaded.tensors.get(`m:${name}`);
      if (t) m.assign(t);
    }
    for (const [name, v] of optimizer.v) {
      const t = loaded.tensors.get(`v:${name}`);
      if (t) v.assign(t);
    }
  }
}

export function disposeLoaded(l: Loaded): void {
  for (const t of l.tensors.values()) t.dispose();
}
