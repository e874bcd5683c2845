// `sweep serve` refuses what it must: a foreign Host header (DNS rebinding), requests without the
// token off loopback, paths outside the run folders (.., absolute, a symlink out); and it never
// writes to the database. Real server on a real port, real SQLite file, raw HTTP requests.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { SqliteStore } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';

const XSS = '<script>alert(1)</script>';
let dir: string;
let dbFile: string;
let runId: string;

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

before(() => {
  dir = tempDir();
  dbFile = join(dir, 'runs', 'sweeps.db');
  const store = SqliteStore.open(dbFile);
  const sweep = store.registerSweep({
    name: 'sec',
    specPath: null,
    spec: {},
    specHash: 'x',
    runsDir: join(dir, 'runs'),
  });
  runId = 'r1';
  const runDir = join(dir, 'runs', 'sec', runId);
  mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
  writeFileSync(join(runDir, 'stdout.log'), 'hello from the run\n');
  writeFileSync(join(runDir, 'checkpoints', 'last.json'), '{"step":3}');
  writeFileSync(join(dir, 'secret.txt'), 'not for the browser');
  symlinkSync(join(dir, 'secret.txt'), join(runDir, 'escape.txt'));
  store.registerRuns(sweep.pk, [{ id: runId, name: XSS, params: { lr: 0.1 }, ordinal: 0, runDir }]);
  store.close();
});

describe('on loopback (the default)', () => {
  let server: RunningServer;
  let before_: string;
  before(async () => {
    before_ = sha(dbFile);
    server = await startServer({ dbFile, port: 0, pollMs: 100 });
  });
  after(async () => {
    await server.close();
  });

  test('binds 127.0.0.1 and needs no token', async () => {
    assert.equal(server.host, '127.0.0.1');
    assert.equal(server.token, null);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await get(server.port, '/api/sweeps');
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body)[0].name, 'sec');
  });

  test('a request whose Host is another name (DNS rebinding) is refused', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, 'localhost.evil.example']) {
      const res = await get(server.port, '/api/sweeps', { host });
      assert.equal(res.status, 403, host);
      assert.ok(!res.body.includes('sec'), 'nothing of the database in the refusal');
    }
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`])
      assert.equal((await get(server.port, '/', { host })).status, 200, host);
  });

  test('every response carries a strict Content-Security-Policy and no inline data', async () => {
    const res = await get(server.port, '/sweep/sec');
    assert.equal(res.status, 200);
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(!/<script>(?!<\/script>)[^<]/.test(res.body), 'no inline script in the page shell');
    assert.ok(!res.body.includes('sec"'), 'the shell carries no data');
  });

  test('file views serve files of the run folder and refuse any path outside it', async () => {
    const base = `/api/sweeps/sec/runs/${runId}/file?path=`;
    const ok = await get(server.port, base + 'stdout.log');
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).text, 'hello from the run\n');
    for (const path of [
      '../../../secret.txt',
      '..%2F..%2F..%2Fsecret.txt',
      encodeURIComponent(join(dir, 'secret.txt')),
      '/etc/passwd',
      'escape.txt',
      '../r2/stdout.log',
    ]) {
      const res = await get(server.port, base + path);
      assert.equal(res.status, 403, `${path}: ${res.status} ${res.body}`);
      assert.ok(!res.body.includes('not for the browser'));
    }
    assert.equal((await get(server.port, base + 'missing.log')).status, 404);
    assert.equal(
      (await get(server.port, `/api/sweeps/sec/runs/nope/file?path=stdout.log`)).status,
      404,
      'only runs the database knows',
    );
    const detail = JSON.parse((await get(server.port, `/api/sweeps/sec/runs/${runId}`)).body);
    assert.deepEqual(
      detail.checkpoints.map((c: { path: string }) => c.path),
      [join('checkpoints', 'last.json')],
    );
  });

  test('a <script> run name travels as JSON data, never as markup', async () => {
    const detail = await get(server.port, `/api/sweeps/sec/runs/${runId}`);
    assert.match(String(detail.headers['content-type']), /application\/json/);
    assert.equal(JSON.parse(detail.body).run.name, XSS);
  });

  test('the database is never written', async () => {
    await new Promise((r) => setTimeout(r, 300)); // a few polls
    assert.equal(sha(dbFile), before_);
  });
});

describe('off loopback', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ dbFile, host: '0.0.0.0', port: 0 });
  });
  after(async () => {
    await server.close();
  });

  test('a token is generated and printed in the URL', () => {
    assert.ok(server.token !== null && server.token.length >= 20);
    assert.ok(server.url.endsWith(`/?token=${encodeURIComponent(server.token)}`));
  });

  test('every request without the token is refused with 401', async () => {
    for (const path of [
      '/',
      '/api/sweeps',
      '/sweep/sec',
      '/assets/common.js',
      `/api/sweeps/sec/runs/${runId}/file?path=stdout.log`,
    ]) {
      const res = await get(server.port, path);
      assert.equal(res.status, 401, path);
      assert.ok(!res.body.includes('sec'));
    }
    assert.equal((await get(server.port, '/api/sweeps?token=wrong-token-123')).status, 401);
    assert.equal((await get(server.port, '/api/sweeps', { cookie: 'clipsweep_token=wrong' })).status, 401);
  });

  test('the token opens the page once, then a cookie or a bearer header carries it', async () => {
    const first = await get(server.port, `/?token=${encodeURIComponent(server.token!)}`);
    assert.equal(first.status, 302, 'the token leaves the address bar');
    assert.equal(first.headers.location, '/');
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    assert.match(String(first.headers['set-cookie']), /HttpOnly/i);
    assert.equal((await get(server.port, '/api/sweeps', { cookie })).status, 200);
    assert.equal((await get(server.port, '/api/sweeps', { authorization: `Bearer ${server.token}` })).status, 200);
    // The Host check still applies with the token.
    assert.equal((await get(server.port, '/api/sweeps', { cookie, host: 'evil.example' })).status, 403);
  });
});
