// The server's view of a sweep between polls, on a real SQLite file written by the store: a poll
// returns only what is new (points after the last step sent, per run and key), nothing when
// nothing changed, a run's state changes, and each alert once.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveThresholds } from '../../src/report/options.js';
import { readFirstLoad } from '../../src/serve/first-load.js';
import { LiveHub } from '../../src/serve/hub.js';
import { SweepLive } from '../../src/serve/live.js';
import { SqliteStore } from '../../src/store/index.js';
import { ingestSteps, ROOT, tempDir } from '../helpers.js';

test('a poll carries only the new points, the changed runs and new alerts, once', () => {
  const dir = tempDir();
  const db = join(dir, 'sweeps.db');
  const store = SqliteStore.open(db);
  const sweep = store.registerSweep({ name: 's', specPath: null, spec: {}, specHash: 'x', runsDir: dir });
  store.registerRuns(sweep.pk, [
    { id: 'a', name: 'a', params: { lr: 1 }, ordinal: 0, runDir: join(dir, 'a') },
    { id: 'b', name: 'b', params: { lr: 2 }, ordinal: 1, runDir: join(dir, 'b') },
  ]);
  const [a, b] = store.listRuns(sweep.pk);
  store.claimRun(a!.pk, 'o', 'cpu0', null);
  const write = (runPk: number, from: number, to: number, loss: (s: number) => number) =>
    ingestSteps(store, runPk, { from, to, total: 100 }, (s) => [
      { key: 'train/loss', value: loss(s) },
      { key: 'logit_scale', value: 50 },
    ]);
  write(a!.pk, 0, 10, (s) => 3 - s * 0.1);

  const hub = new LiveHub(db, { inlineDiagnoses: true });
  const live = hub.sweep('s')!;
  const snap = live.snapshot(0);
  assert.deepEqual(snap.series['a']!['train/loss']!.x, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(
    snap.runs.map((r) => r.status),
    ['running', 'queued'],
  );
  // Diagnoses are deferred from the first load to the polls (a time budget per poll).
  const first = live.poll(1)!;
  assert.deepEqual([first.points, first.runs, first.diags.map((d) => d.run)], [[], [], ['a', 'b']]);
  assert.equal(live.poll(1.5), null, 'nothing changed');

  write(a!.pk, 10, 13, (s) => 3 - s * 0.1);
  const delta = live.poll(2)!;
  assert.deepEqual(
    delta.points.map((p) => [p.run, p.key, p.x]),
    [
      ['a', 'logit_scale', [10, 11, 12]],
      ['a', 'train/loss', [10, 11, 12]],
    ],
  );
  assert.deepEqual(
    delta.runs.map((r) => [r.id, r.last_step, r.latest['train/loss']]),
    [['a', 12, 3 - 12 * 0.1]],
  );
  assert.equal(live.poll(3), null, 'the same points are never sent twice');

  // A NaN loss: the point travels as the string "NaN" and the divergence alert is raised once.
  write(a!.pk, 13, 15, () => NaN);
  const nan = live.poll(4)!;
  assert.deepEqual(nan.points.find((p) => p.key === 'train/loss')!.y, ['NaN', 'NaN']);
  assert.deepEqual(
    nan.alerts.map((x) => [x.run, x.kind, x.step]),
    [['a', 'diverged', 13]],
  );
  write(a!.pk, 15, 16, () => NaN);
  assert.deepEqual(live.poll(5)!.alerts, [], 'an alert is raised once');

  // A state change alone is a changed run, with no points.
  store.claimRun(b!.pk, 'o', 'cpu1', null);
  const started = live.poll(6)!;
  assert.deepEqual(
    started.runs.map((r) => [r.id, r.status, r.slot]),
    [['b', 'running', 'cpu1']],
  );
  assert.deepEqual(started.points, []);
  hub.stop();
  store.close();
});

test('database files of every schema version are read as they are, never migrated', () => {
  const fixtures = join(ROOT, 'test', 'store', 'fixtures');
  const versions = readdirSync(fixtures).flatMap((f) =>
    /^v(\d+)\.db$/.exec(f) ? [Number(/^v(\d+)/.exec(f)![1])] : [],
  );
  assert.ok(versions.length >= 4, `fixtures: ${versions.join(', ')}`);
  for (const version of versions) {
    const file = join(fixtures, `v${version}.db`);
    const before = readFileSync(file);
    const hub = new LiveHub(file);
    const list = hub.list();
    assert.ok(list.length > 0, `v${version}: no sweep listed`);
    const live = hub.sweep(list[0]!.name)!;
    const snap = live.snapshot(0);
    assert.ok(snap.runs.length > 0, `v${version}: no run`);
    if (version < 3) assert.ok(snap.runs.every((r) => r.prune_rung === null));
    hub.stop();
    assert.ok(readFileSync(file).equals(before), `v${version}: the file changed`);
  }
});

test('a file that is not a clipsweep database is refused with a one-line error', () => {
  const file = join(tempDir(), 'other.db');
  writeFileSync(file, 'not a database at all, just text'.repeat(200));
  assert.throws(
    () => new LiveHub(file),
    (error: Error) => !error.message.includes('\n') && error.message.includes(file),
  );
});

test('diagnoses made in the worker thread arrive as a later delta, with their alerts once', async () => {
  const dir = tempDir();
  const db = join(dir, 'sweeps.db');
  const store = SqliteStore.open(db);
  const sweep = store.registerSweep({ name: 's', specPath: null, spec: {}, specHash: 'x', runsDir: dir });
  store.registerRuns(sweep.pk, [{ id: 'a', name: 'a', params: { lr: 1 }, ordinal: 0, runDir: join(dir, 'a') }]);
  const [a] = store.listRuns(sweep.pk);
  store.claimRun(a!.pk, 'o', 'cpu0', null);
  ingestSteps(store, a!.pk, { from: 0, to: 10, total: 100 }, (s) => [
    { key: 'train/loss', value: s < 8 ? 3 - s * 0.1 : NaN },
  ]);
  const hub = new LiveHub(db);
  const deltas: { diags: { run: string }[]; alerts: { run: string; kind: string; step: number | null }[] }[] = [];
  hub.subscribe({ sweep: 's', send: (_event, json) => deltas.push(JSON.parse(json)) });
  const started = Date.now();
  while (!deltas.some((d) => d.diags.length > 0) && Date.now() - started < 20_000) {
    hub.tick();
    await new Promise((r) => setTimeout(r, 50));
  }
  const withDiags = deltas.filter((d) => d.diags.length > 0);
  assert.equal(withDiags.length, 1, 'one delta carries the diagnosis');
  assert.deepEqual(
    withDiags[0]!.alerts.map((x) => [x.run, x.kind, x.step]),
    [['a', 'diverged', 8]],
  );
  assert.equal(hub.pendingDiagnoses(), false);
  hub.stop();
  store.close();
});

test('a first load read in the worker thread equals one read in place; points written meanwhile follow once', async () => {
  const dir = tempDir();
  const db = join(dir, 'sweeps.db');
  const store = SqliteStore.open(db);
  const sweep = store.registerSweep({ name: 's', specPath: null, spec: {}, specHash: 'x', runsDir: dir });
  store.registerRuns(
    sweep.pk,
    ['a', 'b', 'c'].map((id, ordinal) => ({
      id,
      name: id,
      params: { lr: ordinal + 1 },
      ordinal,
      runDir: join(dir, id),
    })),
  );
  const runs = store.listRuns(sweep.pk);
  const write = (runPk: number, from: number, to: number) =>
    ingestSteps(store, runPk, { from, to, total: 100 }, (s) => [
      { key: 'train/loss', value: 3 / (1 + s) },
      { key: 'logit_scale', value: 20 + (s % 7) },
    ]);
  for (const run of runs) {
    store.claimRun(run.pk, 'o', `cpu${run.ordinal}`, null);
    write(run.pk, 0, 50);
  }
  const inPlace = new LiveHub(db, { inlineDiagnoses: true });
  const expected = inPlace.sweep('s')!.snapshot(0);
  inPlace.stop();

  const hub = new LiveHub(db);
  let turns = 0;
  const spin = setInterval(() => turns++, 0);
  const live = (await hub.load('s'))!;
  clearInterval(spin);
  assert.ok(turns > 0, 'the event loop ran while the worker read');
  assert.equal(await hub.load('s'), live, 'loaded once');
  assert.deepEqual(live.snapshot(0).series, expected.series);
  assert.deepEqual(
    live.snapshot(0).runs.map((r) => [r.id, r.status, r.last_step]),
    expected.runs.map((r) => [r.id, r.status, r.last_step]),
  );
  hub.stop();

  // Planned on the runs as they were; read after run a logged 10 more steps: its series has
  // them, and the next poll sends none of them again.
  const reader = new LiveHub(db, { inlineDiagnoses: true });
  const row = reader.reader.sweeps()[0]!;
  const plan = SweepLive.plan(reader.reader, row);
  write(runs[0]!.pk, 50, 60);
  reader.reader.refreshKeys();
  const series = readFirstLoad(reader.reader, plan.job);
  const late = new SweepLive(reader.reader, row, resolveThresholds({}), { preloaded: { plan, series } });
  const lossX = late.snapshot(0).series['a']!['train/loss']!.x;
  assert.equal(lossX[lossX.length - 1], 59);
  const delta = late.poll(1)!;
  assert.deepEqual(delta.points, []);
  assert.deepEqual(
    delta.runs.map((r) => [r.id, r.last_step]),
    [['a', 59]],
  );
  write(runs[0]!.pk, 60, 62);
  assert.deepEqual(
    late
      .poll(2)!
      .points.filter((p) => p.run === 'a' && p.key === 'train/loss')
      .map((p) => p.x),
    [[60, 61]],
  );
  reader.stop();
  store.close();
});
