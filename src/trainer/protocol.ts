// Appends protocol lines (docs/protocol.md) to the metrics file, one synchronous write per line,
// so that a line is either wholly in the file or not at all when the process is killed.
import fs from 'node:fs';

export interface MetricsSink {
  metrics(step: number, values: Record<string, number>, epoch?: number): void;
  event(name: string, fields: Record<string, unknown>): void;
}

/** Non-finite numbers become the strings the protocol accepts (JSON.stringify would write null). */
function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v,
  );
}

export function fileSink(path: string): MetricsSink & { close(): void } {
  const fd = fs.openSync(path, 'a');
  const write = (obj: unknown) => fs.writeSync(fd, encode(obj) + '\n');
  return {
    metrics(step, values, epoch) {
      write({ step, ...(epoch === undefined ? {} : { epoch: round(epoch) }), time: Date.now() / 1000, metrics: values });
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
