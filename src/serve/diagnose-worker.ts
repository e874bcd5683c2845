// The diagnosis worker: reads full series on its own read-only connection and diagnoses them, so
// that the server's event loop (pages, assets, events) never waits behind 120,000-point reads.
import { parentPort, workerData } from 'node:worker_threads';
import { LiveReader } from '../store/live-reads.js';
import { diagnoseFromDb, type DiagnosisJob } from './diagnose-run.js';

const reader = new LiveReader((workerData as { dbFile: string }).dbFile);
parentPort!.on('message', (message: { id: number; job: DiagnosisJob } | 'close') => {
  if (message === 'close') {
    reader.close();
    parentPort!.close();
    return;
  }
  try {
    // Keys first seen after this connection read metric_keys are looked up again.
    reader.refreshKeys();
    parentPort!.postMessage({ id: message.id, result: diagnoseFromDb(reader, message.job) });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
