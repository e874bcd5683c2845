// The few OpenCLIP flags clipsweep reads from a command trainer's argv (where results.jsonl goes,
// and the batch size and epochs when they are not sweep parameters). One scan, `--flag value` or
// `--flag=value`, for the planner and the output translator alike.

export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i]!.startsWith(`${name}=`)) return argv[i]!.slice(name.length + 1);
  }
  return undefined;
}

/** A numeric flag's value; null when the flag is absent or not a finite number. */
export function numberFlag(argv: readonly string[], name: string): number | null {
  const raw = flagValue(argv, name);
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(value) ? value : null;
}
