import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { once } from 'node:events';
import { EXIT } from '../exit-codes.js';
import type { Io } from './run.js';
import { openExistingStore } from './status.js';

export interface ExportOptions {
  sweep: string;
  format: 'jsonl' | 'csv';
  out?: string | undefined;
  runsDir?: string | undefined;
  db?: string | undefined;
}

export async function exportCommand(options: ExportOptions, io: Io): Promise<number> {
  const store = openExistingStore(options, io.cwd);
  const sink = options.out === undefined ? io.out : createWriteStream(resolve(io.cwd, options.out));
  try {
    const sweep = store.getSweep(options.sweep);
    const write = async (text: string): Promise<void> => {
      if (!sink.write(text)) await once(sink, 'drain');
    };
    if (options.format === 'csv') await write('run_id,run_name,step,key,value,epoch,time\n');
    let buffer = '';
    for (const row of store.iterateMetrics(sweep.pk)) {
      buffer +=
        options.format === 'csv'
          ? `${row.runId},${csvField(row.runName)},${row.step},${csvField(row.key)},${numberText(row.value)},${row.epoch ?? ''},${row.time ?? ''}\n`
          : `${JSON.stringify({ run_id: row.runId, run_name: row.runName, step: row.step, key: row.key, value: Number.isFinite(row.value) ? row.value : String(row.value), epoch: row.epoch, time: row.time })}\n`;
      if (buffer.length > 1 << 16) {
        await write(buffer);
        buffer = '';
      }
    }
    await write(buffer);
    return EXIT.ok;
  } finally {
    store.close();
    if (sink !== io.out) {
      (sink as NodeJS.WritableStream).end();
      await once(sink, 'close');
    }
  }
}

/** NaN, Infinity and -Infinity are written as words, which pandas reads back as such. */
function numberText(value: number): string {
  return String(value);
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
