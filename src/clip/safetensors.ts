// Reads and writes safetensors files (the weights format of Hugging Face / open_clip checkpoints).
// The reader holds the whole file in memory (one readFileSync): a ViT-B/32 checkpoint is ~600 MB
// in F32 (~300 MB in F16), and every tensor's bytes() is a view into that one buffer. Node's
// readFileSync refuses files over 2 GiB (e.g. ViT-H/14 in F32); that error is reported as is.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';
import {
  DTYPE_SIZE,
  METADATA_KEY,
  SafetensorsError,
  elementCount,
  encodeHeader,
  isDtype,
  parseHeader,
  type Dtype,
  type TensorInfo,
} from './safetensors-header.js';

export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';
export { SafetensorsError, type Dtype, type TensorInfo } from './safetensors-header.js';

export interface SafetensorsFile {
  path: string;
  metadata: Record<string, string> | null;
  /** Tensors in the order of the header (JSON key order). */
  tensors: TensorInfo[];
  get(name: string): TensorInfo | undefined;
  /** The raw little-endian bytes of one tensor (a view; no copy). */
  bytes(name: string): Uint8Array;
  /** A new float32 array (F32/F16/BF16/F64; integer and BOOL dtypes converted too). Throws naming the tensor if missing. */
  float32(name: string): Float32Array;
}

export interface TensorToWrite {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Float32Array: values, encoded to `dtype`. Uint8Array: raw little-endian bytes already in `dtype`. */
  data: Float32Array | Uint8Array;
}

function requireLittleEndian(file: string): void {
  // Typed-array views use the host byte order; safetensors is little-endian.
  if (endianness() !== 'LE') throw new SafetensorsError(file, 'big-endian hosts are not supported');
}

export function readSafetensors(path: string): SafetensorsFile {
  requireLittleEndian(path);
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (error) {
    throw new SafetensorsError(path, `cannot read the file (${(error as Error).message})`);
  }
  const { metadata, tensors, dataStart } = parseHeader(path, file);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const info = (name: string): TensorInfo => {
    const t = byName.get(name);
    if (!t) {
      const known = tensors
        .slice(0, 5)
        .map((k) => k.name)
        .join(', ');
      throw new SafetensorsError(
        path,
        `not in the file (${tensors.length} tensors: ${known}${tensors.length > 5 ? ', ...' : ''})`,
        name,
        'NOT_FOUND',
      );
    }
    return t;
  };
  const bytes = (name: string): Uint8Array => {
    const t = info(name);
    // A plain Uint8Array, not a Buffer: Buffer.slice() would not copy, Uint8Array.slice() does.
    return new Uint8Array(file.buffer, file.byteOffset + dataStart + t.begin, t.end - t.begin);
  };
  return {
    path,
    metadata,
    tensors,
    get: (name) => byName.get(name),
    bytes,
    float32: (name) => decodeToFloat32(info(name).dtype, bytes(name)),
  };
}

type ElementArray<T> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  BYTES_PER_ELEMENT: number;
};

/**
 * `raw` viewed as elements of `Type`: the same memory when its offset allows it, else an aligned
 * copy (a tensor may start at any byte of the file, and a misaligned typed-array view throws).
 */
function elements<T>(Type: ElementArray<T>, raw: Uint8Array): T {
  const size = Type.BYTES_PER_ELEMENT;
  const source = raw.byteOffset % size === 0 ? raw : new Uint8Array(raw); // the constructor copies
  return new Type(source.buffer, source.byteOffset, source.byteLength / size);
}

function decodeToFloat32(dtype: Dtype, raw: Uint8Array): Float32Array {
  switch (dtype) {
    case 'F32':
      return new Float32Array(new Uint8Array(raw).buffer); // a copy, bit for bit
    case 'F16':
      return f16ToF32(elements(Uint16Array, raw));
    case 'BF16':
      return bf16ToF32(elements(Uint16Array, raw));
    case 'F64':
      return new Float32Array(elements(Float64Array, raw));
    case 'I64': {
      const v = elements(BigInt64Array, raw);
      const out = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = Number(v[i]!);
      return out;
    }
    case 'I32':
      return new Float32Array(elements(Int32Array, raw));
    case 'I16':
      return new Float32Array(elements(Int16Array, raw));
    case 'I8':
      return new Float32Array(elements(Int8Array, raw));
    case 'U8':
      return new Float32Array(raw);
    case 'BOOL':
      return Float32Array.from(raw, (b) => (b === 0 ? 0 : 1));
  }
}

