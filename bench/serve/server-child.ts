// The server under benchmark, in its own process so that its RSS is its own. Prints one JSON
// line when listening and one when the latest sweep is loaded.
import { startServer } from '../../src/serve/server.js';

const started = performance.now();
const server = await startServer({ dbFile: process.argv[2]!, port: 0 });
process.stdout.write(`${JSON.stringify({ url: server.url, listening_ms: performance.now() - started })}\n`);
await server.warmed;
process.stdout.write(`${JSON.stringify({ warmed_ms: performance.now() - started })}\n`);
// Diagnostics (alerts, best val loss, objective) follow in the background, in a worker thread.
const timer = setInterval(() => {
  if (server.hub.pendingDiagnoses()) return;
  clearInterval(timer);
  process.stdout.write(`${JSON.stringify({ diagnosed_ms: performance.now() - started })}\n`);
}, 100);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
