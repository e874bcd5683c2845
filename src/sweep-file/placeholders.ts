// {name} placeholders in a command trainer's argv, env, cwd and results_file. Each argv element
// is substituted on its own and never passes through a shell, so a value with spaces, quotes or
// `;` stays exactly one argument. `{{` and `}}` are literal braces.

/** Built-ins every run has, besides its parameters. */
export const BUILTIN_PLACEHOLDERS = [
  'run_id',
  'run_dir',
  'checkpoint_dir',
  'metrics_file',
  'attempt',
  'sweep',
  'name',
] as const;

type Part = { text: string } | { name: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** The template's parts, or an error message saying what is wrong with it. */
export function parseTemplate(template: string): Part[] | string {
  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      text += c;
      i++;
      continue;
    }
    if (c === '}') return `a lone "}" at position ${i} (write "}}" for a literal brace)`;
    if (c !== '{') {
      text += c;
      continue;
    }
    const end = template.indexOf('}', i);
    const name = end === -1 ? '' : template.slice(i + 1, end);
    if (end === -1 || !NAME.test(name))
      return `"${template.slice(i, end === -1 ? undefined : end + 1)}" is not a placeholder (expected {parameter_name}; write "{{" for a literal brace)`;
    if (text) parts.push({ text });
    text = '';
    parts.push({ name });
    i = end;
  }
  if (text) parts.push({ text });
  return parts;
}

export function placeholderNames(template: string): string[] {
  const parts = parseTemplate(template);
  return typeof parts === 'string' ? [] : parts.flatMap((p) => ('name' in p ? [p.name] : []));
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Substitutes every placeholder; a name missing from `values` throws (validated before runs start). */
export function substitute(template: string, values: Readonly<Record<string, unknown>>): string {
  const parts = parseTemplate(template);
  if (typeof parts === 'string') throw new Error(parts);
  return parts
    .map((part) => {
      if ('text' in part) return part.text;
      if (!(part.name in values)) throw new Error(`unknown placeholder {${part.name}}`);
      return formatValue(values[part.name]);
    })
    .join('');
}

/** `args: flags`: batch_size: 64 -> --batch-size 64; true -> --flag; false and null -> nothing. */
export function paramsAsFlags(params: Readonly<Record<string, unknown>>): string[] {
  const argv: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    const flag = `--${key.replace(/_/g, '-')}`;
    if (value === false || value === null || value === undefined) continue;
    if (value === true) argv.push(flag);
    else if (Array.isArray(value)) argv.push(flag, ...value.map(formatValue));
    else argv.push(flag, formatValue(value));
  }
  return argv;
}
