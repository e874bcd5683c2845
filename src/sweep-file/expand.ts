// Pure expansion of a validated spec into runs: the grid's cartesian product, the named
// configurations, each once per seed. The same spec always gives the same runs, ids and order.
import { createHash } from 'node:crypto';
import { ClipsweepError, SpecError } from '../errors.js';
import type { SweepSpec } from './load.js';
import { BUILTIN_PLACEHOLDERS, placeholderNames } from './placeholders.js';
import { draw } from './search.js';

export interface RunSpec {
  /** Stable: derived from the resolved parameters only. */
  id: string;
  /** Human name: the configuration's name, or one derived from the grid point. */
  name: string;
  /** Resolved parameters (base, then grid point or configuration, then seed). */
  params: Record<string, unknown>;
  /** grid: a grid point or random draw; config: a named configuration; random, tpe: proposed by TPE. */
  origin: 'grid' | 'config' | 'random' | 'tpe';
  /** Position in the plan (the order runs are queued in). */
  ordinal: number;
}

export const DEFAULT_MAX_RUNS = 10_000;

/** How many runs the spec expands to, computed without expanding (so huge grids cost nothing). */
export function countRuns(spec: SweepSpec): number {
  const gridSize =
    spec.grid === undefined
      ? 0
      : spec.search.strategy === 'random' || spec.search.strategy === 'tpe'
        ? (spec.search.samples ?? 0)
        : Object.values(spec.grid).reduce((n, values) => n * (Array.isArray(values) ? values.length : 1), 1);
  return (gridSize + spec.configs.length) * (spec.seeds?.length ?? 1);
}

export function expandSweep(spec: SweepSpec, options: { maxRuns?: number; force?: boolean } = {}): RunSpec[] {
  const maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
  const total = countRuns(spec);
  if (total > maxRuns && !options.force) {
    throw new ClipsweepError(
      'PLAN_TOO_LARGE',
      `${spec.file}: the sweep expands to ${total} runs, more than ${maxRuns}; pass --force to run it anyway`,
    );
  }
  const points: { name: string; params: Record<string, unknown>; origin: RunSpec['origin']; index: number }[] = [];
  const sampled =
    spec.search.strategy === 'random' && spec.grid !== undefined
      ? draw(spec.grid, spec.search.samples ?? 0, spec.search.seed)
      : null;
  // TPE's runs are proposed while the sweep runs (src/search/propose.ts): only configurations are planned.
  const planned =
    spec.search.strategy === 'tpe' ? [] : (sampled ?? gridPoints(spec.grid as Record<string, unknown[]> | undefined));
  for (const point of planned) {
    points.push({ name: gridName(point), params: { ...spec.base, ...point }, origin: 'grid', index: -1 });
  }
  spec.configs.forEach((config, index) => {
    points.push({ name: config.name, params: { ...spec.base, ...config.params }, origin: 'config', index });
  });
  const configById = new Map<string, number>();
  const problems: string[] = [];
  const seeds = spec.seeds;
  const runs = new Map<string, RunSpec>();
  for (const point of points) {
    for (const seed of seeds ?? [undefined]) {
      const params = seed === undefined ? point.params : { ...point.params, seed };
      const id = runId(params);
      const name = seeds !== undefined && seeds.length > 1 ? `${point.name}_s${seed}` : point.name;
      if (point.origin === 'config') {
        const twin = configById.get(id);
        if (twin !== undefined && twin !== point.index) {
          problems.push(
            `configs[${point.index}] ("${point.name}") has the same parameters as configs[${twin}] ("${spec.configs[twin]!.name}")`,
          );
        }
        configById.set(id, point.index);
      }
      const existing = runs.get(id);
      // A named configuration that equals a grid point is one run, named after the configuration.
      if (existing !== undefined) {
        if (point.origin === 'config') runs.set(id, { ...existing, name, origin: 'config' });
        continue;
      }
      runs.set(id, { id, name, params, origin: point.origin, ordinal: runs.size });
    }
  }
  problems.push(...placeholderProblems(spec, [...runs.values()]));
  if (problems.length > 0) throw new SpecError(spec.file, [...new Set(problems)]);
  return [...runs.values()];
}

/** Every {placeholder} must name a parameter of every run, or a built-in: checked before anything runs. */
function placeholderProblems(spec: SweepSpec, runs: RunSpec[]): string[] {
  const trainer = spec.trainer;
  if (trainer === 'builtin') return [];
  const templates: [string, string][] = [
    ...trainer.command.map((arg, i): [string, string] => [`trainer.command[${i}]`, arg]),
    ...Object.entries(trainer.env ?? {}).map(([k, v]): [string, string] => [`trainer.env.${k}`, v]),
    ...(trainer.cwd !== undefined ? [['trainer.cwd', trainer.cwd] as [string, string]] : []),
    ...(trainer.results_file !== undefined ? [['trainer.results_file', trainer.results_file] as [string, string]] : []),
  ];
  const builtins = new Set<string>(BUILTIN_PLACEHOLDERS);
  const problems: string[] = [];
  for (const [where, template] of templates) {
    for (const name of placeholderNames(template)) {
      if (builtins.has(name)) continue;
      const without = runs.filter((run) => !(name in run.params));
      if (without.length === 0) continue;
      const some =
        without.length === runs.length ? 'no run has' : `${without.length} run(s) (e.g. "${without[0]!.name}") have no`;
      problems.push(
        `${where}: unknown placeholder {${name}}: ${some} parameter "${name}" (built-ins: ${BUILTIN_PLACEHOLDERS.join(', ')})`,
      );
    }
  }
  return problems;
}

function* gridPoints(grid: Record<string, unknown[]> | undefined): Generator<Record<string, unknown>> {
  if (grid === undefined) return;
  const keys = Object.keys(grid);
  const index = keys.map(() => 0);
  for (;;) {
    const point: Record<string, unknown> = {};
    keys.forEach((key, i) => (point[key] = grid[key]![index[i]!]));
    yield point;
    // Odometer increment, last key fastest, so runs come out in the order the file lists values.
    let position = keys.length - 1;
    while (position >= 0 && ++index[position]! === grid[keys[position]!]!.length) {
      index[position] = 0;
      position--;
    }
    if (position < 0) return;
  }
}

const SHORT_KEYS: Record<string, string> = {
  batch_size: 'bs',
  lr: 'lr',
  warmup: 'wu',
  weight_decay: 'wd',
  epochs: 'ep',
};

export function gridName(point: Record<string, unknown>): string {
  return Object.entries(point)
    .map(([key, value]) => `${SHORT_KEYS[key] ?? `${key}=`}${formatValue(value)}`)
    .join('_');
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') {
    return value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6) ? value.toExponential() : String(value);
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** 12 hex characters of the SHA-256 of the canonical JSON of the parameters. */
export function runId(params: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(params)).digest('hex').slice(0, 12);
}

/** JSON with object keys sorted at every depth, so key order in the file never changes an id. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
