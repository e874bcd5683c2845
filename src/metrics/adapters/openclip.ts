// OpenCLIP's output -> protocol lines. Steps are rebuilt as OpenCLIP counts them: a train line
// "[n/N]" in epoch E is global step E * floor(N / batch) + n / batch - 1 (drop_last); an
// evaluation after epoch e (1-based) is aligned to the last step of that epoch.
import { appendFileSync } from 'node:fs';
import { parseLenientJson } from '../../protocol/lines.js';
import { FileTail } from '../tail.js';
import { ALREADY_EXISTS, evalMetricKey, parseOpenClipLine, trainLossKey } from './openclip-parse.js';
import type { LogSources, ProtocolWriter, Translator, Verdict } from './translator.js';

export interface OpenClipOptions {
  sources: LogSources;
  resultsFile: string | null;
  writer: ProtocolWriter;
  problemsFile: string;
  batchSize: number | null;
  epochs: number | null;
}

export class OpenClipTranslator implements Translator {
  private readonly options: OpenClipOptions;
  private readonly results: FileTail | null;
  private stepsPerEpoch: number | null = null;
  private trainLines = 0;
  private nearMisses = 0;
  private failReason: string | null = null;
  private announced = false;

  constructor(options: OpenClipOptions) {
    this.options = options;
    // results.jsonl belongs to this run's own --logs/--name folder: read it whole each attempt.
    this.results = options.resultsFile === null ? null : new FileTail(options.resultsFile, 0);
  }

  pump(final: boolean): void {
    const out: object[] = [];
    if (!this.announced) {
      this.announced = true;
      // clip_val_loss is computed in batches of the training batch size: not comparable across a
      // batch-size grid (the report reads this and will not rank such a grid by it).
      out.push({ event: 'info', source: 'openclip', batch_dependent_metrics: ['val/loss'] });
    }
    const problems: string[] = [];
    for (const line of this.options.sources.read(final)) {
      if (line.stream === 'stdout' && ALREADY_EXISTS.test(line.text)) {
        this.failReason =
          'OpenCLIP refused to start: "Experiment already exists" (it exits 0 and trains nothing); give every run a unique --name, e.g. --name {run_id}';
      }
      const parsed = parseOpenClipLine(line.text);
      if (parsed.kind === 'near-miss') {
        this.nearMisses++;
        problems.push(`${line.stream}: ${parsed.reason}: ${line.text.slice(0, 200)}\n`);
      } else if (parsed.kind === 'train') {
        out.push(...this.train(parsed));
      } else if (parsed.kind === 'eval') {
        out.push(this.evaluation(parsed.epoch, parsed.values));
      }
    }
    // results.jsonl is written by the child itself, while its stdout reaches the log file through
    // the executor's pipe and can lag: an evaluation read before the first train line would have no
    // step layout and land on step 0. Hold results.jsonl until the layout is known or the run ends.
    const resultLines = final
      ? this.results?.readAll({ final })
      : this.stepsPerEpoch === null
        ? []
        : this.results?.read();
    for (const line of resultLines ?? []) {
      const data = parseLenientJson(line.text);
      if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        this.nearMisses++;
        problems.push(`results.jsonl: not a JSON object: ${line.text.slice(0, 200)}\n`);
        continue;
      }
      const values = new Map<string, number>();
      for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
        const n =
          typeof v === 'number'
            ? v
            : v === 'NaN'
              ? NaN
              : v === 'Infinity'
                ? Infinity
                : v === '-Infinity'
                  ? -Infinity
                  : null;
        if (n !== null) values.set(k, n);
      }
      const epoch = values.get('epoch');
      if (epoch !== undefined) out.push(this.evaluation(Math.round(epoch), values));
    }
    if (problems.length > 0) appendFileSync(this.options.problemsFile, problems.join(''));
    this.options.writer.write(out);
  }

  verdict(): Verdict {
    const warnings: string[] = [];
    if (this.trainLines === 0)
      warnings.push(
        'no training step was logged (OpenCLIP trains nothing, and exits 0, when the batch size exceeds the training set)',
      );
    if (this.nearMisses > 0)
      warnings.push(
        `${this.nearMisses} line(s) looked like OpenCLIP metrics but did not parse (see ingest-problems.log)`,
      );
    return { failReason: this.failReason, warnings };
  }

  private train(line: Extract<ReturnType<typeof parseOpenClipLine>, { kind: 'train' }>): object[] {
    const batch = this.options.batchSize;
    const out: object[] = [];
    if (batch === null || batch <= 0) {
      this.nearMisses++;
      return out;
    }
    const perEpoch = Math.floor(line.datasetSize / batch);
    if (this.stepsPerEpoch === null && perEpoch > 0) {
      this.stepsPerEpoch = perEpoch;
      if (this.options.epochs !== null) out.push({ event: 'started', total_steps: perEpoch * this.options.epochs });
    }
    this.trainLines++;
    const step = Math.max(0, line.epoch * perEpoch + Math.floor(line.samples / batch) - 1);
    const metrics: Record<string, number> = {};
    for (const [name, value] of line.losses) metrics[trainLossKey(name)] = value;
    if (line.lr !== null) metrics.lr = line.lr;
    if (line.logitScale !== null) metrics.logit_scale = line.logitScale;
    if (line.samplesPerSec !== null) metrics['train/samples_per_sec'] = line.samplesPerSec;
    out.push({ step, epoch: line.epoch + line.samples / Math.max(1, line.datasetSize), metrics });
    return out;
  }

  private evaluation(epoch: number, values: Map<string, number>): object {
    const step = this.stepsPerEpoch === null ? 0 : Math.max(0, epoch * this.stepsPerEpoch - 1);
    const metrics: Record<string, number> = {};
    for (const [key, value] of values) {
      const mapped = evalMetricKey(key);
      if (mapped !== null) metrics[mapped] = value;
    }
    return { step, epoch, metrics };
  }
}
