// `sweep clip embed | tokenize | eval`: check a real CLIP checkpoint from scripts, without training.
import { selectBackend, type BackendChoice } from '../../trainer/backend.js';
import { findVocab, loadClipTokenizer } from '../../clip/tokenizer/index.js';
import { UsageError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from './run.js';

export interface ClipModelOptions {
  weights: string;
  config?: string | undefined;
  vocab?: string | undefined;
  backend: BackendChoice;
}

function json(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(value)}\n`);
}

async function open(o: ClipModelOptions) {
  await selectBackend(o.backend);
  const { openClip } = await import('../../trainer/clip-inference.js');
  // Bad files are the user's input: the loaders throw errors of the project's root that name the
  // file (and tensor); main maps them to exit 2. Anything else is a defect and keeps its stack.
  return openClip({ weights: o.weights, config: o.config, vocab: o.vocab });
}

export async function clipEmbedCommand(
  o: ClipModelOptions & { images: string[]; texts: string[]; json: boolean },
  io: Io,
): Promise<number> {
  if (!o.images.length && !o.texts.length) throw new UsageError('clip embed: give at least one --image or --text');
  const clip = await open(o);
  const { embed } = await import('../../trainer/clip-inference.js');
  const r = await embed(clip, o.images, o.texts);
  clip.dispose();
  if (o.json) json(io, r);
  else {
    io.out.write(`logit scale ${r.logit_scale.toFixed(4)}\n`);
    r.logits_per_image.forEach((row, i) =>
      io.out.write(
        `${o.images[i]}: ${row.map((v, j) => `${JSON.stringify(o.texts[j])} ${v.toFixed(3)}`).join(', ')}\n`,
      ),
    );
  }
  return EXIT.ok;
}

export async function clipTokenizeCommand(
  o: { vocab: string; contextLength: number; texts: string[]; json: boolean },
  io: Io,
): Promise<number> {
  if (!Number.isInteger(o.contextLength) || o.contextLength < 2)
    throw new UsageError(`clip tokenize: --context-length must be an integer >= 2, got ${o.contextLength}`);
  const tok = loadClipTokenizer(findVocab(o.vocab), o.contextLength);
  const tokens = o.texts.map((t) => Array.from(tok.encode(t)));
  if (o.json) json(io, { tokens });
  else tokens.forEach((t, i) => io.out.write(`${JSON.stringify(o.texts[i])}: ${t.join(' ')}\n`));
  return EXIT.ok;
}

export async function clipEvalCommand(
  o: ClipModelOptions & { dataset: string; maxImages?: number | undefined; batchSize: number; json: boolean },
  io: Io,
): Promise<number> {
  const clip = await open(o);
  const { evalRetrieval } = await import('../../trainer/clip-inference.js');
  let r;
  try {
    r = await evalRetrieval(clip, o.dataset, { maxImages: o.maxImages, batchSize: o.batchSize });
  } finally {
    clip.dispose();
  }
  if (o.json) json(io, { images: r.images, problems: r.problems, ...r.metrics });
  else {
    io.out.write(`${r.images} validation images (${r.problems} unreadable) from ${o.dataset}\n`);
    for (const dir of ['i2t', 't2i']) {
      const m = (k: string) => r.metrics[`val/${dir}_${k}`] ?? NaN;
      io.out.write(
        `${dir === 'i2t' ? 'image->text' : 'text->image'}: R@1 ${m('R@1').toFixed(4)}  R@5 ${m('R@5').toFixed(4)}  R@10 ${m('R@10').toFixed(4)}  mean rank ${m('mean_rank').toFixed(2)}\n`,
      );
    }
    io.out.write(`val loss (batches of ${o.batchSize}): ${(r.metrics['val/loss'] ?? NaN).toFixed(4)}\n`);
  }
  return EXIT.ok;
}
