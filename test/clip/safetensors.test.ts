import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import {
  SafetensorsError,
  f32ToBf16,
  f32ToF16,
  readSafetensors,
  writeSafetensors,
} from '../../src/clip/safetensors.js';

/** A file with this exact header text (no padding) and data; `declaredLength` overrides the u64. */
function rawFile(path: string, header: string, data = new Uint8Array(0), declaredLength?: bigint): string {
  const json = Buffer.from(header, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  writeFileSync(path, Buffer.concat([length, json, data]));
  return path;
}

const asBits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

test('round trip of F32, F16, BF16 and I64 tensors with metadata', () => {
  const path = join(tempDir(), 'model.safetensors');
  const values = Float32Array.from([0, -0, 1.5, -2.25, 1e-7, 65504, 3.14159, -1e30]);
  const i64 = new BigInt64Array([0n, -1n, 2n ** 40n, -(2n ** 62n)]);
  writeSafetensors(
    path,
    [
      { name: 'a.f32', dtype: 'F32', shape: [2, 4], data: values },
      { name: 'b.f16', dtype: 'F16', shape: [8], data: values },
      { name: 'c.bf16', dtype: 'BF16', shape: [4, 2], data: values },
      { name: 'd.i64.raw', dtype: 'I64', shape: [4], data: new Uint8Array(i64.buffer) },
      { name: 'e.i64.values', dtype: 'I64', shape: [2, 2], data: Float32Array.from([7, -8, 2 ** 24, -(2 ** 30)]) },
    ],
    { format: 'pt', note: 'ünïcode ✓' },
  );
  const file = readSafetensors(path);
  assert.deepEqual(file.metadata, { format: 'pt', note: 'ünïcode ✓' });
  assert.deepEqual(
    file.tensors.map((t) => [t.name, t.dtype, t.shape, t.end - t.begin]),
    [
      ['a.f32', 'F32', [2, 4], 32],
      ['b.f16', 'F16', [8], 16],
      ['c.bf16', 'BF16', [4, 2], 16],
      ['d.i64.raw', 'I64', [4], 32],
      ['e.i64.values', 'I64', [2, 2], 32],
    ],
  );
  assert.deepEqual(asBits(file.float32('a.f32')), asBits(values), 'F32 is bit-exact, -0 included');
  assert.deepEqual(Array.from(new Uint16Array(file.bytes('b.f16').slice().buffer)), Array.from(f32ToF16(values)));
  assert.deepEqual(Array.from(file.float32('b.f16')), [
    0,
    -0,
    1.5,
    -2.25,
    Math.fround(1.1920928955078125e-7),
    65504,
    3.140625,
    -Infinity,
  ]);
  assert.deepEqual(Array.from(new Uint16Array(file.bytes('c.bf16').slice().buffer)), Array.from(f32ToBf16(values)));
  assert.deepEqual(Array.from(file.float32('c.bf16')), [
    0,
    -0,
    1.5,
    -2.25,
    Math.fround(1.0011717677116394e-7),
    65536,
    3.140625,
    -1.0002555517425873e30,
  ]);
  assert.deepEqual(Array.from(new BigInt64Array(file.bytes('d.i64.raw').slice().buffer)), Array.from(i64));
  assert.deepEqual(Array.from(file.float32('d.i64.raw')), [0, -1, 2 ** 40, -(2 ** 62)]);
  assert.deepEqual(Array.from(file.float32('e.i64.values')), [7, -8, 2 ** 24, -(2 ** 30)]);
  assert.equal(file.get('b.f16')?.dtype, 'F16');
  assert.equal(file.get('nope'), undefined);
});

test('the header is space-padded to a multiple of 8 bytes and the data follows it packed', () => {
  const path = join(tempDir(), 'p.safetensors');
  writeSafetensors(path, [{ name: 'x', dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) }]);
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  assert.equal(bytes.length, 8 + n + 3);
  const header = bytes.subarray(8, 8 + n).toString('utf8');
  assert.match(header, /^\{.*\} *$/);
  assert.deepEqual(JSON.parse(header), { x: { dtype: 'U8', shape: [3], data_offsets: [0, 3] } });
  assert.equal(readSafetensors(path).metadata, null);
});

