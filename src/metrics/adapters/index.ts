import { statSync } from 'node:fs';
import { numberFlag } from '../../sweep-file/flags.js';
import type { SweepSpec } from '../../sweep-file/load.js';
import { OpenClipTranslator } from './openclip.js';
import { RegexTranslator } from './regex.js';
import { LogSources, ProtocolWriter, type Translator } from './translator.js';

export type { Translator, Verdict } from './translator.js';

export interface TranslatorInput {
  spec: SweepSpec;
  params: Record<string, unknown>;
  argv: readonly string[];
  files: { stdout: string; stderr: string; metrics: string; problems: string };
  resultsFile: string | null;
}

/** The translator for a command trainer's `metrics:` mode; null for the protocol itself. */
export function createTranslator(input: TranslatorInput): Translator | null {
  const trainer = input.spec.trainer;
  if (trainer === 'builtin' || trainer.metrics === 'jsonl') return null;
  // This attempt's output starts where the logs end now (they are appended across attempts).
  const sources = new LogSources(input.files, {
    stdout: sizeOf(input.files.stdout),
    stderr: sizeOf(input.files.stderr),
  });
  const writer = new ProtocolWriter(input.files.metrics);
  if (trainer.metrics === 'regex')
    return new RegexTranslator(trainer.patterns ?? [], sources, writer, input.files.problems);
  return new OpenClipTranslator({
    sources,
    resultsFile: input.resultsFile,
    writer,
    problemsFile: input.files.problems,
    batchSize: numberParam(input.params.batch_size) ?? numberFlag(input.argv, '--batch-size'),
    epochs: numberParam(input.params.epochs) ?? numberFlag(input.argv, '--epochs'),
  });
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function numberParam(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
