// Runs whose parameters differ only in `seed` are one configuration. Each configuration gets one
// colour (and, past the palette, a dash pattern) used in every chart of the report.

/**
 * Paul Tol's "muted" qualitative scheme: nine colours distinguishable under the common forms of
 * colour blindness and on white paper (https://personal.sron.nl/~pault/).
 */
export const PALETTE: readonly string[] = [
  '#332288',
  '#CC6677',
  '#44AA99',
  '#DDCC77',
  '#882255',
  '#117733',
  '#88CCEE',
  '#AA4499',
  '#999933',
];
const DASHES: readonly number[][] = [[], [8, 4], [2, 3], [10, 3, 2, 3]];

export function styleOf(index: number): { color: string; dash: number[] } {
  return {
    color: PALETTE[index % PALETTE.length]!,
    dash: [...DASHES[Math.floor(index / PALETTE.length) % DASHES.length]!],
  };
}

export interface RunLike {
  name: string;
  params: Record<string, unknown>;
  ordinal: number;
}

export interface ConfigGroup<R extends RunLike> {
  key: string;
  name: string;
  params: Record<string, unknown>;
  runs: R[];
}

/** Groups runs by their parameters without `seed`; groups keep the order of their first run. */
export function groupConfigurations<R extends RunLike>(runs: readonly R[]): ConfigGroup<R>[] {
  const groups = new Map<string, ConfigGroup<R>>();
  for (const run of [...runs].sort((a, b) => a.ordinal - b.ordinal)) {
    const params = withoutSeed(run.params);
    const key = stableJson(params);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { key, name: configName(run), params, runs: [] }));
    group.runs.push(run);
  }
  return [...groups.values()];
}

/** The run name without the `_s<seed>` suffix the spec expansion appends per seed. */
export function configName(run: RunLike): string {
  const seed = run.params['seed'];
  const suffix = `_s${String(seed)}`;
  return seed !== undefined && run.name.endsWith(suffix) ? run.name.slice(0, -suffix.length) : run.name;
}

function withoutSeed(params: Record<string, unknown>): Record<string, unknown> {
  const { seed: _seed, ...rest } = params;
  return rest;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Names of the spec's named configurations (`configs:`), in file order. */
export function namedConfigurations(spec: unknown): string[] {
  const configs = (spec as { configs?: unknown } | null)?.configs;
  if (!Array.isArray(configs)) return [];
  return configs.map((c) => (c as { name?: unknown })?.name).filter((n): n is string => typeof n === 'string');
}
