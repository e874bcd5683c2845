// Sweeping programs that do not speak the protocol: OpenCLIP's output, regex patterns, and a real
// PyTorch script using python/clipsweep_metrics.py.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, openStore, ROOT, tempDir, writeSweep } from '../helpers.js';

describe('command trainers', () => {
  it('reads OpenCLIP output (v3.3.0 and main) through the real queue', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const logs = join(dir, 'openclip-logs');
    writeSweep(
      dir,
      `name: openclip
trainer:
  command: [node, $OPENCLIP, --batch-size, "{batch_size}", --epochs, "{epochs}", --samples, "{samples}",
            --logs, ${JSON.stringify(logs)}, --name, "{oc_name}", --version, "{version}", "{extra}"]
  metrics: openclip
base: { epochs: 2, samples: 512, batch_size: 64, extra: "" }
configs:
  - { name: v33, version: v3.3.0, oc_name: a }
  - { name: main-nan, version: main, oc_name: b, extra: --nan-val }
  - { name: zero-steps, version: main, oc_name: c, batch_size: 1024 }
  - { name: garbled, version: main, oc_name: d, extra: --garble }
  - { name: again, version: main, oc_name: a, samples: 256 }
resources: { gpus: none, cpu_slots: 1 }
`,
    );
    const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
    assert.equal(result.exitCode, 1, result.all);
    const store = openStore(dir);
    const byName = new Map(store.listRuns(store.getSweep('openclip').pk).map((r) => [r.name, r]));
    const v33 = byName.get('v33')!;
    assert.equal(v33.status, 'completed');
    // 512 samples / batch 64 = 8 steps per epoch; lines at i = 0, 2, 4, 6 and the epoch's last (7).
    assert.deepEqual(
      store.series(v33.pk, 'train/loss').map((p) => p.step),
      [0, 2, 4, 6, 7, 8, 10, 12, 14, 15],
    );
    assert.equal(store.series(v33.pk, 'train/loss')[0]!.value, 4.1589);
    assert.equal(store.series(v33.pk, 'train/contrastive_loss').length, 10);
    assert.equal(store.series(v33.pk, 'logit_scale')[1]!.value, 14.186);
    assert.equal(store.series(v33.pk, 'train/samples_per_sec')[0]!.value, 252.627);
    assert.equal(store.series(v33.pk, 'lr')[0]!.value, 0.00005);
    // Evaluations after epochs 1 and 2, at the last step of each epoch, with full precision.
    assert.deepEqual(
      store.series(v33.pk, 'val/loss').map((p) => [p.step, p.value]),
      [
        [7, 3],
        [15, 2.9],
      ],
    );
    assert.deepEqual(
      store.series(v33.pk, 'val/i2t_R@1').map((p) => p.value),
      [0.0156, 0.0312],
    );
    assert.equal(store.series(v33.pk, 'val/t2i_median_rank')[0]!.value, 31);
    assert.equal(v33.totalSteps, 16);
    const info = store.events(v33.pk).find((e) => e.kind === 'info');
    assert.deepEqual(
      info?.payload.batch_dependent_metrics,
      ['val/loss'],
      'clip_val_loss is marked batch-size dependent',
    );

    const nan = byName.get('main-nan')!;
    assert.equal(nan.status, 'completed');
    assert.ok(Number.isNaN(store.series(nan.pk, 'val/loss').at(-1)!.value));

    const zero = byName.get('zero-steps')!;
    assert.equal(zero.status, 'completed');
    assert.equal(store.series(zero.pk, 'train/loss').length, 0);
    assert.equal(store.series(zero.pk, 'val/loss').length, 1, 'both evaluations land on step 0');
    assert.match(result.all, /zero-steps: no training step was logged/);

    assert.match(result.all, /garbled: 1 line\(s\) looked like OpenCLIP metrics but did not parse/);
    assert.match(
      readFileSync(join(byName.get('garbled')!.runDir, 'ingest-problems.log'), 'utf8'),
      /Train Epoch:" line without/,
    );

    const again = byName.get('again')!;
    assert.equal(again.status, 'failed');
    assert.equal(again.exitCode, 0);
    assert.match(again.reason ?? '', /Experiment already exists/);
    store.close();
  });

  it('reads any program with regex patterns', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    // No braces in the program: they would be placeholders (write {{ and }} for literal ones).
    const program =
      "for (let i = 0; i < 5; i++) console.log('it ' + i * 10 + ' | loss=' + (1 / (i + 1)).toFixed(3) + ' acc=' + (i === 2 ? 'bad' : i / 10)); console.error('epoch 1 val_loss nan');";
    writeSweep(
      dir,
      `name: regex
trainer:
  command: [node, -e, ${JSON.stringify(program)}]
  metrics: regex
  patterns:
    - { regex: "^it (?<step>\\\\d+) \\\\| loss=(?<loss>\\\\S+) acc=(?<acc>\\\\S+)$", metrics: { train/loss: loss, train/acc: acc }, step: step, stream: stdout }
    - { regex: "val_loss (?<v>\\\\S+)", metrics: { val/loss: v }, stream: stderr }
configs: [{ name: only }]
resources: { gpus: none }
`,
    );
    const result = await cli(['run', 'sweep.yaml'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.all);
    const store = openStore(dir);
    const [run] = store.listRuns(store.getSweep('regex').pk);
    assert.deepEqual(
      store.series(run!.pk, 'train/loss').map((p) => [p.step, p.value]),
      [
        [0, 1],
        [10, 0.5],
        [30, 0.25],
        [40, 0.2],
      ],
    );
    assert.ok(Number.isNaN(store.series(run!.pk, 'val/loss')[0]!.value));
    assert.equal(store.series(run!.pk, 'val/loss')[0]!.step, 40, 'a line without a step belongs to the last step seen');
    assert.match(result.all, /1 matching line\(s\) had values that did not parse/);
    store.close();
  });

  it(
    'sweeps a real PyTorch script over two learning rates, into the store and the report',
    { timeout: 180_000 },
    async () => {
      assert.ok(existsSync('/usr/bin/python3'), 'Debian python3 is needed (npm test installs python3-torch)');
      const dir = tempDir();
      const result = await cli(['run', join(ROOT, 'sweeps/pytorch-example.yaml'), '--runs-dir', join(dir, 'runs')], {
        cwd: dir,
      });
      assert.equal(result.exitCode, 0, result.all);
      const store = openStore(dir);
      const runs = store.listRuns(store.getSweep('pytorch-example').pk);
      assert.deepEqual(
        runs.map((r) => r.params.lr),
        [1e-3, 1e-2],
      );
      for (const run of runs) {
        assert.equal(run.status, 'completed', run.stderrTail ?? '');
        assert.equal(run.totalSteps, 64);
        assert.equal(store.series(run.pk, 'train/loss').length, 17);
        assert.equal(store.series(run.pk, 'val/loss').length, 4);
        assert.ok(store.series(run.pk, 'logit_scale').every((p) => p.value <= 100));
        assert.ok(existsSync(join(run.runDir, 'checkpoints', 'last.pt')));
      }
      store.close();
      const report = await cli(
        ['report', '--db', join(dir, 'runs', 'sweeps.db'), '--format', 'json', '--out', join(dir, 'report')],
        { cwd: dir },
      );
      assert.equal(report.exitCode, 0, report.all);
      const model = JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8'));
      assert.equal(model.runs.length, 2);
      for (const run of model.runs) {
        assert.equal(run.status, 'completed');
        assert.equal(typeof run.diagnostics.best_val_step, 'number');
        assert.equal(typeof run.diagnostics.scale_final, 'number');
      }
    },
  );
});
