// A sweep's first load: each drawn series downsampled by SQLite (min and max per step bucket).
// For 200 runs x 20,000 steps x 6 keys that reads 24 M rows, about 5 CPU s: it runs in the
// diagnosis worker (diagnoser.ts), so that the server's event loop keeps serving pages meanwhile.
import type { LivePoints, LiveReader } from '../store/live-reads.js';

export interface FirstLoadJob {
  /** Step buckets per series. */
  buckets: number;
  series: { runPk: number; key: string }[];
}

export interface FirstSeries {
  runPk: number;
  key: string;
  drawn: LivePoints;
  last: { step: number; value: number } | null;
}

export function readFirstLoad(reader: LiveReader, job: FirstLoadJob): FirstSeries[] {
  return job.series.map(({ runPk, key }) => ({ runPk, key, ...reader.bucketed(runPk, key, job.buckets) }));
}
