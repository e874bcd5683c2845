import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPretrain } from '../../src/trainer/pretrain.js';
import { loadCheckpoint } from '../../src/trainer/checkpoint.js';
import { useBackend } from './fixtures.js';

before(useBackend);

const small = { pretrainTrain: 48, pretrainVal: 16, finetuneTrain: 16, finetuneVal: 16 };
const recipe = { epochs: 1, batch_size: 16, warmup: 1, eval_every: 100, log_every: 1 };

test('runPretrain builds the base model once, caches it, and is deterministic', async () => {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-pre-a-'));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), 'clipsweep-pre-b-'));
  const lines: string[] = [];
  const first = await runPretrain({ runsDir: a, preset: 'micro', recipe, embeddedSizes: small, log: (l) => lines.push(l) });
  assert.ok(first.checkpointPath.startsWith(path.join(a, 'models')));
  assert.ok(lines.some((l) => l.includes('base model written')));
  const mtime = fs.statSync(first.checkpointPath).mtimeMs;
  const again = await runPretrain({ runsDir: a, preset: 'micro', recipe, embeddedSizes: small });
  assert.equal(again.checkpointPath, first.checkpointPath);
  assert.equal(fs.statSync(again.checkpointPath).mtimeMs, mtime, 'cached, not rebuilt');
  const other = await runPretrain({ runsDir: b, preset: 'micro', recipe, embeddedSizes: small });
  const [ca, cb] = [loadCheckpoint(first.checkpointPath), loadCheckpoint(other.checkpointPath)];
  assert.equal(ca.manifest.state.step, 3);
  assert.deepEqual(Array.from(ca.tensors.get('p:text.proj')!.dataSync()), Array.from(cb.tensors.get('p:text.proj')!.dataSync()));
  assert.ok(ca.manifest.vocab.length > 4);
  for (const d of [a, b]) fs.rmSync(d, { recursive: true, force: true });
});
