// The executor contract against the local executor (always runs).
import { describe } from 'node:test';
import { LocalExecutor } from '../../src/executor/local.js';
import { executorContract } from './contract.js';

describe('executor contract: local', { concurrency: true }, () => {
  executorContract('local', () => ({
    executor: new LocalExecutor({
      resources: { gpus: 'none', runs_per_gpu: 1, cpu_slots: 1 },
      specFile: 'contract.yaml',
    }),
  }));
});
