// The store's public face: the role interfaces consumers depend on, the records, and the two ways
// to open a database (the writer for `sweep run`, a read-only reader for everything else).
export type {
  GpuUseReader,
  GpuUseWriter,
  MetricSink,
  OrchestratorStore,
  StoreReader,
  SweepStore,
} from './interfaces.js';
export type { GpuSample, MeasuredRun, RunGpuUse } from './gpu-use.js';
export { SqliteStore, type SweepRegistration } from './sqlite-store.js';
export { openReader } from './sqlite-reader.js';
export { READABLE_FROM_VERSION } from './open.js';
export * from './types.js';
export { SCHEMA_VERSION } from './migrations.js';
