// The store contract, one suite for every implementation of the role interfaces (as Optuna runs
// pytest_storages.py against every storage): what src/store/interfaces.ts promises, checked
// through the interfaces alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipsweepError, NotFoundError } from '../../src/errors.js';
import type { StoreReader, SweepStore } from '../../src/store/interfaces.js';
import type { IngestBatch, RunRecord } from '../../src/store/types.js';

export interface StoreSubject {
  /** A new, empty store; `another` opens a second writer on the same data, `reader` a reader. */
  create(): { store: SweepStore; another: () => SweepStore; reader: () => StoreReader };
}

const registration = (name: string) => ({
  name,
  specPath: `/specs/${name}.yaml`,
  spec: { grid: { lr: [1, 2] } },
  specHash: 'h1',
  runsDir: '/runs',
});

function withSweep(subject: StoreSubject) {
  const made = subject.create();
  const sweep = made.store.registerSweep(registration('s'));
  made.store.registerRuns(sweep.pk, [
    { id: 'r1', name: 'one', params: { lr: 1 }, ordinal: 0, runDir: '/runs/s/r1' },
    { id: 'r2', name: 'two', params: { lr: 2 }, ordinal: 1, runDir: '/runs/s/r2' },
  ]);
  const [r1, r2] = made.store.listRuns(sweep.pk) as [RunRecord, RunRecord];
  return { ...made, sweepPk: sweep.pk, r1: r1.pk, r2: r2.pk };
}

const batch = (runPk: number, extra: Partial<IngestBatch> = {}): IngestBatch => ({
  runPk,
  attempt: 1,
  metrics: [
    { key: 'train/loss', step: 0, value: 2.5, time: 1 },
    { key: 'train/loss', step: 1, value: NaN, time: 2 },
    { key: 'train/loss', step: 2, value: 1.5, epoch: 1, time: 3 },
    { key: 'grad', step: 1, value: Infinity, time: 2 },
    { key: 'neg', step: 1, value: -Infinity, time: 2 },
  ],
  events: [{ offset: 0, kind: 'started', step: null, payload: { total_steps: 10 }, time: 0 }],
  offset: 100,
  lines: 6,
  badLines: 1,
  totalSteps: 10,
  lastStep: 2,
  ...extra,
});

const history = (reader: StoreReader, runPk: number) =>
  reader.transitions(runPk).map((t) => `${t.from ?? '-'}>${t.to}#${t.attempt}`);

