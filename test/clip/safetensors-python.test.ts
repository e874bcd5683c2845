// Interop with PyTorch: files written by hand in Python (struct + json; the safetensors package is
// not installed) with F16/BF16 bits computed by torch, and our files read back by torch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { f16ToF32, f32ToBf16, f32ToF16, readSafetensors, writeSafetensors } from '../../src/clip/safetensors.js';

const PYTHON = '/usr/bin/python3';

function python(script: string, ...args: string[]): unknown {
  assert.ok(existsSync(PYTHON), 'Debian python3 is needed (npm test installs python3-torch)');
  return JSON.parse(execFileSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

const bitsOf = (x: Float32Array) => Array.from(new Int32Array(x.buffer, x.byteOffset, x.length));
/** Copies first: a tensor's bytes may sit at an odd offset in the file. */
const u16 = (bytes: Uint8Array) => Array.from(new Uint16Array(bytes.slice().buffer));

// Random values over many scales (F16 subnormals to overflow) plus the edge cases by hand.
const WRITE_BY_HAND = String.raw`
import json, struct, sys, torch
g = torch.Generator().manual_seed(0)
edges = [0.0, -0.0, 65504, 65519, 65520, 1e6, -1e6, 2**-25, 3 * 2**-25, 2**-24, 1e-10, 1 + 2**-11,
         float('inf'), float('-inf'), float('nan'), 3.4e38, 1 + 2**-8, 1 + 3 * 2**-8]
src = torch.cat([torch.randn(2000, generator=g) * s for s in (1e-7, 1e-5, 1e-3, 1.0, 1e3, 3e4, 1e38)]
                + [torch.tensor(edges, dtype=torch.float32)])
n = src.numel()
h = src.to(torch.float16).view(torch.int16)
b = src.to(torch.bfloat16).view(torch.int16)
ids = [3, -1, 2**40, -2**62]
blobs = [
    ('pad', 'U8', [1], bytes([7])),  # pushes every later tensor to an odd offset
    ('src', 'F32', [n], struct.pack('<%df' % n, *src.tolist())),
    ('half', 'F16', [n], struct.pack('<%dh' % n, *h.tolist())),
    ('brain', 'BF16', [n // 2, 2] if n % 2 == 0 else [n], struct.pack('<%dh' % n, *b.tolist())),
    ('ids', 'I64', [2, 2], struct.pack('<4q', *ids)),
]
header, data = {'__metadata__': {'format': 'pt', 'by': 'python'}}, b''
for name, dtype, shape, raw in blobs:
    header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + len(raw)]}
    data += raw
text = json.dumps(header).encode()
text += b' ' * (-len(text) % 8)
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text + data)
print(json.dumps({
    'src': src.view(torch.int32).tolist(),
    'half': h.view(torch.float16).float().view(torch.int32).tolist(),
    'brain': b.view(torch.bfloat16).float().view(torch.int32).tolist(),
    'ids': ids,
}))
`;

test('a file written by hand in Python with torch-computed F16/BF16 is decoded to the values torch reports', () => {
  const path = join(tempDir(), 'py.safetensors');
  const torch = python(WRITE_BY_HAND, path) as { src: number[]; half: number[]; brain: number[]; ids: number[] };
  const file = readSafetensors(path);
  assert.deepEqual(file.metadata, { format: 'pt', by: 'python' });
  assert.deepEqual(
    file.tensors.map((t) => t.name),
    ['pad', 'src', 'half', 'brain', 'ids'],
  );
  assert.equal(file.get('half')!.begin % 2, 1, 'the F16 tensor sits at an odd offset');
  const src = file.float32('src');
  assert.equal(src.length, 2000 * 7 + 18);
  assert.deepEqual(bitsOf(src), torch.src);
  assert.deepEqual(bitsOf(file.float32('half')), torch.half, 'F16 decodes as torch .float() does');
  assert.deepEqual(bitsOf(file.float32('brain')), torch.brain, 'BF16 decodes as torch .float() does');
  // Encoding: our F32 -> F16/BF16 gives the bits torch's .to(float16/bfloat16) gave. NaNs compare
  // as NaN: torch's vectorised BF16 cast writes NaN as 0xffff, ours keeps the payload.
  const halfNaN = (h: number) => ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0 ? 'NaN' : h);
  const bf16NaN = (h: number) => ((h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0 ? 'NaN' : h);
  const torchHalf = u16(file.bytes('half')).map(halfNaN);
  const torchBf16 = u16(file.bytes('brain')).map(bf16NaN);
  assert.ok(torchHalf.includes('NaN') && torchBf16.includes('NaN'), 'a NaN was compared');
  assert.deepEqual(Array.from(f32ToF16(src), halfNaN), torchHalf);
  assert.deepEqual(Array.from(f32ToBf16(src), bf16NaN), torchBf16);
  assert.deepEqual(Array.from(file.float32('ids')), torch.ids);
  assert.deepEqual(file.get('brain')!.shape, [(2000 * 7 + 18) / 2, 2]);
});

const READ_WITH_TORCH = String.raw`
import json, struct, sys, torch
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n].decode('utf-8'))
data = raw[8 + n:]
kinds = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64, 'U8': torch.uint8}
out = {'padded': n % 8 == 0, 'metadata': header.pop('__metadata__', None), 'order': list(header), 'tensors': {}}
for name, e in header.items():
    begin, end = e['data_offsets']
    t = torch.frombuffer(bytearray(data[begin:end]), dtype=kinds[e['dtype']]).reshape(e['shape'])
    values = t.float().view(torch.int32).flatten().tolist() if t.is_floating_point() else [str(v) for v in t.flatten().tolist()]
    out['tensors'][name] = {'dtype': str(t.dtype), 'shape': list(t.shape), 'values': values}
print(json.dumps(out))
`;

test('bytes written by the TS writer are read back by torch identically', () => {
  const path = join(tempDir(), 'ts.safetensors');
  const values = Float32Array.from({ length: 24 }, (_, i) => (i % 2 ? -1 : 1) * Math.exp(i - 12) * 1.2345);
  values[5] = 65520; // rounds to F16 infinity
  values[6] = 2 ** -25; // rounds to F16 zero (tie to even)
  const ids = new BigInt64Array([0n, -7n, 2n ** 53n + 1n, -(2n ** 63n)]);
  writeSafetensors(
    path,
    [
      { name: 'z.pad', dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 255) },
      { name: 'w.f32', dtype: 'F32', shape: [4, 6], data: values },
      { name: 'w.f16', dtype: 'F16', shape: [2, 3, 4], data: values },
      { name: 'w.bf16', dtype: 'BF16', shape: [24], data: values },
      { name: 'ids', dtype: 'I64', shape: [4], data: new Uint8Array(ids.buffer) },
    ],
    { format: 'pt', step: '1200' },
  );
  const torch = python(READ_WITH_TORCH, path) as {
    padded: boolean;
    metadata: unknown;
    order: string[];
    tensors: Record<string, { dtype: string; shape: number[]; values: Array<number | string> }>;
  };
  assert.equal(torch.padded, true);
  assert.deepEqual(torch.metadata, { format: 'pt', step: '1200' });
  assert.deepEqual(torch.order, ['z.pad', 'w.f32', 'w.f16', 'w.bf16', 'ids']);
  const t = torch.tensors;
  assert.deepEqual(t['z.pad'], { dtype: 'torch.uint8', shape: [3], values: ['1', '2', '255'] });
  assert.deepEqual(t['w.f32'], { dtype: 'torch.float32', shape: [4, 6], values: bitsOf(values) });
  const ours = readSafetensors(path);
  assert.deepEqual(t['w.f16'], {
    dtype: 'torch.float16',
    shape: [2, 3, 4],
    values: bitsOf(f16ToF32(f32ToF16(values))),
  });
  assert.deepEqual(t['w.f16']!.values, bitsOf(ours.float32('w.f16')));
  assert.equal(ours.float32('w.f16')[5], Infinity);
  assert.ok(Object.is(ours.float32('w.f16')[6], 0));
  assert.deepEqual(t['w.bf16']!.values, bitsOf(ours.float32('w.bf16')));
  assert.equal(t['w.bf16']!.dtype, 'torch.bfloat16');
  assert.deepEqual(t['ids'], { dtype: 'torch.int64', shape: [4], values: Array.from(ids, String) });
});
