// `sweep serve`: a local web server on the sweep database (read-only). Routing by hono on Node's
// http server; pages are static shells under assets/ that fetch JSON and follow server-sent
// events, so no data ever reaches the page as markup.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname as machineName } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { ClipsweepError, UsageError } from '../errors.js';
import { lttb } from '../report/series.js';
import type { Thresholds } from '../report/options.js';
import { listFiles, readTail } from './files.js';
import { LiveHub, type Subscriber } from './hub.js';
import { jsonValue } from './views.js';
import { generateToken, hostCheck, isLoopback, securityHeaders, tokenCheck } from './security.js';

export interface ServeOptions {
  dbFile: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** Required off loopback: generated when absent. On loopback only if given. */
  token?: string;
  /** How often the database is polled. Default 500 ms. */
  pollMs?: number;
  thresholds?: Partial<Thresholds>;
}

export interface RunningServer {
  /** The URL to open, with ?token= when a token is required. */
  url: string;
  port: number;
  host: string;
  token: string | null;
  hub: LiveHub;
  /** Resolves once the latest sweep's series are read and diagnosed (the first page is then fast). */
  warmed: Promise<void>;
  close(): Promise<void>;
}

/** The page shells, scripts and styles: read from the source tree (published with the package). */
const ASSETS_DIR = fileURLToPath(new URL('../../../src/serve/assets/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};
/** Longest stdout/stderr tail a page gets. */
const TAIL_BYTES = 64 * 1024;
/** Deltas waiting for one page before it is dropped (about 100 s of polls). */
const MAX_QUEUED = 200;
/** Points per series in a zoomed view: LTTB of every row in the range. */
const ZOOM_POINTS = 2000;

function loadAssets(): Map<string, { body: Buffer | string; type: string }> {
  const assets = new Map<string, { body: Buffer | string; type: string }>();
  for (const name of readdirSync(ASSETS_DIR)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(ASSETS_DIR, name)), type });
  }
  const require = createRequire(import.meta.url);
  const chartJs = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'));
  assets.set('chart.umd.js', { body: chartJs, type: TYPES['.js']! });
  // The report's chart builders (no imports; `export` dropped makes them a plain script), so the
  // live charts are the report's charts.
  const specs = readFileSync(new URL('../report/charts/specs.js', import.meta.url), 'utf8')
    .replace(/^export /gm, '')
    .replace(/^\/\/# sourceMappingURL=.*$/m, '');
  assets.set('specs.js', { body: specs, type: TYPES['.js']! });
  return assets;
}

