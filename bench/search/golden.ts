// Writes test/fixtures/tpe-golden.json: every number the TPE sampler computes on fixed cases
// (test/search/golden-cases.ts). Run it only when the sampler's results are meant to change, and
// say why in the commit; test/search/golden.test.ts checks the sampler against this file.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { goldenCases, runGoldenCase } from '../../test/search/golden-cases.js';

const out = fileURLToPath(new URL('../../../test/fixtures/tpe-golden.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(goldenCases().map(runGoldenCase))}\n`);
console.log(`wrote ${out}`);
