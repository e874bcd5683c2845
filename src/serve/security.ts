// Who may talk to the server. Three checks, before any route runs:
// - the Host header must name this server (localhost, an IP address, the machine's own name or
//   the --host given): a DNS-rebinding page on another origin sends its own name and is refused;
// - off loopback (or whenever --token is given) a token is required: from ?token= (then kept in
//   an HttpOnly cookie), a cookie, or an Authorization: Bearer header; 401 without it;
// - every response carries a strict Content-Security-Policy: scripts, styles and connections
//   only from this server, no inline script.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export const TOKEN_COOKIE = 'clipsweep_token';

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The host part of a Host header ("[::1]:8080" -> "::1", "a.b:80" -> "a.b"), lower case. */
export function hostnameOf(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}

export function hostCheck(ownNames: readonly string[]): MiddlewareHandler {
  const own = new Set(['localhost', ...ownNames.map((n) => n.toLowerCase())]);
  return async (c, next) => {
    const header = c.req.header('host');
    const name = header === undefined ? '' : hostnameOf(header);
    if (name === '' || !(own.has(name) || isIP(name) !== 0)) {
      return c.text(`refused: Host "${header ?? ''}" is not this server\n`, 403);
    }
    await next();
    return;
  };
}

export function tokenCheck(token: string): MiddlewareHandler {
  const expected = Buffer.from(token);
  const ok = (given: string | undefined) => {
    if (given === undefined) return false;
    const b = Buffer.from(given);
    return b.length === expected.length && timingSafeEqual(b, expected);
  };
  return async (c, next) => {
    const query = c.req.query('token');
    if (ok(query)) {
      setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/' });
      // Drop the token from the address bar (and from history) once it is in the cookie.
      const url = new URL(c.req.url);
      url.searchParams.delete('token');
      if (c.req.method === 'GET' && !url.pathname.startsWith('/api/'))
        return c.redirect(url.pathname + url.search, 302);
      await next();
      return;
    }
    const auth = c.req.header('authorization');
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (ok(getCookie(c, TOKEN_COOKIE)) || ok(bearer)) {
      await next();
      return;
    }
    return c.text('401: this server needs its token: open the URL it printed (…?token=…)\n', 401);
  };
}
