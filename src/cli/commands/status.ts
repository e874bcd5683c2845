import { NotFoundError } from '../../errors.js';
import { formatMs } from '../../executor/classify.js';
import { querySlurmStates } from '../../executor/slurm/query.js';
import { fmtNumber } from '../../progress/format.js';
import { openReader, type StoreReader } from '../../store/index.js';
import type { RunRecord, SweepRecord } from '../../store/types.js';
import { resolveDb, resolveRunsDir } from '../defaults.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from './run.js';
import { formatOccupancy, gpuOccupancy } from './status-gpus.js';

export interface StatusOptions {
  sweep?: string | undefined;
  json: boolean;
  runsDir?: string | undefined;
  db?: string | undefined;
}

/** Which direction is better for a metric, from its name; null when the name does not say. */
export function betterDirection(key: string): 'min' | 'max' | null {
  if (/loss|rank|gap/i.test(key)) return 'min';
  if (/R@\d+|recall|acc/i.test(key)) return 'max';
  return null;
}

/** Read-only: status, ls, export and cancel never create, initialise or migrate the database. */
export function openExistingStore(
  options: { runsDir?: string | undefined; db?: string | undefined },
  cwd: string,
): StoreReader {
  return openReader(resolveDb(options.db, resolveRunsDir(options.runsDir, cwd), cwd));
}

export function pickSweep(store: StoreReader, name: string | undefined): SweepRecord {
  if (name !== undefined) return store.getSweep(name);
  const latest = store.latestSweep();
  if (!latest) throw new NotFoundError(`no sweeps in ${store.file}`);
  return latest;
}

export async function statusCommand(options: StatusOptions, io: Io): Promise<number> {
  const store = openExistingStore(options, io.cwd);
  try {
    const sweep = pickSweep(store, options.sweep);
    const runs = store.listRuns(sweep.pk);
    const latest = store.latestMetrics(sweep.pk);
    const extremes = store.metricExtremes(sweep.pk);
    // One squeue call for the jobs of every running run (null: no SLURM here to ask).
    const slurm = await querySlurmStates(
      runs.flatMap((r) => (r.status === 'running' && r.jobId !== null ? [r.jobId] : [])),
    );
    const gpus = await gpuOccupancy(runs);
    const rows = runs.map((run) => {
      const last = Object.fromEntries([...(latest.get(run.pk) ?? new Map())].map(([k, v]) => [k, v.value]));
      const best: Record<string, number> = {};
      for (const [key, range] of extremes.get(run.pk) ?? new Map<string, { min: number; max: number }>()) {
        const direction = betterDirection(key);
        if (direction !== null) best[key] = range[direction];
      }
      return { run, last, best };
    });
    if (options.json) {
      io.out.write(
        `${JSON.stringify({
          sweep: {
            name: sweep.name,
            spec_path: sweep.specPath,
            runs_dir: sweep.runsDir,
            created_at: iso(sweep.createdAt),
            updated_at: iso(sweep.updatedAt),
            counts: countStatuses(runs),
          },
          runs: rows.map(({ run, last, best }) => ({
            id: run.id,
            name: run.name,
            status: run.status,
            params: run.params,
            attempt: run.attempt,
            slot: run.slot,
            gpu: run.gpu,
            job_id: run.jobId,
            slurm: run.jobId === null ? null : (slurm?.get(run.jobId) ?? null),
            run_dir: run.runDir,
            started_at: iso(run.startedAt),
            ended_at: iso(run.endedAt),
            duration_s: duration(run) === null ? null : duration(run)! / 1000,
            exit_code: run.exitCode,
            signal: run.signal,
            failure_kind: run.failureKind,
            prune_rung: run.pruneRung,
            origin: run.origin,
            reason: run.reason,
            stderr_tail: run.stderrTail,
            last_step: run.lastStep,
            total_steps: run.totalSteps,
            bad_lines: run.badLines,
            latest: jsonSafe(last),
            best: jsonSafe(best),
          })),
          gpus,
        })}\n`,
      );
      return EXIT.ok;
    }
    const counts = countStatuses(runs);
    io.out.write(
      `sweep ${sweep.name}  (${Object.entries(counts)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ')})\n`,
    );
    const withJobs = runs.some((r) => r.jobId !== null);
    // A search that proposes runs says which were random start-up runs and which TPE proposed.
    const searched = runs.some((r) => r.origin === 'random' || r.origin === 'tpe');
    const table = [
      [
        'name',
        'id',
        'status',
        ...(searched ? ['origin'] : []),
        'try',
        withJobs ? 'job' : 'slot',
        'step',
        'duration',
        'train/loss',
        'best val/loss',
        'note',
      ],
    ];
    for (const { run, last, best } of rows) {
      const d = duration(run);
      table.push([
        run.name,
        run.id,
        run.status,
        ...(searched ? [run.origin ?? '-'] : []),
        String(run.attempt),
        withJobs ? jobCell(run.jobId, run.jobId === null ? undefined : slurm?.get(run.jobId)) : (run.slot ?? '-'),
        run.lastStep === null ? '-' : `${run.lastStep}${run.totalSteps !== null ? `/${run.totalSteps}` : ''}`,
        d === null ? '-' : formatMs(d),
        fmtNumber(last['train/loss']),
        fmtNumber(best['val/loss']),
        (run.reason ?? '').slice(0, 60),
      ]);
    }
    io.out.write(renderTable(table));
    if (gpus !== null) io.out.write(formatOccupancy(gpus));
    return EXIT.ok;
  } finally {
    store.close();
  }
}