export function buildApp(hub: LiveHub, security: { ownNames: string[]; token: string | null }): Hono {
  const assets = loadAssets();
  const app = new Hono();
  app.use('*', securityHeaders());
  app.use('*', hostCheck(security.ownNames));
  if (security.token !== null) app.use('*', tokenCheck(security.token));

  const page = (name: string) => (c: Context) => {
    const asset = assets.get(name)!;
    return c.body(asset.body as string, 200, { 'Content-Type': asset.type });
  };
  app.get('/', page('index.html'));
  app.get('/sweep/:sweep', (c) => {
    // Background diagnoses wait from the page's first request on: its assets, snapshot and
    // first draw share the machine with them.
    hub.pageOpening(c.req.param('sweep'));
    return page('sweep.html')(c);
  });
  app.get('/sweep/:sweep/run/:run', page('run.html'));
  app.get('/assets/:file', (c) => {
    const asset = assets.get(c.req.param('file'));
    if (!asset || asset.type.startsWith('text/html')) return c.text('not found\n', 404);
    return c.body(asset.body as string, 200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' });
  });

  app.get('/api/sweeps', (c) => c.json(hub.list()));

  const follow = (c: Context, sweep: string | null, first: () => string) =>
    streamSSE(c, async (stream) => {
      const queue: string[] = [];
      let wake: (() => void) | null = null;
      const sub: Subscriber = {
        sweep,
        send(event, json) {
          queue.push(`${event}\n${json}`);
          wake?.();
        },
      };
      let open = true;
      stream.onAbort(() => {
        open = false;
        hub.unsubscribe(sub);
        wake?.();
      });
      hub.subscribe(sub);
      try {
        await stream.writeSSE({ event: 'snapshot', data: first() });
        while (open) {
          // A page that cannot keep up is dropped (it reconnects and gets a fresh snapshot)
          // rather than queued for without bound.
          if (queue.length > MAX_QUEUED) break;
          while (queue.length > 0 && open) {
            const item = queue.shift()!;
            const cut = item.indexOf('\n');
            await stream.writeSSE({ event: item.slice(0, cut), data: item.slice(cut + 1) });
          }
          // A comment every 15 s keeps proxies and the browser from timing the stream out.
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 15_000).unref();
          });
          wake = null;
          if (open && queue.length === 0) await stream.write(': keep-alive\n\n');
        }
      } finally {
        hub.unsubscribe(sub);
      }
    });

  app.get('/api/events', (c) => follow(c, null, () => JSON.stringify(hub.list())));
  app.get('/api/sweeps/:sweep/events', async (c) => {
    // A sweep not loaded yet is read in the worker: this event loop serves others meanwhile.
    const live = await hub.load(c.req.param('sweep'));
    if (!live) return c.json({ error: 'no such sweep' }, 404);
    // light=1: a page that follows one run needs the sweep's changes, not every run's series.
    const light = c.req.query('light') === '1';
    return follow(c, live.sweep.name, () => live.snapshotJson(Date.now() / 1000, !light));
  });

  const runOf = async (c: Context) => {
    const live = await hub.load(c.req.param('sweep') ?? '');
    const row = live ? hub.reader.run(live.sweep.pk, c.req.param('run') ?? '') : undefined;
    return live && row ? { live, row } : undefined;
  };

  app.get('/api/sweeps/:sweep/runs/:run', async (c) => {
    const found = await runOf(c);
    if (!found) return c.json({ error: 'no such run' }, 404);
    const { live, row } = found;
    const state = live.runState(row.id);
    return c.json({
      sweep: live.sweep.name,
      run: state?.view ?? null,
      run_dir: row.runDir,
      params: row.params,
      summary: row.summary,
      transitions: hub.reader.transitions(row.pk),
      keys: hub.reader.runKeys(row.pk),
      diagnostics: state?.diag?.diagnostics ?? null,
      alerts: state?.alerts ?? [],
      stderr_tail: hub.reader.stderrTail(row.pk),
      checkpoints: listFiles(row.runDir, 'checkpoints'),
      now: Date.now() / 1000,
    });
  });

  app.get('/api/sweeps/:sweep/runs/:run/series', async (c) => {
    const found = await runOf(c);
    if (!found) return c.json({ error: 'no such run' }, 404);
    const key = c.req.query('key') ?? '';
    const from = Number(c.req.query('from') ?? -Infinity);
    const to = Number(c.req.query('to') ?? Infinity);
    const after = Number(c.req.query('after') ?? NaN);
    const points = Math.min(Math.max(Number(c.req.query('points') ?? ZOOM_POINTS) || ZOOM_POINTS, 10), 20_000);
    // after=: the points after a step (live appends); otherwise the range, downsampled.
    const all = Number.isFinite(after)
      ? hub.reader.pointsSince(found.row.pk, key, after, 50_000)
      : hub.reader.pointsBetween(
          found.row.pk,
          key,
          Number.isFinite(from) ? from : -1e18,
          Number.isFinite(to) ? to : 1e18,
        );
    const drawn = lttb(all.steps, all.values, points);
    const epochAt = new Map(all.steps.map((s, i) => [s, all.epochs[i] ?? null]));
    const nonfinite = all.steps.flatMap((s, i) =>
      Number.isFinite(all.values[i]) ? [] : [{ x: s, y: jsonValue(all.values[i]!) }],
    );
    return c.json({
      key,
      total: all.steps.length,
      x: drawn.x,
      y: drawn.y,
      e: drawn.x.map((s) => epochAt.get(s) ?? null),
      nonfinite,
    });
  });

  app.get('/api/sweeps/:sweep/runs/:run/file', async (c) => {
    const found = await runOf(c);
    if (!found) return c.json({ error: 'no such run' }, 404);
    const result = readTail(found.row.runDir, c.req.query('path') ?? '', TAIL_BYTES);
    if (!result.ok) return c.json({ error: result.message }, result.status);
    return c.json({ path: c.req.query('path'), size: result.size, truncated: result.truncated, text: result.text });
  });

  app.notFound((c) => c.text('not found\n', 404));
  app.onError((error, c) => {
    process.stderr.write(`sweep serve: ${error.stack ?? error.message}\n`);
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  const token = options.token ?? (loopback ? null : generateToken());
  if (token !== null && token.length < 8) throw new UsageError('--token: expected at least 8 characters');
  const hub = new LiveHub(options.dbFile, options.thresholds ? { thresholds: options.thresholds } : {});
  const app = buildApp(hub, { ownNames: [host.replace(/^\[|\]$/g, ''), machineName()], token });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () => resolve(s));
    s.once('error', (error: Error) =>
      reject(
        new ClipsweepError('USAGE', `cannot listen on ${host}:${options.port ?? 0}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
  });
  hub.start(options.pollMs ?? 500);
  // Read the most recently updated sweep now rather than when the first page asks for it: with
  // 24 M points that takes seconds, which the user should not wait for after opening the page.
  // The reading is done in the worker thread: pages and assets are served meanwhile.
  const latest = hub.list().sort((a, b) => b.updated_at - a.updated_at)[0];
  const warmed = (latest ? hub.load(latest.name) : Promise.resolve(undefined)).then(
    // Building the snapshot once fills its per-run cache.
    (live) => void live?.snapshotJson(0),
    (error: Error) => void process.stderr.write(`sweep serve: loading ${latest?.name}: ${error.message}\n`),
  );
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? machineName() : host;
  const url = `http://${shownHost}:${port}/${token !== null ? `?token=${encodeURIComponent(token)}` : ''}`;
  return {
    url,
    port,
    host,
    token,
    hub,
    warmed,
    close: () =>
      new Promise<void>((resolve) => {
        hub.stop();
        // Open event streams never end by themselves: close them with the server.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
