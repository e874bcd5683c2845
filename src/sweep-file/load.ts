// The boundary: a sweep file becomes a validated SweepSpec, or a SpecError listing every problem
// with the file, the YAML key path (and line) and what was expected. Nothing runs before this.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { SpecError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import { parseDuration } from './duration.js';
import { checkKnownParam, isBuiltinMetric, RESERVED_PARAMS } from './params.js';
import { parseTemplate } from './placeholders.js';
import type { Distribution, Search } from './search.js';
import type { EarlyTermination } from '../prune/config.js';
import { sweepSchema, type Resources, type SweepFile, type TrainerSpec } from './schema.js';

export interface SweepSpec {
  /** Where the spec came from (for messages). */
  file: string;
  name: string;
  description?: string;
  trainer: TrainerSpec;
  base: Record<string, unknown>;
  grid?: Record<string, unknown[] | Distribution>;
  search: Search;
  earlyTermination?: EarlyTermination;
  configs: { name: string; params: Record<string, unknown> }[];
  seeds?: number[];
  resources: Resources;
  retries: number;
  timeoutMs?: number;
  killGraceMs: number;
}

const DEFAULT_KILL_GRACE_MS = 10_000;

export function loadSweepFile(file: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SpecError(file, [`cannot read the file: ${(error as Error).message}`], 'SPEC_UNREADABLE');
  }
  return parseSweep(text, file);
}

