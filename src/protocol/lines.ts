// The metrics protocol's lines (docs/protocol.md): what a child writes and how the orchestrator
// reads it back. The one place that knows the line shapes and the NaN/infinity spelling; the
// trainer, the translators and the recorder all go through it. Pure; parsing never throws.

/** How non-finite numbers are spelt on a line (JSON has no NaN or Infinity). */
export const NON_FINITE_SPELLING = ['NaN', 'Infinity', '-Infinity'] as const;

export type ParsedLine =
  | { type: 'metrics'; step: number; epoch: number | null; time: number | null; values: [string, number][] }
  | { type: 'event'; kind: string; step: number | null; payload: Record<string, unknown>; time: number | null }
  | { type: 'bad'; reason: string };

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** A number as the protocol writes it: finite numbers as JSON numbers, the rest as their spelling. */
export function encodeNumber(value: number): number | string {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** One protocol line (no newline): JSON.stringify would write non-finite numbers as null. */
export function encodeLine(record: object): string {
  return JSON.stringify(record, (_key, value: unknown) => (typeof value === 'number' ? encodeNumber(value) : value));
}

/** A metric value read back: numbers, null (NaN) and the three spellings; anything else is not one. */
export function decodeNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (raw === null) return NaN;
  if (typeof raw === 'string' && raw in NON_FINITE) return NON_FINITE[raw];
  return undefined;
}

export function parseMetricsLine(line: string): ParsedLine {
  const text = line.trim();
  if (text === '') return { type: 'bad', reason: 'empty line' };
  const data = parseLenientJson(text);
  if (data === undefined) return { type: 'bad', reason: 'not JSON' };
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return { type: 'bad', reason: 'not a JSON object' };
  const record = data as Record<string, unknown>;
  const time = typeof record.time === 'number' && Number.isFinite(record.time) ? record.time : null;
  const event = record.event;
  if (event !== undefined && event !== 'metrics') {
    if (typeof event !== 'string' || event === '') return { type: 'bad', reason: '"event" is not a string' };
    const step = record.step;
    if (step !== undefined && !isStep(step)) return { type: 'bad', reason: '"step" is not an integer >= 0' };
    return { type: 'event', kind: event, step: step === undefined ? null : (step as number), payload: record, time };
  }
  if (!isStep(record.step)) return { type: 'bad', reason: '"step" is missing or not an integer >= 0' };
  const metrics = record.metrics;
  if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics)) {
    return { type: 'bad', reason: '"metrics" is missing or not an object' };
  }
  const values: [string, number][] = [];
  for (const [key, raw] of Object.entries(metrics as Record<string, unknown>)) {
    const value = decodeNumber(raw);
    if (value === undefined) return { type: 'bad', reason: `metric "${key}" is not a number` };
    if (key === '') return { type: 'bad', reason: 'a metric has an empty name' };
    values.push([key, value]);
  }
  const epoch = record.epoch;
  if (epoch !== undefined && epoch !== null && (typeof epoch !== 'number' || !Number.isFinite(epoch))) {
    return { type: 'bad', reason: '"epoch" is not a number' };
  }
  return { type: 'metrics', step: record.step as number, epoch: (epoch as number | undefined) ?? null, time, values };
}

function isStep(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * JSON.parse, falling back to a pass that quotes bare NaN / Infinity / -Infinity outside strings
 * (Python's json.dumps writes them by default). Written by hand because no JSON5 dialect is
 * needed, only these three tokens, and the fast path stays the native parser.
 */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    if (!/NaN|Infinity/.test(text)) return undefined;
  }
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const token = text.startsWith('-Infinity', i)
      ? '-Infinity'
      : text.startsWith('Infinity', i)
        ? 'Infinity'
        : text.startsWith('NaN', i)
          ? 'NaN'
          : null;
    if (token !== null) {
      out += `"${token}"`;
      i += token.length - 1;
    } else out += c;
  }
  try {
    return JSON.parse(out);
  } catch {
    return undefined;
  }
}