/** Integer ranges a Float32Array value must fit to be written as an integer dtype. */
const INT_RANGE: Partial<Record<Dtype, [number, number]>> = {
  I64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  I32: [-(2 ** 31), 2 ** 31 - 1],
  I16: [-(2 ** 15), 2 ** 15 - 1],
  I8: [-128, 127],
  U8: [0, 255],
  BOOL: [0, 1],
};

function encodeFromFloat32(file: string, t: TensorToWrite, x: Float32Array): Uint8Array {
  const asBytes = (v: ArrayBufferView): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  switch (t.dtype) {
    case 'F32':
      return asBytes(x);
    case 'F16':
      return asBytes(f32ToF16(x));
    case 'BF16':
      return asBytes(f32ToBf16(x));
    case 'F64':
      return asBytes(new Float64Array(x));
  }
  const [lo, hi] = INT_RANGE[t.dtype]!;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new SafetensorsError(
        file,
        `value ${v} at index ${i} is not an integer in [${lo}, ${hi}] for ${t.dtype}`,
        t.name,
        'USAGE',
      );
    }
  }
  switch (t.dtype) {
    case 'I64':
      return asBytes(BigInt64Array.from(x, (v) => BigInt(v)));
    case 'I32':
      return asBytes(new Int32Array(x));
    case 'I16':
      return asBytes(new Int16Array(x));
    case 'I8':
      return asBytes(new Int8Array(x));
    default: // U8, BOOL
      return new Uint8Array(x);
  }
}

function checkTensor(file: string, t: TensorToWrite, seen: Set<string>): void {
  const fail = (problem: string): never => {
    throw new SafetensorsError(file, problem, t.name, 'USAGE');
  };
  if (typeof t.name !== 'string' || t.name === '' || t.name === METADATA_KEY)
    fail(`name must be a non-empty string other than ${METADATA_KEY}`);
  if (seen.has(t.name)) fail('name given twice');
  seen.add(t.name);
  if (!isDtype(t.dtype))
    fail(`unknown dtype ${JSON.stringify(t.dtype)} (expected one of ${Object.keys(DTYPE_SIZE).join(', ')})`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
  }
  const n = elementCount(t.shape);
  if (t.data instanceof Float32Array) {
    if (t.data.length !== n) fail(`${t.data.length} values for shape [${t.shape.join(', ')}] (${n} expected)`);
  } else if (t.data instanceof Uint8Array) {
    const want = n * DTYPE_SIZE[t.dtype];
    if (t.data.byteLength !== want)
      fail(`${t.data.byteLength} raw bytes for shape [${t.shape.join(', ')}] x ${t.dtype} (${want} expected)`);
  } else {
    fail('data must be a Float32Array (values) or a Uint8Array (raw bytes)');
  }
}

/** Writes atomically (a temp file beside `path`, then rename), tensors in the given order. */
export function writeSafetensors(
  path: string,
  tensors: TensorToWrite[],
  metadata?: Record<string, string> | null,
): void {
  requireLittleEndian(path);
  if (metadata) {
    for (const [key, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        throw new SafetensorsError(
          path,
          `metadata ${JSON.stringify(key)} must be a string, got ${typeof v}`,
          undefined,
          'USAGE',
        );
    }
  }
  const seen = new Set<string>();
  for (const t of tensors) checkTensor(path, t, seen);
  const chunks = tensors.map((t) => (t.data instanceof Float32Array ? encodeFromFloat32(path, t, t.data) : t.data));
  let offset = 0;
  const entries: TensorInfo[] = tensors.map((t, i) => {
    const begin = offset;
    offset += chunks[i]!.byteLength;
    return { name: t.name, dtype: t.dtype, shape: [...t.shape], begin, end: offset };
  });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(temp, 'w');
  try {
    writeFully(fd, encodeHeader(metadata, entries));
    for (const chunk of chunks) writeFully(fd, chunk);
    fsyncSync(fd); // so the rename never exposes a file whose data is not on disk yet
    closeSync(fd);
    renameSync(temp, path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(temp, { force: true });
    throw error;
  }
}

function writeFully(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.byteLength) done += writeSync(fd, data, done, data.byteLength - done);
}
