export { SqliteStore, type SweepRegistration } from './sqlite-store.js';
export * from './types.js';
export { SCHEMA_VERSION } from './migrations.js';
