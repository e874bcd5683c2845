// Pure expansion of a validated spec into runs: the grid's cartesian product, the named
// configurations, each once per seed. The same spec always gives the same runs, ids and order.
import { createHash } from 'node:crypto';
import { ClipsweepError, SpecError } from '../errors.js';
import type { SweepSpec } from './load.js';
import { BUILTIN_PLACEHOLDERS, placeholderNames } from './placeholders.js';
import { canonicalJson } from './canonical-json.js';
import { draw } from './search.js';

export { canonicalJson };

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

/** A validated plan whose runs are produced one at a time, never all held at once. */
export interface SweepPlan {
  /** How many runs the plan has (after a configuration equal to a grid point is counted once). */
  readonly size: number;
  /** The runs in plan order; each call expands afresh (same runs, ids and order). */
  runs(): Generator<RunSpec>;
  /** Whether the current spec plans a run with this id and these parameters (for runs found in the store). */
  includes(id: string, params: Record<string, unknown>): boolean;
  /** The length of the longest run name (a dry-run's column), found without expanding the grid where it can be. */
  longestName(): number;
}

interface ConfigRun {
  name: string;
  params: Record<string, unknown>;
}

/**
 * Checks the whole plan without expanding the grid, then hands out its runs lazily. Memory is
 * the configurations (and a random search's draws), never the grid: two grid points differ in
 * at least one value (load.ts refuses a list that repeats a value, canonically) and "seed" is
 * never both a grid key and in "seeds", so grid points never need checking against each other.
 */
export function planSweep(spec: SweepSpec, options: { maxRuns?: number; force?: boolean } = {}): SweepPlan {
  const maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
  const total = countRuns(spec);
  if (total > maxRuns && !options.force) {
    throw new ClipsweepError(
      'PLAN_TOO_LARGE',
      `${spec.file}: the sweep expands to ${total} runs, more than ${maxRuns}; pass --force to run it anyway`,
    );
  }
  const seeds = spec.seeds;
  // A repeated seed gives the same runs again: each is planned once, as it always was.
  const seedList = seeds === undefined ? [undefined] : [...new Set(seeds)];
  const nameOf = (name: string, seed: number | undefined): string =>
    seeds !== undefined && seeds.length > 1 ? `${name}_s${seed}` : name;
  const withSeed = (params: Record<string, unknown>, seed: number | undefined): Record<string, unknown> =>
    seed === undefined ? params : { ...params, seed };

  const problems: string[] = [];
  const configs = new Map<string, ConfigRun>();
  const configById = new Map<string, number>();
  spec.configs.forEach((config, index) => {
    for (const seed of seedList) {
      const params = withSeed({ ...spec.base, ...config.params }, seed);
      const id = runId(params);
      const twin = configById.get(id);
      if (twin !== undefined && twin !== index) {
        problems.push(
          `configs[${index}] ("${config.name}") has the same parameters as configs[${twin}] ("${spec.configs[twin]!.name}")`,
        );
      }
      configById.set(id, index);
      if (!configs.has(id)) configs.set(id, { name: nameOf(config.name, seed), params });
    }
  });

  // TPE's runs are proposed while the sweep runs (src/search/propose.ts): only configurations are planned.
  const strategy = spec.search.strategy;
  const grid = strategy === 'tpe' ? undefined : spec.grid;
  const sampled = strategy === 'random' && grid !== undefined ? drawnRuns(spec, seedList, withSeed) : null;
  const lists = sampled === null ? (grid as Record<string, unknown[]> | undefined) : undefined;
  let index: ValueIndex | undefined;
  const inGrid = (id: string, params: Record<string, unknown>): boolean =>
    sampled !== null
      ? sampled.has(id)
      : lists !== undefined && gridHas(spec, (index ??= valueIndex(lists)), id, params);
  // A named configuration that equals a grid point is one run, named after the configuration.
  const merged = new Set([...configs].filter(([id, run]) => inGrid(id, run.params)).map(([id]) => id));
  const gridRuns =
    sampled?.size ??
    (lists === undefined ? 0 : Object.values(lists).reduce((n, v) => n * v.length, 1) * seedList.length);

  function* gridSpecs(): Generator<{ id: string; name: string; params: Record<string, unknown> }> {
    if (sampled !== null) {
      for (const [id, run] of sampled) yield { id, ...run };
      return;
    }
    for (const point of gridPoints(lists)) {
      const name = gridName(point);
      const params = { ...spec.base, ...point };
      for (const seed of seedList) {
        const seeded = withSeed(params, seed);
        yield { id: runId(seeded), name: nameOf(name, seed), params: seeded };
      }
    }
  }
  function* runs(): Generator<RunSpec> {
    let ordinal = 0;
    for (const { id, name, params } of gridSpecs()) {
      const config = merged.has(id) ? configs.get(id) : undefined;
      yield config === undefined
        ? { id, name, params, origin: 'grid', ordinal: ordinal++ }
        : { id, name: config.name, params, origin: 'config', ordinal: ordinal++ };
    }
    for (const [id, { name, params }] of configs)
      if (!merged.has(id)) yield { id, name, params, origin: 'config', ordinal: ordinal++ };
  }

  const firstGrid = gridSpecs().next();
  const first =
    firstGrid.done === true
      ? undefined
      : { params: firstGrid.value.params, name: configs.get(firstGrid.value.id)?.name ?? firstGrid.value.name };
  const unmerged = [...configs].filter(([id]) => !merged.has(id)).map(([, run]) => run);
  const size = gridRuns + unmerged.length;
  problems.push(...placeholderProblems(spec, size, gridRuns, first, unmerged));
  if (problems.length > 0) throw new SpecError(spec.file, [...new Set(problems)]);
  const longestName = (): number => {
    // A configuration that takes a grid point's place may hide the longest grid name: walk the plan then.
    if (lists === undefined || merged.size > 0) {
      let longest = 0;
      for (const run of runs()) longest = Math.max(longest, run.name.length);
      return longest;
    }
    // Every combination of values is a point, so the longest name joins each key's longest part.
    const keys = Object.entries(lists);
    const parts = keys.reduce(
      (n, [key, list]) => n + list.reduce((m: number, v) => Math.max(m, gridName({ [key]: v }).length), 0),
      0,
    );
    const suffix = Math.max(...seedList.map((seed) => nameOf('', seed).length));
    const gridLongest = gridRuns === 0 ? 0 : parts + keys.length - 1 + suffix;
    return Math.max(gridLongest, ...unmerged.map((run) => run.name.length));
  };
  return { size, runs, includes: (id, params) => configs.has(id) || inGrid(id, params), longestName };
}

