// Runs diagnoses, and sweeps' first loads, in a worker thread, one at a time in order of request.
// A diagnosis reads every point of a run (120,000 rows for 20,000 steps x 6 keys, about 0.1 CPU
// s); a first load of 200 such runs about 5 CPU s: done on the main thread, they kept page and
// asset requests waiting for seconds.
// While a page opens (`hold`), diagnoses already sent give way: the worker defers a job not
// started and stops one between two series reads (the caller sends it again later), so that
// the page gets both cores. On this 2-core machine the jobs in flight when the benchmark's first
// page opened took 0.2-0.3 CPU s of the worker during that page's load.
import { Worker } from 'node:worker_threads';
import type { DiagnosisJob, DiagnosisResult } from './diagnose-run.js';
import type { FirstLoadJob, FirstSeries } from './first-load.js';

/** The rejection of a diagnosis that gave way to a page (`hold`): the run is to be diagnosed again. */
export const DEFERRED = 'diagnosis deferred';

export class Diagnoser {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: never) => void; reject: (e: Error) => void }>();
  /** First loads sent and not answered: not counted in `inFlight` (diagnoses' back-pressure). */
  private loads = 0;
  private closed = false;
  /** Shared with the worker: [0] is 1 while diagnoses give way to a page. */
  private readonly holding = new Int32Array(new SharedArrayBuffer(4));
  private holdEnds = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  /** Since start: `hold` calls, and diagnoses deferred or stopped by them. */
  holds = 0;
  deferred = 0;

  constructor(private readonly dbFile: string) {}

  /** Jobs sent and not answered yet. */
  get inFlight(): number {
    return this.waiting.size - this.loads;
  }

  diagnose(job: DiagnosisJob): Promise<DiagnosisResult> {
    return this.request<DiagnosisResult>({ job });
  }

  /** Diagnoses give way for `ms` (a page opening): see the top of this file. */
  hold(ms: number): void {
    this.holds++;
    this.holdEnds = Math.max(this.holdEnds, performance.now() + ms);
    Atomics.store(this.holding, 0, 1);
    if (this.holdTimer === null) this.armHold();
  }

  private armHold(): void {
    this.holdTimer = setTimeout(
      () => {
        this.holdTimer = null;
        if (performance.now() < this.holdEnds) return this.armHold();
        Atomics.store(this.holding, 0, 0);
      },
      Math.max(1, this.holdEnds - performance.now()),
    );
    this.holdTimer.unref();
  }

  /** Whether diagnoses give way now. */
  get holdingNow(): boolean {
    return Atomics.load(this.holding, 0) === 1;
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
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    const worker = this.worker;
    this.worker = null;
    this.failAll(new Error('diagnoser closed'));
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(new URL('./diagnose-worker.js', import.meta.url), {
      workerData: { dbFile: this.dbFile, holding: this.holding },
    });
    // The server's lifetime decides; a worker alone never keeps the process up.
    worker.unref();
    worker.on('message', (m: { id: number; result?: unknown; error?: string; deferred?: boolean }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.deferred) this.deferred++;
      if (m.result) w.resolve(m.result as never);
      else w.reject(new Error(m.deferred ? DEFERRED : (m.error ?? 'diagnosis failed')));
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