export function storeContract(name: string, subject: StoreSubject): void {
  describe(`store contract: ${name}`, () => {
    it('registers a sweep once, updates its spec, and finds it by name or as the latest', () => {
      const { store } = subject.create();
      assert.equal(store.latestSweep(), undefined);
      assert.deepEqual(store.listSweeps(), []);
      const first = store.registerSweep(registration('a'));
      assert.equal(first.name, 'a');
      assert.deepEqual(first.spec, { grid: { lr: [1, 2] } });
      const b = store.registerSweep(registration('b'));
      const again = store.registerSweep({ ...registration('a'), specHash: 'h2', spec: { changed: true } });
      assert.equal(again.pk, first.pk, 'the same sweep, not a second one');
      assert.equal(store.getSweep('a').specHash, 'h2');
      assert.deepEqual(store.getSweep('a').spec, { changed: true });
      assert.equal(store.findSweep('nope'), undefined);
      assert.throws(
        () => store.getSweep('nope'),
        (e: unknown) => e instanceof NotFoundError && /no sweep named "nope"/.test(e.message),
      );
      assert.deepEqual(
        store.listSweeps().map((s) => s.name),
        ['a', 'b'],
        'oldest first',
      );
      assert.ok([first.pk, b.pk].includes(store.latestSweep()!.pk));
    });

    it('registers runs as queued, once, keeping the state of known runs', () => {
      const { store, sweepPk, r1 } = withSweep(subject);
      assert.deepEqual(
        store.listRuns(sweepPk).map((r) => [r.id, r.status, r.attempt]),
        [
          ['r1', 'queued', 0],
          ['r2', 'queued', 0],
        ],
      );
      assert.deepEqual(history(store, r1), ['->queued#0']);
      assert.ok(store.claimRun(r1, 'me', 'cpu0', null));
      store.registerRuns(sweepPk, [{ id: 'r1', name: 'renamed', params: { lr: 1 }, ordinal: 5, runDir: '/elsewhere' }]);
      const run = store.getRun(r1);
      assert.equal(run.status, 'running');
      assert.equal(run.name, 'renamed');
      assert.equal(run.ordinal, 5);
      assert.equal(run.runDir, '/runs/s/r1', 'a running run keeps its folder');
      assert.equal(store.listRuns(sweepPk).length, 2);
      assert.deepEqual(store.listSweeps()[0]!.counts, { queued: 1, running: 1 });
      assert.equal(store.listSweeps()[0]!.total, 2);
      assert.throws(() => store.getRun(99_999), NotFoundError);
    });

    it('pages through a sweep in listRuns order, with writes between pages', () => {
      const { store, sweepPk } = withSweep(subject);
      store.registerRuns(
        sweepPk,
        (function* () {
          // Ordinals tie, so paging must use the key as well as the ordinal.
          for (let i = 0; i < 23; i++)
            yield { id: `p${i}`, name: `p${i}`, params: { i }, ordinal: Math.floor(i / 3), runDir: `/runs/s/p${i}` };
        })(),
      );
      const expected = store.listRuns(sweepPk).map((r) => r.id);
      assert.equal(expected.length, 25);
      const seen: string[] = [];
      for (const run of store.eachRun(sweepPk, 4)) {
        seen.push(run.id);
        if (run.status === 'queued') assert.ok(store.claimRun(run.pk, 'me', 'cpu0', null));
      }
      assert.deepEqual(seen, expected);
      assert.ok(store.listRuns(sweepPk).every((r) => r.status === 'running'));
      assert.deepEqual(
        [...store.eachRun(sweepPk, 25)].map((r) => r.id),
        expected,
        'a last page exactly full',
      );
      assert.deepEqual([...store.eachRun(store.registerSweep(registration('empty')).pk)], []);
    });

    it('moves runs by compare-and-set, across two writers, with every transition in the history', () => {
      const { store, another, r1 } = withSweep(subject);
      const other = another();
      try {
        assert.equal(store.claimRun(r1, 'a', 'cpu0', null), true);
        assert.equal(other.claimRun(r1, 'b', 'cpu1', null), false, 'a claimed run cannot be claimed again');
        assert.equal(other.finishRun(r1, 'b', { status: 'completed' }), false, 'only the owner finishes it');
        assert.equal(
          store.finishRun(r1, 'a', {
            status: 'failed',
            failureKind: 'exit',
            exitCode: 3,
            reason: 'exited with code 3',
            stderrTail: 'boom',
          }),
          true,
        );
        assert.equal(store.finishRun(r1, 'a', { status: 'completed' }), false, 'a finished run does not finish twice');
        const failed = other.getRun(r1);
        assert.deepEqual(
          [failed.status, failed.exitCode, failed.failureKind, failed.stderrTail],
          ['failed', 3, 'exit', 'boom'],
        );
        assert.equal(store.requeueRun(r1, ['failed'], 'retry'), true);
        assert.equal(
          store.getRun(r1).reason,
          'exited with code 3',
          'the last outcome stays readable until the next claim',
        );
        assert.equal(store.requeueRun(r1, ['failed'], 'retry'), false, 'not failed any more');
        assert.equal(other.claimRun(r1, 'b', 'cpu1', 0), true);
        const run = store.getRun(r1);
        assert.deepEqual(
          [run.attempt, run.owner, run.slot, run.gpu, run.reason, run.exitCode],
          [2, 'b', 'cpu1', 0, null, null],
          'a new attempt starts clean',
        );
        assert.deepEqual(history(store, r1), [
          '->queued#0',
          'queued>running#1',
          'running>failed#1',
          'failed>queued#1',
          'queued>running#2',
        ]);
        assert.ok(
          store.transitions(r1).every((t, i, all) => i === 0 || t.at >= all[i - 1]!.at),
          'stamped in order',
        );
      } finally {
        other.close();
      }
    });

    it('refuses impossible transitions before touching the database', () => {
      const { store, r1 } = withSweep(subject);
      assert.throws(
        () => store.finishRun(r1, 'me', { status: 'queued' as never }),
        (e: unknown) => e instanceof ClipsweepError && e.code === 'STORE',
      );
      assert.throws(() => store.requeueRun(r1, ['queued'], 'x'), /invalid run transition queued -> queued/);
      assert.deepEqual(history(store, r1), ['->queued#0']);
    });

    it('requeues a running run only for its owner, and ends every end state', () => {
      const { store, r1 } = withSweep(subject);
      for (const status of ['completed', 'failed', 'interrupted', 'infeasible', 'pruned'] as const) {
        assert.ok(store.claimRun(r1, 'me', 'cpu0', null));
        assert.equal(store.requeueRun(r1, ['running'], 'x', 'other'), false, 'not the owner');
        assert.equal(store.requeueRun(r1, ['running'], 'oom: bigger GPU', 'me'), true);
        assert.ok(store.claimRun(r1, 'me', 'cpu0', null));
        assert.ok(store.finishRun(r1, 'me', { status, ...(status === 'pruned' ? { pruneRung: 2 } : {}) }));
        assert.equal(store.getRun(r1).status, status);
        assert.ok(store.requeueRun(r1, [status], `again after ${status}`));
      }
      assert.equal(store.getRun(r1).attempt, 10);
    });

    it('records pid and job id only for the owner of a running run; the job id outlives the run', () => {
      const { store, r1 } = withSweep(subject);
      store.setPid(r1, 'me', 42);
      assert.equal(store.getRun(r1).pid, null, 'not running: ignored');
      assert.ok(store.claimRun(r1, 'me', 'cpu0', null));
      store.setPid(r1, 'other', 41);
      store.setPid(r1, 'me', 42);
      store.setJobId(r1, 'me', '1234');
      assert.deepEqual([store.getRun(r1).pid, store.getRun(r1).jobId], [42, '1234']);
      assert.ok(store.finishRun(r1, 'me', { status: 'completed', exitCode: 0 }));
      assert.deepEqual([store.getRun(r1).pid, store.getRun(r1).jobId], [null, '1234']);
    });

    it("hands a dead orchestrator's running run over, or marks it orphaned, only while it still holds it", () => {
      const { store, r1, r2 } = withSweep(subject);
      assert.ok(store.claimRun(r1, 'dead', 'cpu0', null));
      assert.ok(store.claimRun(r2, 'dead', 'cpu1', null));
      assert.equal(store.transferRun(r1, 'someone-else', 'me', 'x'), false);
      assert.equal(store.transferRun(r1, 'dead', 'me', 're-attached to job 7'), true);
      assert.equal(store.getRun(r1).owner, 'me');
      assert.deepEqual(history(store, r1).slice(-1), ['running>running#1']);
      assert.equal(store.markOrphaned(r1, 'dead', 'died'), false, "no longer the dead one's");
      assert.equal(store.markOrphaned(r2, 'dead', 'the sweep process died'), true);
      const run = store.getRun(r2);
      assert.deepEqual(
        [run.status, run.failureKind, run.reason],
        ['interrupted', 'orphaned', 'the sweep process died'],
      );
    });

    it("keeps a sorted list of excluded GPUs, and a reset forgets a run's data", () => {
      const { store, r1 } = withSweep(subject);
      assert.deepEqual(store.excludeGpu(r1, 3), [3]);
      assert.deepEqual(store.excludeGpu(r1, 1), [1, 3]);
      assert.deepEqual(store.excludeGpu(r1, 3), [1, 3]);
      store.ingest([batch(r1)]);
      store.resetRunData(r1);
      const run = store.getRun(r1);
      assert.deepEqual(
        [run.metricsOffset, run.metricLines, run.badLines, run.totalSteps, run.lastStep, run.excludedGpus],
        [0, 0, 0, null, null, []],
      );
      assert.equal(store.countMetrics(r1), 0);
      assert.deepEqual(store.events(r1), []);
    });

    it('tracks orchestrators: registered, beating, ended', () => {
      const { store } = subject.create();
      assert.equal(store.getOrchestrator('o1'), undefined);
      store.registerOrchestrator({ id: 'o1', pid: 123, host: 'h' });
      const started = store.getOrchestrator('o1')!;
      assert.deepEqual([started.pid, started.host, started.endedAt], [123, 'h', null]);
      store.heartbeat('o1');
      assert.ok(store.getOrchestrator('o1')!.heartbeatAt >= started.heartbeatAt);
      store.endOrchestrator('o1');
      assert.notEqual(store.getOrchestrator('o1')!.endedAt, null);
    });

    it('ingests idempotently, keeps NaN and infinities, never rewinds the offset', () => {
      const { store, r1 } = withSweep(subject);
      store.ingest([]);
      store.ingest([batch(r1)]);
      store.ingest([batch(r1, { offset: 50, lines: 0, badLines: 0 })]);
      assert.equal(store.countMetrics(r1), 5);
      const loss = store.series(r1, 'train/loss');
      assert.deepEqual(
        loss.map((p) => p.step),
        [0, 1, 2],
      );
      assert.ok(Number.isNaN(loss[1]!.value));
      assert.deepEqual([loss[2]!.epoch, loss[2]!.time], [1, 3]);
      assert.equal(store.series(r1, 'grad')[0]!.value, Infinity);
      assert.equal(store.series(r1, 'neg')[0]!.value, -Infinity);
      assert.deepEqual(store.series(r1, 'never'), []);
      assert.deepEqual(
        store.events(r1).map((e) => [e.offset, e.kind, e.payload]),
        [[0, 'started', { total_steps: 10 }]],
        'an event is identified by its offset',
      );
      const run = store.getRun(r1);
      assert.deepEqual(
        [run.metricsOffset, run.metricLines, run.badLines, run.totalSteps, run.lastStep],
        [100, 6, 1, 10, 2],
      );
      store.ingest([
        batch(r1, {
          metrics: [{ key: 'train/loss', step: 0, value: 0.5, time: 9 }],
          events: [],
          offset: 120,
          lines: 1,
          badLines: 0,
        }),
      ]);
      assert.equal(store.series(r1, 'train/loss')[0]!.value, 0.5, 'a later value replaces an earlier one');
      assert.deepEqual(store.metricKeys(r1), ['grad', 'neg', 'train/loss']);
    });

    it('writes a list of batches together or not at all', () => {
      const { store, r1, r2 } = withSweep(subject);
      const unserialisable = {
        offset: 7,
        kind: 'note',
        step: null,
        payload: { big: 1n } as unknown as Record<string, unknown>,
        time: 0,
      };
      assert.throws(() => store.ingest([batch(r1), batch(r2, { events: [unserialisable] })]));
      assert.equal(store.countMetrics(r1), 0, "the first run's rows were rolled back");
      assert.equal(store.getRun(r1).metricsOffset, 0);
      store.ingest([batch(r1)]);
      assert.deepEqual(
        store.metricKeys(r1),
        ['grad', 'neg', 'train/loss'],
        'keys written after a rolled-back batch are found',
      );
      assert.equal(store.seriesColumns(r1, ['train/loss']).get('train/loss')!.steps.length, 3);
    });

    it('reads whole series as columns, latest values and extremes, and streams every row', () => {
      const { store, sweepPk, r1, r2 } = withSweep(subject);
      store.ingest([batch(r1), batch(r2, { metrics: [{ key: 'train/loss', step: 5, value: 3, time: 1 }] })]);
      const columns = store.seriesColumns(r1, ['train/loss', 'grad', 'never']);
      assert.deepEqual([...columns.keys()], ['train/loss', 'grad']);
      assert.deepEqual(columns.get('train/loss')!.steps, [0, 1, 2]);
      assert.deepEqual(columns.get('train/loss')!.values, [2.5, NaN, 1.5]);
      assert.deepEqual(columns.get('grad')!.values, [Infinity]);
      const latest = store.latestMetrics(sweepPk);
      assert.deepEqual(latest.get(r1)!.get('train/loss'), { step: 2, value: 1.5 });
      assert.deepEqual(latest.get(r2)!.get('train/loss'), { step: 5, value: 3 });
      assert.deepEqual(store.metricExtremes(sweepPk).get(r1)!.get('train/loss'), { min: 1.5, max: 2.5 }, 'NaN ignored');
      const rows = [...store.iterateMetrics(sweepPk)];
      assert.equal(rows.length, 6);
      assert.deepEqual(
        rows.map((r) => `${r.runId}:${r.key}:${r.step}`),
        ['r1:grad:1', 'r1:neg:1', 'r1:train/loss:0', 'r1:train/loss:1', 'r1:train/loss:2', 'r2:train/loss:5'],
      );
      assert.equal(rows[1]!.value, -Infinity);
    });

    it('gives a reader every committed write, and copies it cannot change', () => {
      const { store, reader, sweepPk, r1 } = withSweep(subject);
      const read = reader();
      try {
        assert.equal(read.listRuns(sweepPk).length, 2);
        assert.ok(store.claimRun(r1, 'me', 'cpu0', null));
        store.ingest([batch(r1)]);
        const run = read.getRun(r1);
        assert.equal(run.status, 'running');
        assert.equal(read.countMetrics(r1), 5);
        assert.deepEqual(read.metricKeys(r1), ['grad', 'neg', 'train/loss'], 'keys added after the reader opened');
        run.params.lr = 99;
        run.excludedGpus.push(7);
        assert.deepEqual([read.getRun(r1).params, read.getRun(r1).excludedGpus], [{ lr: 1 }, []]);
        assert.equal(read.getSweep('s').pk, sweepPk);
      } finally {
        read.close();
      }
    });
  });
}
