// Follows the database and fans changes out to the open pages. One timer for the whole server:
// each tick asks SQLite whether anything was committed since (PRAGMA data_version, no table
// read); only then are the sweeps that someone watches polled, and each delta is sent once per
// subscriber. A page that connects gets a snapshot first, then only deltas.
import { resolveThresholds, type Thresholds } from '../report/options.js';
import { LiveReader, type LiveSweepRow } from '../store/live-reads.js';
import { Diagnoser } from './diagnoser.js';
import type { FirstSeries } from './first-load.js';
import { SweepLive, type FirstLoadPlan, type SweepDelta } from './live.js';

export interface Subscriber {
  /** null: the sweeps list; otherwise a sweep name. */
  sweep: string | null;
  /** `json`: the event's data, serialised once for every subscriber. */
  send(event: string, json: string): void;
}

export interface SweepListItem {
  name: string;
  created_at: number;
  updated_at: number;
  counts: Record<string, number>;
  total: number;
}

export class LiveHub {
  readonly reader: LiveReader;
  private readonly thresholds: Thresholds;
  private readonly sweeps = new Map<string, SweepLive>();
  /** First loads under way in the worker, by sweep name. */
  private readonly loading = new Map<string, Promise<SweepLive | undefined>>();
  private readonly subscribers = new Set<Subscriber>();
  private timer: NodeJS.Timeout | null = null;
  private version = -1;
  private listJson = '';
  /** Diagnoses (full-series reads) run in a worker thread, off the event loop. */
  private readonly diagnoser: Diagnoser | null;

  /** `inlineDiagnoses`: diagnose in the polls themselves (tests that drive polls one by one). */
  constructor(dbFile: string, options: { thresholds?: Partial<Thresholds>; inlineDiagnoses?: boolean } = {}) {
    this.reader = new LiveReader(dbFile);
    this.thresholds = resolveThresholds(options.thresholds ?? {});
    this.diagnoser = options.inlineDiagnoses ? null : new Diagnoser(dbFile);
  }

  start(pollMs: number): void {
    this.timer = setInterval(() => this.tick(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.subscribers.clear();
    void this.diagnoser?.close();
    this.reader.close();
  }

  list(): SweepListItem[] {
    return this.reader.sweeps().map(listItem);
  }

  /** The sweep's live state, built (all series read once, here) on first use. */
  sweep(name: string): SweepLive | undefined {
    const live = this.sweeps.get(name);
    if (live) return live;
    const row = this.reader.sweeps().find((s) => s.name === name);
    if (!row) return undefined;
    this.reader.refreshKeys();
    return this.create(row);
  }

  /**
   * The sweep's live state, its first load read in the worker thread: seconds for a big sweep,
   * during which this event loop serves other requests. Without a worker, as `sweep`.
   */
  load(name: string): Promise<SweepLive | undefined> {
    const live = this.sweeps.get(name);
    if (live || !this.diagnoser) return Promise.resolve(live ?? this.sweep(name));
    const diagnoser = this.diagnoser;
    let pending = this.loading.get(name);
    if (!pending) {
      const row = this.reader.sweeps().find((s) => s.name === name);
      if (!row) return Promise.resolve(undefined);
      this.reader.refreshKeys();
      const plan = SweepLive.plan(this.reader, row);
      pending = diagnoser
        .firstLoad(plan.job)
        .then(
          (series) => this.sweeps.get(name) ?? this.create(row, { plan, series }),
          // A failed worker read is done here instead (unless the server is closing).
          (error: Error) => (error.message === 'diagnoser closed' ? undefined : this.sweep(name)),
        )
        .finally(() => this.loading.delete(name));
      this.loading.set(name, pending);
    }
    return pending;
  }

  private create(row: LiveSweepRow, preloaded?: { plan: FirstLoadPlan; series: FirstSeries[] }): SweepLive {
    const live = new SweepLive(this.reader, row, this.thresholds, {
      ...(this.diagnoser ? { diagnoser: this.diagnoser } : {}),
      ...(preloaded ? { preloaded } : {}),
      onDelta: (delta) => this.broadcast(delta),
    });
    this.sweeps.set(row.name, live);
    return live;
  }

  /** Catches the sweep up (sending what changed to the pages already open), then adds `sub`. */
  subscribe(sub: Subscriber): void {
    if (sub.sweep !== null) {
      const live = this.sweep(sub.sweep);
      live?.pauseDiagnoses();
      if (live) this.pollSweep(live);
    }
    this.subscribers.add(sub);
  }

  /** A sweep page was asked for: its sweep's background diagnoses wait (see pauseDiagnoses). */
  pageOpening(name: string): void {
    this.sweeps.get(name)?.pauseDiagnoses();
  }

  unsubscribe(sub: Subscriber): void {
    this.subscribers.delete(sub);
  }

  /** One poll; public so that tests and the benchmark can drive it. */
  tick(): void {
    const version = this.reader.dataVersion();
    // Unchanged database: nothing to read; only diagnoses left over by the last poll go on.
    if (version === this.version) {
      for (const live of this.sweeps.values()) {
        if (!live.pendingDiagnoses()) continue;
        const delta = live.continueDiagnoses(Date.now() / 1000);
        if (delta) this.broadcast(delta);
      }
      return;
    }
    this.version = version;
    this.reader.refreshKeys();
    const watched = new Set([...this.subscribers].map((s) => s.sweep));
    if (watched.has(null)) {
      const list = this.list();
      const json = JSON.stringify(list);
      if (json !== this.listJson) {
        this.listJson = json;
        for (const s of this.subscribers) if (s.sweep === null) s.send('sweeps', json);
      }
    }
    for (const live of this.sweeps.values()) {
      // Watched sweeps follow the database; the others only finish their diagnoses (their
      // alerts are then in the next page's snapshot).
      if (watched.has(live.sweep.name) || live.pendingDiagnoses()) this.pollSweep(live);
    }
  }

  /** How often pages opening made the diagnosis worker give way, and the diagnoses it deferred. */
  diagnosesGivingWay(): { holds: number; deferred: number } {
    return { holds: this.diagnoser?.holds ?? 0, deferred: this.diagnoser?.deferred ?? 0 };
  }

  /** True while some loaded sweep has runs whose diagnostics are still to be computed. */
  pendingDiagnoses(): boolean {
    return [...this.sweeps.values()].some((l) => l.pendingDiagnoses());
  }

  private pollSweep(live: SweepLive): void {
    const delta = live.poll(Date.now() / 1000);
    if (delta) this.broadcast(delta);
  }

  private broadcast(delta: SweepDelta): void {
    const json = JSON.stringify(delta);
    for (const s of this.subscribers) if (s.sweep === delta.sweep) s.send('delta', json);
  }
}

function listItem(s: LiveSweepRow): SweepListItem {
  return {
    name: s.name,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    counts: s.counts as Record<string, number>,
    total: s.total,
  };
}