test('tensor order is kept as written, integer-like names included', () => {
  const path = join(tempDir(), 'order.safetensors');
  const names = ['zeta', '10', 'alpha', '2', 'mid.weight', '0'];
  writeSafetensors(
    path,
    names.map((name, i) => ({ name, dtype: 'F32' as const, shape: [1], data: Float32Array.of(i) })),
  );
  const file = readSafetensors(path);
  assert.deepEqual(
    file.tensors.map((t) => t.name),
    names,
  );
  assert.deepEqual(
    names.map((n) => file.float32(n)[0]),
    [0, 1, 2, 3, 4, 5],
  );
});

test('tensors at offsets that are not a multiple of their element size decode correctly', () => {
  const path = join(tempDir(), 'odd.safetensors');
  const values = Float32Array.from([1.5, -3, 0.25]);
  writeSafetensors(path, [
    { name: 'pad', dtype: 'U8', shape: [1], data: Uint8Array.of(9) },
    { name: 'h', dtype: 'F16', shape: [3], data: values },
    { name: 'f', dtype: 'F32', shape: [3], data: values },
    { name: 'd', dtype: 'F64', shape: [3], data: values },
    { name: 'i', dtype: 'I32', shape: [3], data: Float32Array.of(-5, 0, 70000) },
    { name: 'b', dtype: 'BOOL', shape: [2], data: Uint8Array.of(0, 1) },
  ]);
  const file = readSafetensors(path);
  assert.equal(file.get('h')!.begin, 1, 'F16 starts at an odd offset');
  for (const name of ['h', 'f', 'd']) assert.deepEqual(Array.from(file.float32(name)), [1.5, -3, 0.25], name);
  assert.deepEqual(Array.from(file.float32('i')), [-5, 0, 70000]);
  assert.deepEqual(Array.from(file.float32('b')), [0, 1]);
});

test('writing replaces the file atomically and leaves no temp file; a rejected write leaves the old file', () => {
  const dir = tempDir();
  const path = join(dir, 'w.safetensors');
  writeSafetensors(path, [{ name: 'v', dtype: 'F32', shape: [1], data: Float32Array.of(1) }]);
  writeSafetensors(path, [{ name: 'v', dtype: 'F32', shape: [1], data: Float32Array.of(2) }]);
  assert.deepEqual(readdirSync(dir), ['w.safetensors']);
  assert.equal(readSafetensors(path).float32('v')[0], 2);
  assert.throws(
    () => writeSafetensors(path, [{ name: 'v', dtype: 'F32', shape: [2], data: Float32Array.of(3) }]),
    /tensor "v": 1 values for shape \[2\] \(2 expected\)/,
  );
  assert.equal(readSafetensors(path).float32('v')[0], 2);
  assert.deepEqual(readdirSync(dir), ['w.safetensors']);
});

test('bad write requests name the file, the tensor and the problem', () => {
  const path = join(tempDir(), 'bad.safetensors');
  const one = Float32Array.of(1);
  const cases: Array<[Parameters<typeof writeSafetensors>[1], RegExp]> = [
    [
      [
        { name: 'a', dtype: 'F32', shape: [1], data: one },
        { name: 'a', dtype: 'F32', shape: [1], data: one },
      ],
      /tensor "a": name given twice/,
    ],
    [[{ name: 'q', dtype: 'Q4' as 'F32', shape: [1], data: one }], /tensor "q": unknown dtype "Q4"/],
    [
      [{ name: 'r', dtype: 'F16', shape: [3], data: new Uint8Array(4) }],
      /tensor "r": 4 raw bytes for shape \[3\] x F16 \(6 expected\)/,
    ],
    [
      [{ name: 'i', dtype: 'I8', shape: [1], data: Float32Array.of(1.5) }],
      /tensor "i": value 1.5 at index 0 is not an integer in \[-128, 127\] for I8/,
    ],
    [
      [{ name: 's', dtype: 'F32', shape: [-1], data: one }],
      /tensor "s": shape must be an array of non-negative integers/,
    ],
    [
      [{ name: '__metadata__', dtype: 'F32', shape: [1], data: one }],
      /name must be a non-empty string other than __metadata__/,
    ],
  ];
  for (const [tensors, message] of cases) {
    assert.throws(
      () => writeSafetensors(path, tensors),
      (e: unknown) => e instanceof SafetensorsError && e.message.startsWith(`${path}: `) && message.test(e.message),
    );
  }
  assert.throws(() => writeSafetensors(path, [], { n: 3 as unknown as string }), /metadata "n" must be a string/);
});