export async function lsCommand(
  options: { json: boolean; runsDir?: string | undefined; db?: string | undefined },
  io: Io,
): Promise<number> {
  const store = openExistingStore(options, io.cwd);
  try {
    const sweeps = store.listSweeps();
    if (options.json) {
      io.out.write(
        `${JSON.stringify({ db: store.file, sweeps: sweeps.map((s) => ({ name: s.name, spec_path: s.specPath, created_at: iso(s.createdAt), updated_at: iso(s.updatedAt), total: s.total, counts: s.counts })) })}\n`,
      );
      return EXIT.ok;
    }
    const table = [['sweep', 'runs', 'completed', 'failed', 'running', 'queued', 'updated', 'file']];
    for (const s of sweeps) {
      table.push([
        s.name,
        String(s.total),
        String(s.counts.completed ?? 0),
        String((s.counts.failed ?? 0) + (s.counts.infeasible ?? 0)),
        String(s.counts.running ?? 0),
        String((s.counts.queued ?? 0) + (s.counts.interrupted ?? 0)),
        iso(s.updatedAt) ?? '-',
        s.specPath ?? '-',
      ]);
    }
    io.out.write(`${renderTable(table)}database: ${store.file}\n`);
    return EXIT.ok;
  } finally {
    store.close();
  }
}

/** "1234 PENDING (Resources)": the job id, and SLURM's view while the run is live. */
function jobCell(jobId: string | null, state: { state: string; reason: string | null } | undefined): string {
  if (jobId === null) return '-';
  if (state === undefined) return jobId;
  return `${jobId} ${state.state}${state.reason !== null ? ` (${state.reason})` : ''}`;
}

function countStatuses(runs: RunRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const run of runs) counts[run.status] = (counts[run.status] ?? 0) + 1;
  return counts;
}

function duration(run: RunRecord): number | null {
  if (run.startedAt === null) return null;
  const end = run.endedAt ?? (run.status === 'running' ? Date.now() / 1000 : null);
  return end === null ? null : Math.max(0, (end - run.startedAt) * 1000);
}

function iso(seconds: number | null): string | null {
  return seconds === null ? null : new Date(seconds * 1000).toISOString();
}

/** JSON has no NaN or Infinity: they are written as strings, as the metrics protocol reads them. */
function jsonSafe(values: Record<string, number>): Record<string, number | string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number.isFinite(v) ? v : String(v)]));
}

export function renderTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
