// Bulk metric reads the store has no method for: one raw query per run for just the keys the
// report needs, straight into number arrays (SqliteStore.series builds an object per point,
// which costs seconds at 24 M points). Read-only connection to the same file; schema in
// src/store/migrations.ts.
import Database from 'better-sqlite3';
import type { Series } from './series.js';

export class MetricReader {
  private readonly db: Database.Database;
  private readonly keyPks = new Map<string, number>();
  private readonly keyNames = new Map<number, string>();
  private readonly probe: Database.Statement;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 10000');
    for (const row of this.db.prepare('SELECT pk, key FROM metric_keys').all() as { pk: number; key: string }[]) {
      this.keyPks.set(row.key, row.pk);
      this.keyNames.set(row.pk, row.key);
    }
    this.probe = this.db.prepare('SELECT 1 FROM metrics WHERE run_pk = ? AND key_pk = ? LIMIT 1').pluck();
  }

  /** The keys a run recorded: one index probe per known key, no scan of the run's rows. */
  runKeys(runPk: number): string[] {
    const out: string[] = [];
    for (const [key, pk] of this.keyPks) if (this.probe.get(runPk, pk) !== undefined) out.push(key);
    return out.sort();
  }

  /** Full series of `keys` (those the run has) for one run, sorted by step, NaN and infinities kept. */
  read(runPk: number, keys: readonly string[]): Map<string, Series> {
    const pks = keys.map((k) => this.keyPks.get(k)).filter((pk): pk is number => pk !== undefined);
    const out = new Map<string, Series>();
    if (pks.length === 0) return out;
    const rows = this.db
      .prepare(`SELECT key_pk, step, value, nonfinite FROM metrics WHERE run_pk = ? AND key_pk IN (${pks.map(() => '?').join(',')}) ORDER BY key_pk, step`)
      .raw(true)
      .iterate(runPk, ...pks) as IterableIterator<[number, number, number | null, string | null]>;
    let currentPk = -1;
    let current: Series = { steps: [], values: [] };
    for (const [keyPk, step, value, nonfinite] of rows) {
      if (keyPk !== currentPk) {
        currentPk = keyPk;
        current = { steps: [], values: [] };
        out.set(this.keyNames.get(keyPk)!, current);
      }
      current.steps.push(step);
      current.values.push(nonfinite === 'nan' || value === null ? NaN : value);
    }
    return out;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
