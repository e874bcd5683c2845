// Child of run.ts: builds the report once and prints its time, peak RSS and page size as JSON.
import { statSync } from 'node:fs';
import { buildReport } from '../../src/report/index.js';

const [db, out] = process.argv.slice(2) as [string, string];
const started = process.hrtime.bigint();
const result = await buildReport({ dbFile: db, outDir: out });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(
  JSON.stringify({
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    indexBytes: statSync(result.indexHtml!).size,
    files: result.files.length,
  }) + '\n',
);
