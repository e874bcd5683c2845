// Shared by the tests: temp folders, the real CLI binary, the real store.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { chromium, type Browser } from 'playwright-core';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { MetricRow } from '../src/store/types.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/src/cli/main.js');
export const TRAINER = join(ROOT, 'test/fixtures/trainer.mjs');
export const OPENCLIP_REPLAY = join(ROOT, 'test/fixtures/openclip-replay.mjs');

export function tempDir(prefix = 'clipsweep-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A sweep file driving the test trainer; `extra` is appended YAML. */
export function writeSweep(dir: string, body: string, file = 'sweep.yaml'): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    body.replaceAll('$TRAINER', JSON.stringify(TRAINER)).replaceAll('$OPENCLIP', JSON.stringify(OPENCLIP_REPLAY)),
  );
  return path;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
}

export function cli(args: string[], options: CliOptions) {
  return execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { ...options.env },
    extendEnv: true,
    reject: false,
    all: true,
    stdin: 'ignore',
  });
}

export function openStore(dir: string): SqliteStore {
  return SqliteStore.open(join(dir, 'runs', 'sweeps.db'));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(
  check: () => T | undefined | false | null,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined | false | null;
    try {
      value = check();
    } catch {
      value = undefined; // e.g. a database another process is still creating
    }
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Alive and not a zombie (a dead process its new parent has not reaped yet is dead). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Debian's Chromium (never a downloaded browser), and the flags every test and benchmark runs it with. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** Debian's Chromium, headless, as every browser test runs it. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
}

/**
 * Stores steps [from, to) of a run as the recorder would after reading them: one ingest batch
 * with the points `pointsAt` gives for each step (time = step).
 */
export function ingestSteps(
  store: SqliteStore,
  runPk: number,
  steps: { from: number; to: number; total: number },
  pointsAt: (step: number) => Omit<MetricRow, 'step' | 'time'>[],
): void {
  const metrics: MetricRow[] = [];
  for (let s = steps.from; s < steps.to; s++) for (const p of pointsAt(s)) metrics.push({ ...p, step: s, time: s });
  store.ingest([
    {
      runPk,
      attempt: 1,
      metrics,
      events: [],
      offset: steps.to,
      lines: steps.to - steps.from,
      badLines: 0,
      lastStep: steps.to - 1,
      totalSteps: steps.total,
    },
  ]);
}
