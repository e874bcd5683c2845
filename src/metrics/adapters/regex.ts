// `metrics: regex`: named patterns from the sweep file turn a program's log lines into metrics.
import { appendFileSync } from 'node:fs';
import type { LinePattern } from '../../sweep-file/schema.js';
import { parseNumber } from './openclip-parse.js';
import type { LogSources, ProtocolWriter, Translator, Verdict } from './translator.js';

export class RegexTranslator implements Translator {
  private readonly patterns: (LinePattern & { compiled: RegExp })[];
  private readonly sources: LogSources;
  private readonly writer: ProtocolWriter;
  private readonly problemsFile: string;
  private lastStep = 0;
  private matched = 0;
  private nearMisses = 0;

  constructor(patterns: readonly LinePattern[], sources: LogSources, writer: ProtocolWriter, problemsFile: string) {
    this.patterns = patterns.map((p) => ({ ...p, compiled: new RegExp(p.regex) }));
    this.sources = sources;
    this.writer = writer;
    this.problemsFile = problemsFile;
  }

  pump(final: boolean): void {
    const out: object[] = [];
    const problems: string[] = [];
    for (const line of this.sources.read(final)) {
      for (const pattern of this.patterns) {
        if (pattern.stream !== 'both' && pattern.stream !== line.stream) continue;
        const groups = pattern.compiled.exec(line.text)?.groups;
        if (!groups) continue;
        const step = pattern.step ? parseNumber(groups[pattern.step] ?? '') : this.lastStep;
        const metrics: Record<string, number> = {};
        let bad: string | null =
          step === null || !Number.isInteger(step) || step < 0
            ? `step "${groups[pattern.step!]}" is not an integer >= 0`
            : null;
        for (const [key, group] of Object.entries(pattern.metrics)) {
          const value = parseNumber(groups[group] ?? '');
          if (value === null) bad ??= `"${key}" (${group}) is not a number: ${groups[group]}`;
          else metrics[key] = value;
        }
        if (bad !== null) {
          this.nearMisses++;
          problems.push(`${line.stream}: ${bad}: ${line.text.slice(0, 200)}\n`);
          continue;
        }
        this.lastStep = step!;
        this.matched++;
        const epoch = pattern.epoch ? parseNumber(groups[pattern.epoch] ?? '') : null;
        out.push({ step, ...(epoch !== null && Number.isFinite(epoch) ? { epoch } : {}), metrics });
      }
    }
    if (problems.length > 0) appendFileSync(this.problemsFile, problems.join(''));
    this.writer.write(out);
  }

  verdict(): Verdict {
    const warnings: string[] = [];
    if (this.matched === 0) warnings.push('no output line matched the metric patterns');
    if (this.nearMisses > 0)
      warnings.push(`${this.nearMisses} matching line(s) had values that did not parse (see ingest-problems.log)`);
    return { failReason: null, warnings };
  }
}