export function parseSweep(text: string, file: string): SweepSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      file,
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}malformed YAML: ${firstLine(e.message)}`;
      }),
    );
  }
  let data: unknown;
  try {
    // The yaml library refuses a document whose aliases expand beyond a bound ("billion laughs").
    data = doc.toJS();
  } catch (error) {
    throw new SpecError(
      file,
      [
        `its aliases (*name) expand to more than the YAML reader allows (${firstLine((error as Error).message)}): write the values out, or use fewer aliases`,
      ],
      'SPEC_INVALID',
      { cause: error },
    );
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new SpecError(file, ['expected a YAML mapping at the top (name, trainer, grid, ...)']);
  }
  const where = (path: PropertyKey[]): string => describePath(doc, lines, path);
  const parsed = sweepSchema.safeParse(data);
  if (!parsed.success) {
    throw new SpecError(
      file,
      parsed.error.issues.flatMap((issue) => describeIssue(issue, data, where)),
    );
  }
  const problems = crossFieldProblems(parsed.data, where);
  if (problems.length > 0) throw new SpecError(file, problems);
  return toSpec(parsed.data, file);
}

function toSpec(sweep: SweepFile, file: string): SweepSpec {
  return {
    file,
    name: sweep.name,
    ...(sweep.description !== undefined ? { description: sweep.description } : {}),
    trainer: sweep.trainer,
    base: sweep.base,
    ...(sweep.grid !== undefined ? { grid: sweep.grid } : {}),
    search: sweep.search ?? { strategy: 'grid', seed: 0, startup: 10, multivariate: false },
    ...(sweep.early_termination !== undefined ? { earlyTermination: sweep.early_termination } : {}),
    configs: (sweep.configs ?? []).map(({ name, ...params }) => ({ name, params })),
    ...(sweep.seeds !== undefined ? { seeds: sweep.seeds } : {}),
    resources: sweep.resources,
    retries: sweep.retries,
    ...(sweep.timeout !== undefined ? { timeoutMs: parseDuration(sweep.timeout)! } : {}),
    killGraceMs: sweep.kill_grace !== undefined ? parseDuration(sweep.kill_grace)! : DEFAULT_KILL_GRACE_MS,
  };
}

/** Rules zod's shape cannot express; every problem is collected. */
function crossFieldProblems(sweep: SweepFile, where: (p: PropertyKey[]) => string): string[] {
  const problems: string[] = [];
  const check = (path: PropertyKey[], key: string, value: unknown): void => {
    if (RESERVED_PARAMS.has(key)) problems.push(`${where(path)}: "${key}" is reserved for configuration names`);
    if (key === 'seed' && sweep.seeds !== undefined) {
      problems.push(`${where(path)}: give seeds in "seeds" or as a "seed" parameter, not both`);
    }
    const expected = checkKnownParam(key, value);
    if (expected !== null) problems.push(`${where(path)}: ${expected}, got ${show(value)}`);
  };
  for (const [key, value] of Object.entries(sweep.base)) check(['base', key], key, value);
  if (sweep.grid !== undefined) {
    if (Object.keys(sweep.grid).length === 0)
      problems.push(`${where(['grid'])}: expected at least one parameter with a list of values`);
    const random = sweep.search?.strategy === 'random' || sweep.search?.strategy === 'tpe';
    for (const [key, values] of Object.entries(sweep.grid)) {
      if (!Array.isArray(values)) {
        if (!random)
          problems.push(
            `${where(['grid', key])}: a distribution needs search: { strategy: random or tpe, samples: N }`,
          );
        const [low, high] = 'uniform' in values ? values.uniform : values.loguniform;
        for (const [bound, value] of [
          ['low', low],
          ['high', high],
        ] as const) {
          const expected = checkKnownParam(key, values.int ? Math.round(value) : value);
          if (expected !== null)
            problems.push(
              `${where(['grid', key])}: the ${bound} bound: ${expected}, got ${value}${values.int ? '' : ' (add int: true for an integer parameter)'}`,
            );
        }
        continue;
      }
      values.forEach((value, i) => check(['grid', key, i], key, value));
      // Canonical, as ids are: two values equal up to key order would give two runs with one id.
      const seen = new Set(values.map(canonicalJson));
      if (seen.size !== values.length) problems.push(`${where(['grid', key])}: the list repeats a value`);
    }
  }
  if (sweep.search?.strategy === 'random') {
    if (sweep.search.samples === undefined)
      problems.push(`${where(['search'])}: random search needs "samples": how many configurations to draw`);
    if (sweep.grid === undefined)
      problems.push(`${where(['search'])}: random search draws from "grid": give it lists or distributions`);
  }
  if (sweep.search?.strategy === 'tpe') problems.push(...tpeProblems(sweep, where));
  const names = new Map<string, number>();
  (sweep.configs ?? []).forEach((config, i) => {
    const first = names.get(config.name);
    if (first !== undefined) {
      problems.push(
        `${where(['configs', i, 'name'])}: duplicate configuration name "${config.name}" (also configs[${first}])`,
      );
    } else names.set(config.name, i);
    for (const [key, value] of Object.entries(config)) if (key !== 'name') check(['configs', i, key], key, value);
  });
  if (sweep.grid === undefined && (sweep.configs ?? []).length === 0) {
    problems.push('expected a "grid" or at least one entry in "configs": the sweep has no runs');
  }
  problems.push(...trainerProblems(sweep, where));
  if (sweep.timeout !== undefined && parseDuration(sweep.timeout) === null) {
    problems.push(
      `${where(['timeout'])}: expected a duration such as "2h", "30m", "90s" or seconds, got ${show(sweep.timeout)}`,
    );
  }
  if (sweep.kill_grace !== undefined && parseDuration(sweep.kill_grace) === null) {
    problems.push(`${where(['kill_grace'])}: expected a duration such as "10s", got ${show(sweep.kill_grace)}`);
  }
  return problems;
}

/** TPE needs an objective, a budget and something to sample; it proposes one run per configuration. */
function tpeProblems(sweep: SweepFile, where: (p: PropertyKey[]) => string): string[] {
  const search = sweep.search!;
  const problems: string[] = [];
  if (search.samples === undefined)
    problems.push(`${where(['search'])}: tpe needs "samples": how many configurations to propose in all`);
  if (search.metric === undefined)
    problems.push(`${where(['search'])}: tpe needs "metric": the objective, e.g. val/loss`);
  if (search.mode === undefined) problems.push(`${where(['search'])}: tpe needs "mode": min or max`);
  const searched = Object.values(sweep.grid ?? {}).filter((v) => !Array.isArray(v) || v.length > 1);
  if (searched.length === 0) {
    problems.push(
      `${where(sweep.grid === undefined ? ['search'] : ['grid'])}: tpe has nothing to sample: give "grid" a distribution ({loguniform: [a, b]}) or a list of two or more values`,
    );
  }
  if (search.metric !== undefined && sweep.trainer === 'builtin' && !isBuiltinMetric(search.metric)) {
    problems.push(
      `${where(['search', 'metric'])}: the built-in trainer never reports "${search.metric}"; expected one of val/loss, val/i2t_R@1, val/t2i_R@5, train_eval/loss, train/loss, logit_scale (any of loss, i2t_/t2i_ R@1/5/10, mean_rank, median_rank under val/, train_eval/, retain/)`,
    );
  }
  if ((sweep.seeds?.length ?? 0) > 1) {
    problems.push(
      `${where(['seeds'])}: tpe proposes one run per configuration and optimises its value; give one seed (or vary "seed" in grid)`,
    );
  }
  return problems;
}

/** Templates parse, regex patterns compile and name groups they have. */
function trainerProblems(sweep: SweepFile, where: (p: PropertyKey[]) => string): string[] {
  const trainer = sweep.trainer;
  if (trainer === 'builtin') return [];
  const problems: string[] = [];
  const templates: [PropertyKey[], string][] = [
    ...trainer.command.map((arg, i): [PropertyKey[], string] => [['trainer', 'command', i], arg]),
    ...Object.entries(trainer.env ?? {}).map(([k, v]): [PropertyKey[], string] => [['trainer', 'env', k], v]),
    ...(trainer.cwd !== undefined ? [[['trainer', 'cwd'], trainer.cwd] as [PropertyKey[], string]] : []),
    ...(trainer.results_file !== undefined
      ? [[['trainer', 'results_file'], trainer.results_file] as [PropertyKey[], string]]
      : []),
  ];
  for (const [path, template] of templates) {
    const parsed = parseTemplate(template);
    if (typeof parsed === 'string') problems.push(`${where(path)}: ${parsed}`);
  }
  if (trainer.metrics === 'regex' && (trainer.patterns ?? []).length === 0) {
    problems.push(
      `${where(['trainer', 'metrics'])}: "regex" needs "patterns": a list of { regex, metrics: { key: group }, step? }`,
    );
  }
  (trainer.patterns ?? []).forEach((pattern, i) => {
    try {
      new RegExp(pattern.regex);
    } catch (error) {
      problems.push(
        `${where(['trainer', 'patterns', i, 'regex'])}: not a valid regular expression: ${(error as Error).message}`,
      );
      return;
    }
    const groups = new Set([...pattern.regex.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!));
    const wanted = [
      ...Object.values(pattern.metrics),
      ...(pattern.step ? [pattern.step] : []),
      ...(pattern.epoch ? [pattern.epoch] : []),
    ];
    for (const group of wanted) {
      if (!groups.has(group))
        problems.push(
          `${where(['trainer', 'patterns', i])}: the regex has no group named "${group}" (write (?<${group}>...))`,
        );
    }
  });
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown, where: (p: PropertyKey[]) => string): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${where([...issue.path, key])}: unknown key "${key}"${suggestion(issue.path)}`);
  }
  const got = valueAt(data, issue.path);
  if (issue.code === 'invalid_union') {
    // Report the problems of the alternative whose type matched (e.g. the trainer mapping).
    const matched = issue.errors.find(
      (branch) => branch.length > 0 && branch.every((i) => i.path.length > 0 || i.code === 'unrecognized_keys'),
    );
    if (matched)
      return matched.flatMap((inner) =>
        describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, data, where),
      );
  }
  const expected = issue.code === 'invalid_union' ? unionExpectation(issue.path) : tidy(issue.message);
  return [`${where(issue.path)}: ${expected}, got ${got === undefined ? 'nothing' : show(got)}`];
}

