// The diagnosis worker: reads full series on its own read-only connection and diagnoses them, and
// reads sweeps' first loads, so that the server's event loop (pages, assets, events) never waits
// behind 120,000-point reads.
import { parentPort, workerData } from 'node:worker_threads';
import { LiveReader } from '../store/live-reads.js';
import { diagnoseFromDb, type DiagnosisJob } from './diagnose-run.js';
import { readFirstLoad, type FirstLoadJob } from './first-load.js';

const reader = new LiveReader((workerData as { dbFile: string }).dbFile);
type Message = { id: number; job: DiagnosisJob } | { id: number; load: FirstLoadJob } | 'close';
parentPort!.on('message', (message: Message) => {
  if (message === 'close') {
    reader.close();
    parentPort!.close();
    return;
  }
  try {
    // Keys first seen after this connection read metric_keys are looked up again.
    reader.refreshKeys();
    const result = 'load' in message ? readFirstLoad(reader, message.load) : diagnoseFromDb(reader, message.job);
    parentPort!.postMessage({ id: message.id, result });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
