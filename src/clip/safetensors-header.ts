// The safetensors header: 8-byte little-endian length, then that many bytes of UTF-8 JSON.
// Parsing validates everything the reader later relies on, so decoding never indexes out of range.
import { ClipsweepError, type ErrorCode } from '../errors.js';

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_SIZE, value);
}

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

/** A bad safetensors file or a bad request against one; the message starts with the file. */
export class SafetensorsError extends ClipsweepError {
  readonly file: string;
  readonly tensor: string | undefined;
  constructor(file: string, message: string, tensor?: string, code: ErrorCode = 'SPEC_UNREADABLE') {
    super(code, `${file}: ${tensor === undefined ? '' : `tensor ${JSON.stringify(tensor)}: `}${message}`);
    this.name = 'SafetensorsError';
    this.file = file;
    this.tensor = tensor;
  }
}

export const METADATA_KEY = '__metadata__';

export interface ParsedHeader {
  metadata: Record<string, string> | null;
  tensors: TensorInfo[];
  /** Absolute file offset of the data section. */
  dataStart: number;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function parseHeader(file: string, bytes: Uint8Array): ParsedHeader {
  if (bytes.length < 8)
    throw new SafetensorsError(file, `truncated: ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(
      file,
      `header length ${headerLength} exceeds the file (${bytes.length - 8} bytes after the length)`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  const dataLength = bytes.length - dataStart;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw new SafetensorsError(file, 'header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError(file, `header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SafetensorsError(file, 'header must be a JSON object of tensor name -> {dtype, shape, data_offsets}');
  }
  const entries = json as Record<string, unknown>;
  let metadata: Record<string, string> | null = null;
  const tensors: TensorInfo[] = [];
  // JSON.parse moves integer-like keys ("0", "12") to the front; the scan keeps the file's order.
  for (const name of topLevelKeys(file, text)) {
    const value = entries[name];
    if (name === METADATA_KEY) metadata = parseMetadata(file, value);
    else tensors.push(parseEntry(file, name, value, dataLength));
  }
  checkNoOverlap(file, tensors);
  return { metadata, tensors, dataStart };
}

function parseMetadata(file: string, value: unknown): Record<string, string> | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SafetensorsError(file, `${METADATA_KEY} must be an object of string -> string`);
  const pairs = Object.entries(value as Record<string, unknown>);
  for (const [key, v] of pairs) {
    if (typeof v !== 'string')
      throw new SafetensorsError(file, `${METADATA_KEY}.${key} must be a string, got ${JSON.stringify(v)}`);
  }
  return Object.fromEntries(pairs) as Record<string, string>; // fromEntries: a "__proto__" key stays a plain key
}

function parseEntry(file: string, name: string, value: unknown, dataLength: number): TensorInfo {
  const fail = (problem: string): never => {
    throw new SafetensorsError(file, problem, name);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail('entry must be an object {dtype, shape, data_offsets}');
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isDtype(dtype))
    fail(`unknown dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPE_SIZE).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isCount))
    fail(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(`data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength)
    fail(`data_offsets [${begin}, ${end}] outside the data section (${dataLength} bytes)`);
  const dims = shape as number[];
  const expected = elementCount(dims) * DTYPE_SIZE[dtype as Dtype];
  if (end - begin !== expected) {
    fail(`byte length ${end - begin} does not match shape [${dims.join(', ')}] x ${dtype} (${expected} bytes)`);
  }
  return { name, dtype: dtype as Dtype, shape: dims, begin, end };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkNoOverlap(file: string, tensors: readonly TensorInfo[]): void {
  // Empty tensors occupy no bytes, so they cannot overlap anything.
  const sorted = tensors.filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.begin < prev.end) {
      throw new SafetensorsError(
        file,
        `data_offsets [${cur.begin}, ${cur.end}] overlap tensor ${JSON.stringify(prev.name)} [${prev.begin}, ${prev.end}]`,
        cur.name,
      );
    }
  }
}

/** Keys of the top-level object of already-valid JSON, in text order; rejects duplicates. */
function topLevelKeys(file: string, text: string): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  let i = text.indexOf('{') + 1;
  let depth = 0;
  let expectKey = true;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      i++;
      while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      if (depth === 0 && expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (seen.has(key)) throw new SafetensorsError(file, `duplicate key ${JSON.stringify(key)} in the header`);
        seen.add(key);
        keys.push(key);
        expectKey = false;
      }
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) break; // end of the top-level object
      depth--;
    } else if (c === ',' && depth === 0) expectKey = true;
    i++;
  }
  return keys;
}

/** The header bytes for `entries` in the given order, padded with spaces to a multiple of 8. */
export function encodeHeader(
  metadata: Record<string, string> | null | undefined,
  entries: readonly TensorInfo[],
): Uint8Array {
  const parts: string[] = [];
  if (metadata) parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  for (const t of entries) {
    parts.push(
      `${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [t.begin, t.end] })}`,
    );
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}
