// Bulk metric reads the store has no method for: one query per run and key for just the keys
// the report needs, straight into number arrays (SqliteStore.series builds an object per point,
// which costs seconds at 24 M points). Read-only connection to the same file; schema in
// src/store/migrations.ts.
import Database from 'better-sqlite3';
import type { Series } from './series.js';

export class MetricReader {
  private readonly db: Database.Database;
  private readonly keyPks = new Map<string, number>();
  private readonly keyNames = new Map<number, string>();
  private readonly probe: Database.Statement;
  private readonly concat: Database.Statement;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 10000');
    for (const row of this.db.prepare('SELECT pk, key FROM metric_keys').all() as { pk: number; key: string }[]) {
      this.keyPks.set(row.key, row.pk);
      this.keyNames.set(row.pk, row.key);
    }
    this.probe = this.db.prepare('SELECT 1 FROM metrics WHERE run_pk = ? AND key_pk = ? LIMIT 1').pluck();
    // NaN is stored as NULL and infinities as nonfinite 'inf'/'-inf' (SQLite would print "Inf").
    // REAL prints with 15 significant digits: plenty for a report.
    this.concat = this.db
      .prepare(
        // No ORDER BY inside group_concat (it sorts: 3x slower): rows come in primary-key order,
        // (run_pk, key_pk, step); read() checks the order and sorts if it ever is not.
        `SELECT group_concat(step, ','),
                group_concat(CASE WHEN nonfinite = 'inf' THEN 'Infinity' WHEN nonfinite = '-inf' THEN '-Infinity'
                                  WHEN value IS NULL THEN 'NaN' ELSE value END, ',')
         FROM metrics WHERE run_pk = ? AND key_pk = ?`,
      )
      .raw(true);
  }

  /** The keys a run recorded: one index probe per known key, no scan of the run's rows. */
  runKeys(runPk: number): string[] {
    const out: string[] = [];
    for (const [key, pk] of this.keyPks) if (this.probe.get(runPk, pk) !== undefined) out.push(key);
    return out.sort();
  }

  /**
   * Full series of `keys` (those the run has) for one run, sorted by step, NaN and infinities kept.
   * One row per key with the steps and values concatenated by SQLite: measured about twice as
   * fast as one row per point, whose per-row objects dominate the cost at 24 M points.
   */
  read(runPk: number, keys: readonly string[]): Map<string, Series> {
    const out = new Map<string, Series>();
    for (const key of keys) {
      const keyPk = this.keyPks.get(key);
      if (keyPk === undefined) continue;
      const row = this.concat.get(runPk, keyPk) as [string | null, string | null] | undefined;
      if (!row || row[0] === null || row[1] === null) continue;
      const stepText = row[0].split(',');
      const valueText = row[1].split(',');
      const steps = new Array<number>(stepText.length);
      const values = new Array<number>(stepText.length);
      let sorted = true;
      for (let i = 0; i < stepText.length; i++) {
        steps[i] = +stepText[i]!;
        values[i] = +valueText[i]!; // 'NaN', 'Infinity', '-Infinity' parse as such
        if (i > 0 && steps[i]! < steps[i - 1]!) sorted = false;
      }
      out.set(key, sorted ? { steps, values } : sortByStep(steps, values));
    }
    return out;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function sortByStep(steps: number[], values: number[]): Series {
  const order = steps.map((_, i) => i).sort((a, b) => steps[a]! - steps[b]!);
  return { steps: order.map((i) => steps[i]!), values: order.map((i) => values[i]!) };
}
