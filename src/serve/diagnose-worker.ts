// The diagnosis worker: reads full series on its own read-only connection and diagnoses them, and
// reads sweeps' first loads, so that the server's event loop (pages, assets, events) never waits
// behind 120,000-point reads.
import { parentPort, workerData } from 'node:worker_threads';
import { LiveReader } from '../store/live-reads.js';
import { DiagnosisDeferred, diagnoseFromDb, type DiagnosisJob } from './diagnose-run.js';
import { readFirstLoad, type FirstLoadJob } from './first-load.js';

const data = workerData as { dbFile: string; holding: Int32Array };
const reader = new LiveReader(data.dbFile);
/** Set by the server while a page opens: diagnoses give way (diagnoser.ts). */
const giveWay = () => Atomics.load(data.holding, 0) === 1;
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
    // A first load is what an opening page waits for: it never gives way.
    const result =
      'load' in message ? readFirstLoad(reader, message.load) : diagnoseFromDb(reader, message.job, giveWay);
    parentPort!.postMessage({ id: message.id, result });
  } catch (error) {
    if (error instanceof DiagnosisDeferred) {
      parentPort!.postMessage({ id: message.id, deferred: true });
      return;
    }
    parentPort!.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