function suggestion(path: PropertyKey[]): string {
  if (path.length === 0) {
    return ' (expected one of: name, description, trainer, base, grid, search, early_termination, configs, seeds, resources, retries, timeout, kill_grace)';
  }
  if (path[0] === 'resources') {
    return ' (expected one of: executor, gpus, runs_per_gpu, cpu_slots, pack, memory_margin_mib, max_runs_per_gpu, skip_busy, gpu_poll_ms, gpu_record_ms, gpus_per_run; for executor slurm also partition, cpus_per_run, mem, time, account, qos, sbatch_args, max_parallel, poll_interval)';
  }
  if (path[0] === 'search') return ' (expected one of: strategy, samples, seed, metric, mode, startup, multivariate)';
  if (path[0] === 'trainer' && path[1] === 'patterns') return ' (expected one of: regex, metrics, step, epoch, stream)';
  if (path[0] === 'trainer') return ' (expected one of: command, cwd, env, metrics, args, patterns, results_file)';
  return '';
}

function unionExpectation(path: PropertyKey[]): string {
  const top = path[0];
  if (top === 'trainer') return 'expected "builtin" or { command: [argv...], cwd?, env?, metrics?, args? }';
  if (top === 'resources' && path[1] === 'gpus') return 'expected "auto", "none" or a list of GPU indices';
  if (top === 'timeout' || top === 'kill_grace') return 'expected a duration such as "2h" or a number of seconds';
  return 'expected a number, string, boolean, list or mapping';
}

function tidy(message: string): string {
  // zod says "Invalid input: expected number, received string"; the "got" part is added by us.
  return message
    .replace(/^Invalid input: /, '')
    .replace(/, received .*$/, '')
    .replace(/^Too small: /, '')
    .replace(/^Too big: /, '');
}

function describePath(doc: Document, lines: LineCounter, path: PropertyKey[]): string {
  const dotted = formatPath(path);
  const node = doc.getIn(path as unknown[], true) as { range?: [number, number, number] } | undefined;
  const offset = node?.range?.[0];
  if (offset === undefined) return dotted;
  return `${dotted} (line ${lines.linePos(offset).line})`;
}

export function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

function valueAt(data: unknown, path: PropertyKey[]): unknown {
  let current: unknown = data;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