test('malformed files: each error names the file and the problem', () => {
  const dir = tempDir();
  const p = (name: string) => join(dir, name);
  const f32x2 = new Uint8Array(8);
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'short',
      () => readSafetensors(writeShort(p('short'))),
      /truncated: 5 bytes, too short for the 8-byte header length/,
    ],
    [
      'long',
      () => readSafetensors(rawFile(p('long'), '{}', new Uint8Array(2), 1000n)),
      /header length 1000 exceeds the file \(4 bytes after the length\)/,
    ],
    ['json', () => readSafetensors(rawFile(p('json'), '{"w": {"dtype": ')), /header is not valid JSON/],
    ['array', () => readSafetensors(rawFile(p('array'), '[1, 2]')), /header must be a JSON object/],
    [
      'dtype',
      () =>
        readSafetensors(
          rawFile(p('dtype'), '{"w": {"dtype": "F8", "shape": [2], "data_offsets": [0, 2]}}', new Uint8Array(2)),
        ),
      /tensor "w": unknown dtype "F8"/,
    ],
    [
      'length',
      () =>
        readSafetensors(rawFile(p('length'), '{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}', f32x2)),
      /tensor "w": byte length 8 does not match shape \[3\] x F32 \(12 bytes\)/,
    ],
    [
      'overlap',
      () =>
        readSafetensors(
          rawFile(
            p('overlap'),
            '{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}',
            f32x2,
          ),
        ),
      /tensor "b": data_offsets \[4, 8\] overlap tensor "a" \[0, 8\]/,
    ],
    [
      'outside',
      () =>
        readSafetensors(rawFile(p('outside'), '{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}', f32x2)),
      /tensor "w": data_offsets \[0, 16\] outside the data section \(8 bytes\)/,
    ],
    [
      'meta',
      () => readSafetensors(rawFile(p('meta'), '{"__metadata__": {"epoch": 3}}')),
      /__metadata__\.epoch must be a string, got 3/,
    ],
    [
      'dup',
      () =>
        readSafetensors(
          rawFile(
            p('dup'),
            '{"w": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}, "w": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}}',
          ),
        ),
      /duplicate key "w"/,
    ],
    ['missing', () => readSafetensors(p('missing')), /cannot read the file/],
  ];
  for (const [name, run, message] of cases) {
    assert.throws(
      run,
      (e: unknown) => e instanceof SafetensorsError && e.message.startsWith(`${p(name)}: `) && message.test(e.message),
      name,
    );
  }
});

function writeShort(path: string): string {
  writeFileSync(path, Buffer.from([1, 2, 3, 4, 5]));
  return path;
}

test('a written file cut short is refused, naming the tensor that no longer fits', () => {
  const dir = tempDir();
  const path = join(dir, 'cut.safetensors');
  writeSafetensors(path, [
    { name: 'first', dtype: 'F32', shape: [4], data: new Float32Array(4) },
    { name: 'last', dtype: 'F32', shape: [4], data: new Float32Array(4) },
  ]);
  const whole = readFileSync(path);
  writeFileSync(path, whole.subarray(0, whole.length - 3));
  assert.throws(() => readSafetensors(path), {
    message: `${path}: tensor "last": data_offsets [16, 32] outside the data section (29 bytes)`,
  });
});

test('asking for a tensor that is not there names the file and the tensor', () => {
  const path = join(tempDir(), 'm.safetensors');
  writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [1], data: Float32Array.of(1) }]);
  const file = readSafetensors(path);
  for (const get of [() => file.float32('text.proj'), () => file.bytes('text.proj')]) {
    assert.throws(
      get,
      (e: unknown) =>
        e instanceof SafetensorsError &&
        e.code === 'NOT_FOUND' &&
        e.message === `${path}: tensor "text.proj": not in the file (1 tensors: w)`,
    );
  }
});
