// Parses what OpenCLIP's training prints (v3.3.0 and main; ../shared/OPENCLIP_FORMAT.md). Pure.

export type OpenClipLine =
  | {
      kind: 'train';
      epoch: number;
      samples: number;
      datasetSize: number;
      samplesPerSec: number | null;
      lr: number | null;
      logitScale: number | null;
      losses: [string, number][];
    }
  | { kind: 'eval'; epoch: number; values: Map<string, number> }
  | { kind: 'near-miss'; reason: string }
  | { kind: 'other' };

/** `YYYY-MM-DD,HH:MM:SS | LEVEL | [logger.name | ]message` */
const PREFIX = /^\d{4}-\d{2}-\d{2},\d{2}:\d{2}:\d{2} \| [A-Z]+ \| (?:[A-Za-z_][\w.]* \| )?(.*)$/;
const TRAIN = /^Train Epoch: (\d+) \[\s*(\d+)\s*\/\s*(\d+) \(\s*[\d.]+%\)\]/;
const SAMPLES = /,\s*(\S+)\/s,/;
const LR = /\bLR:\s+(\S+)/;
const SCALE = /\bLogit Scale:\s+(\S+)/;
const LOSS = /([A-Za-z][A-Za-z0-9_]*):\s+(\S+)\s+\((\S+)\)/g;
const EVAL = /^Eval Epoch: (\d+) (.*)$/;

export function parseNumber(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'nan' || t === '-nan') return NaN;
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(t)) return null;
  return Number(t);
}

export function parseOpenClipLine(line: string): OpenClipLine {
  const prefixed = PREFIX.exec(line.trimEnd());
  if (!prefixed) return { kind: 'other' };
  const message = prefixed[1]!;
  if (message.startsWith('Train Epoch:')) return parseTrain(message);
  const evalMatch = EVAL.exec(message);
  // "Eval Epoch: 1 [32 / 128]\tClip Loss: ..." is progress inside an evaluation, not its summary.
  if (evalMatch && !evalMatch[2]!.startsWith('[')) return parseEval(Number(evalMatch[1]), evalMatch[2]!);
  return { kind: 'other' };
}

function parseTrain(message: string): OpenClipLine {
  const head = TRAIN.exec(message);
  if (!head) return { kind: 'near-miss', reason: 'a "Train Epoch:" line without [samples/total (p%)]' };
  const number = (re: RegExp): number | null | 'bad' => {
    const m = re.exec(message);
    if (!m) return null;
    const v = parseNumber(m[1]!);
    return v === null ? 'bad' : v;
  };
  const samplesPerSec = number(SAMPLES);
  const lr = number(LR);
  const logitScale = number(SCALE);
  if (samplesPerSec === 'bad' || lr === 'bad' || logitScale === 'bad')
    return { kind: 'near-miss', reason: 'a number on a "Train Epoch:" line does not parse' };
  const losses: [string, number][] = [];
  const tail = message.slice(message.indexOf('Logit Scale:') >= 0 ? message.indexOf('Logit Scale:') + 12 : 0);
  for (const m of tail.matchAll(LOSS)) {
    const value = parseNumber(m[2]!);
    if (value === null) return { kind: 'near-miss', reason: `loss "${m[1]}" does not parse: ${m[2]}` };
    losses.push([m[1]!, value]);
  }
  return {
    kind: 'train',
    epoch: Number(head[1]),
    samples: Number(head[2]),
    datasetSize: Number(head[3]),
    samplesPerSec,
    lr,
    logitScale,
    losses,
  };
}

function parseEval(epoch: number, rest: string): OpenClipLine {
  const values = new Map<string, number>();
  // Keys contain "@" (image_to_text_R@1): split on tabs, then on the last ": ".
  for (const field of rest.split('\t')) {
    const text = field.trim();
    if (!text) continue;
    const colon = text.lastIndexOf(': ');
    if (colon <= 0) return { kind: 'near-miss', reason: `an eval field without "key: value": ${text.slice(0, 60)}` };
    const value = parseNumber(text.slice(colon + 2));
    if (value === null) return { kind: 'near-miss', reason: `eval value of "${text.slice(0, colon)}" does not parse` };
    values.set(text.slice(0, colon), value);
  }
  if (values.size === 0) return { kind: 'near-miss', reason: 'an "Eval Epoch:" line with no values' };
  return { kind: 'eval', epoch, values };
}

/** OpenCLIP result keys -> clipsweep metric keys. */
export function evalMetricKey(key: string): string | null {
  if (key === 'clip_val_loss') return 'val/loss';
  if (key === 'epoch' || key === 'num_samples') return null;
  const m = /^(image_to_text|text_to_image)_(R@\d+|mean_rank|median_rank)$/.exec(key);
  if (m) return `val/${m[1] === 'image_to_text' ? 'i2t' : 't2i'}_${m[2]}`;
  return `val/${key}`;
}

/** "Loss" is the total: train/loss; each term is train/<term, lower case>. */
export function trainLossKey(name: string): string {
  return name === 'Loss' ? 'train/loss' : `train/${name.toLowerCase()}`;
}

export const ALREADY_EXISTS = /Error\. Experiment already exists/;
