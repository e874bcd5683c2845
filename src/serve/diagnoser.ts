// Runs diagnoses, and sweeps' first loads, in a worker thread, one at a time in order of request.
// A diagnosis reads every point of a run (120,000 rows for 20,000 steps x 6 keys, about 0.1 CPU
// s); a first load of 200 such runs about 5 CPU s: done on the main thread, they kept page and
// asset requests waiting for seconds.
import { Worker } from 'node:worker_threads';
import type { DiagnosisJob, DiagnosisResult } from './diagnose-run.js';
import type { FirstLoadJob, FirstSeries } from './first-load.js';

export class Diagnoser {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: never) => void; reject: (e: Error) => void }>();
  /** First loads sent and not answered: not counted in `inFlight` (diagnoses' back-pressure). */
  private loads = 0;
  private closed = false;

  constructor(private readonly dbFile: string) {}

  /** Jobs sent and not answered yet. */
  get inFlight(): number {
    return this.waiting.size - this.loads;
  }

  diagnose(job: DiagnosisJob): Promise<DiagnosisResult> {
    return this.request<DiagnosisResult>({ job });
  }

  /** A sweep's drawn series, read in the worker. */
  async firstLoad(load: FirstLoadJob): Promise<FirstSeries[]> {
    this.loads++;
    try {
      return await this.request<FirstSeries[]>({ load });
    } finally {
      this.loads--;
    }
  }

  private request<T>(message: { job: DiagnosisJob } | { load: FirstLoadJob }): Promise<T> {
    if (this.closed) return Promise.reject(new Error('diagnoser closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: never) => void, reject });
      worker.postMessage({ id, ...message });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    this.failAll(new Error('diagnoser closed'));
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(new URL('./diagnose-worker.js', import.meta.url), {
      workerData: { dbFile: this.dbFile },
    });
    // The server's lifetime decides; a worker alone never keeps the process up.
    worker.unref();
    worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.result) w.resolve(m.result as never);
      else w.reject(new Error(m.error ?? 'diagnosis failed'));
    });
    worker.on('error', (error) => {
      // A crashed worker fails what it held; the next job starts a fresh one.
      if (this.worker === worker) this.worker = null;
      this.failAll(error);
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = null;
      this.failAll(new Error('diagnosis worker exited'));
    });
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) w.reject(error);
  }
}
