// Appends protocol lines (docs/protocol.md) to the metrics file, one synchronous write per line,
// so that a line is either wholly in the file or not at all when the process is killed.
import fs from 'node:fs';
import { encodeLine } from '../protocol/lines.js';

export interface MetricsSink {
  metrics(step: number, values: Record<string, number>, epoch?: number): void;
  event(name: string, fields: Record<string, unknown>): void;
}

export function fileSink(path: string): MetricsSink & { close(): void } {
  const fd = fs.openSync(path, 'a');
  const write = (obj: unknown) => fs.writeSync(fd, encodeLine(obj as object) + '\n');
  return {
    metrics(step, values, epoch) {
      write({
        step,
        ...(epoch === undefined ? {} : { epoch: round(epoch) }),
        time: Date.now() / 1000,
        metrics: values,
      });
    },
    event(name, fields) {
      write({ event: name, time: Date.now() / 1000, ...fields });
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

/** Collects lines in memory (tests, pretraining). */
export function memorySink(): MetricsSink & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    metrics(step, values, epoch) {
      lines.push({ step, epoch, metrics: { ...values } });
    },
    event(name, fields) {
      lines.push({ event: name, ...fields });
    },
  };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
