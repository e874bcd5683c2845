// The store contract against the SQLite implementation: a real database file per test, a second
// writer and a reader on their own connections.
import { join } from 'node:path';
import { openReader } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../helpers.js';
import { storeContract } from './contract.js';

storeContract('SQLite', {
  create() {
    const file = join(tempDir(), 'nested', 'sweeps.db');
    return { store: SqliteStore.open(file), another: () => SqliteStore.open(file), reader: () => openReader(file) };
  },
});