/** Every run at once, for callers that want a list (tests, small sweeps). */
export function expandSweep(spec: SweepSpec, options: { maxRuns?: number; force?: boolean } = {}): RunSpec[] {
  return [...planSweep(spec, options).runs()];
}

/** A random search's runs: its draws are few enough to hold, and may repeat (kept once, first first). */
function drawnRuns(
  spec: SweepSpec,
  seedList: readonly (number | undefined)[],
  withSeed: (params: Record<string, unknown>, seed: number | undefined) => Record<string, unknown>,
): Map<string, ConfigRun> {
  const nameOf = (name: string, seed: number | undefined): string =>
    spec.seeds !== undefined && spec.seeds.length > 1 ? `${name}_s${seed}` : name;
  const runs = new Map<string, ConfigRun>();
  for (const point of draw(spec.grid!, spec.search.samples ?? 0, spec.search.seed)) {
    for (const seed of seedList) {
      const params = withSeed({ ...spec.base, ...point }, seed);
      const id = runId(params);
      if (!runs.has(id)) runs.set(id, { name: nameOf(gridName(point), seed), params });
    }
  }
  return runs;
}

/** Whether a grid point (with one of the seeds) has exactly these parameters: found key by key, not by expanding. */
/** Each grid key's values by their canonical form: membership is a look-up, whatever a list's length. */
type ValueIndex = [string, Map<string, unknown>][];

function valueIndex(lists: Record<string, unknown[]>): ValueIndex {
  return Object.entries(lists).map(([key, values]) => [key, new Map(values.map((v) => [canonicalJson(v), v]))]);
}

function gridHas(spec: SweepSpec, index: ValueIndex, id: string, params: Record<string, unknown>): boolean {
  const point: Record<string, unknown> = {};
  for (const [key, values] of index) {
    if (!(key in params)) return false;
    const wanted = canonicalJson(params[key]);
    if (!values.has(wanted)) return false;
    point[key] = values.get(wanted);
  }
  const seed = params.seed;
  let candidate: Record<string, unknown> = { ...spec.base, ...point };
  if (spec.seeds !== undefined) {
    if (typeof seed !== 'number' || !spec.seeds.includes(seed)) return false;
    candidate = { ...candidate, seed };
  }
  return runId(candidate) === id;
}

/** Every {placeholder} must name a parameter of every run, or a built-in: checked before anything runs. */
function placeholderProblems(
  spec: SweepSpec,
  size: number,
  gridRuns: number,
  firstGrid: ConfigRun | undefined,
  configs: readonly ConfigRun[],
): string[] {
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
      // Every grid run has the same keys (base, grid, seed), so the first stands for all.
      const gridLacks = firstGrid !== undefined && !(name in firstGrid.params);
      const configsWithout = configs.filter((run) => !(name in run.params));
      const without = (gridLacks ? gridRuns : 0) + configsWithout.length;
      if (without === 0) continue;
      const example = gridLacks ? firstGrid : configsWithout[0]!;
      const some = without === size ? 'no run has' : `${without} run(s) (e.g. "${example.name}") have no`;
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
