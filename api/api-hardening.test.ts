/**
 * The HTTP API as an outside reviewer tried it (issue #12): headers, CORS, media types, OpenAPI
 * completeness, sign-in throttling that nobody can turn against an account's owner, trusted proxies,
 * registration rules, one-time MFA tickets, sessions as an allow-list, and what reaches the logs.
 */
import t from 'tap';
import { shopDeps } from '../test/helpers/shop';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApi, redactedUrl } from './app';
import { AuthService } from './auth-service';
import { DEFAULT_THROTTLE, LoginThrottle } from './login-throttle';
import { SqliteAccountStore } from '../adapters/accounts/account-store-sqlite';
import { SqliteLedger } from '../adapters/ledger/ledger-sqlite';
import { SqliteRoomDirectory } from '../adapters/rooms/room-directory-sqlite';
import { GiftCatalog } from '../economy/gift-catalog';
import { CoreMetrics } from '../core/metrics';
import { Revocations } from '../core/auth/revocations';
import { signAccessToken } from '../core/auth/jwt';
import { AgoraTokenIssuer } from '../adapters/media/media-token-issuer';

const SECRET = 'hardening-test-secret-0123456789-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'hb-api-hard-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function setup(over: { metrics?: boolean; corsOrigins?: string[]; trustedProxies?: string[]; log?: pino.Logger } = {}) {
  const i = n++;
  const accounts = new SqliteAccountStore(join(dir, `accounts-${i}.sqlite`));
  const ledger = new SqliteLedger(join(dir, `ledger-${i}.sqlite`));
  const rooms = new SqliteRoomDirectory(join(dir, `rooms-${i}.sqlite`));
  const revocations = new Revocations(60_000);
  const auth = new AuthService(accounts, { secret: SECRET, issuer: 'halobuzz', audience: 'halobuzz-realtime', accessTtlSec: 900, refreshTtlSec: 3600 },
    (sids) => sids.forEach((s) => revocations.add(s)), (sid) => revocations.has(sid), new LoginThrottle(DEFAULT_THROTTLE));
  const shop = shopDeps(ledger, join(dir, `purchases-${i}.sqlite`));
  const app = await buildApi({
    ...shop, auth, ledger, catalog: new GiftCatalog({ version: 1, gifts: [{ id: 'rose', name: 'Rose', price: 1, tier: 1 }] }), metrics: new CoreMetrics(false),
    ready: async () => true, rooms, accounts, media: new AgoraTokenIssuer('970ca35de60c44645bbae8a215061b33', '5cfd2fd1755d40ecb72977518be15d3b', 600),
    realtime: { roomPresence: async (list) => new Map(list.map((r) => [r, { viewers: 0, nodes: [] }])), revokeSessions: async () => undefined, endStream: async () => undefined, deliver: async () => undefined, moderate: async () => undefined, shadowMute: async () => undefined, analyticsOptOut: async () => undefined },
    owners: { record: async () => undefined },
    settings: { bodyLimitBytes: 4096, corsOrigins: over.corsOrigins ?? [], rateLimitPerMinute: 100_000, metrics: over.metrics ?? false, trustedProxies: over.trustedProxies ?? [] },
    ...(over.log ? { log: over.log } : {}),
  });
  t.teardown(async () => {
    await app.close();
    await accounts.close();
    await ledger.close();
    await rooms.close();
  });
  return { app, accounts };
}

const code = (res: { body: string }) => {
  try {
    return (JSON.parse(res.body) as { error?: { code: string } }).error?.code;
  } catch {
    return undefined;
  }
};
const post = (app: FastifyInstance, url: string, payload: object, ip = '127.0.0.1', extra: Partial<InjectOptions> = {}) =>
  app.inject({ method: 'POST', url, payload, remoteAddress: ip, ...extra });
const login = (app: FastifyInstance, email: string, password: string, ip: string) => post(app, '/v1/auth/login', { email, password }, ip);
const register = async (app: FastifyInstance, email: string, ip = '127.0.0.1', password = 'correct horse battery', displayName = 'Asha') =>
  post(app, '/v1/auth/register', { email, password, displayName }, ip);

t.test('headers: strict CSP everywhere, the docs page still works, API answers are never cached', async (t) => {
  const { app } = await setup();
  const reg = await register(app, 'hdr@example.com');
  t.equal(reg.statusCode, 201);
  t.equal(reg.headers['cache-control'], 'no-store', 'token responses are not cached');
  t.match(String(reg.headers['content-security-policy']), /default-src 'none'/);
  const refresh = await post(app, '/v1/auth/refresh', { refreshToken: (reg.json() as { tokens: { refreshToken: string } }).tokens.refreshToken });
  t.equal(refresh.headers['cache-control'], 'no-store');
  const docs = await app.inject({ method: 'GET', url: '/docs/' });
  t.equal(docs.statusCode, 200, 'the OpenAPI UI is served');
  t.match(docs.body, /swagger/i);
  t.match(String(docs.headers['content-security-policy']), /script-src/, 'with its own CSP');
});

t.test('CORS: an allowed origin may preflight PATCH, PUT and DELETE with a bearer token; others get nothing', async (t) => {
  const { app } = await setup({ corsOrigins: ['https://app.example.com'] });
  for (const method of ['PATCH', 'PUT', 'DELETE']) {
    const res = await app.inject({ method: 'OPTIONS', url: '/v1/me', headers: { origin: 'https://app.example.com', 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' } });
    t.equal(res.statusCode, 204, `${method} preflight`);
    t.match(String(res.headers['access-control-allow-methods']), new RegExp(method));
    t.match(String(res.headers['access-control-allow-headers']).toLowerCase(), /authorization/);
  }
  const evil = await app.inject({ method: 'OPTIONS', url: '/v1/me', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'DELETE' } });
  t.notOk(evil.headers['access-control-allow-origin'], 'no CORS grant for other origins');
});

t.test('a JSON body sent as text/plain is 415, not a validation error', async (t) => {
  const { app } = await setup();
  const res = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: JSON.stringify({ email: 'a@b.co', password: 'x' }), headers: { 'content-type': 'text/plain' } });
  t.equal(res.statusCode, 415);
  t.equal(code(res), 'HB_API_UNSUPPORTED_MEDIA');
});

t.test('every status a route answers is declared for it in the OpenAPI document', async (t) => {
  const { app } = await setup();
  const token = ((await register(app, 'spec@example.com')).json() as { tokens: { accessToken: string } }).tokens.accessToken;
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown; parameters?: { in: string }[] }>> };
  let checked = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const declared = new Set(Object.keys(op.responses));
      const concrete = path.replace(/\{[^}]+\}/g, 'bad id!');
      const attempts: InjectOptions[] = [
        { method: method.toUpperCase() as 'GET', url: concrete },
        { method: method.toUpperCase() as 'GET', url: `${concrete}?limit=abc&from=x`, headers: { authorization: `Bearer ${token}` } },
        { method: method.toUpperCase() as 'GET', url: path.replace(/\{[^}]+\}/g, 'r_missing'), headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, payload: '{}' },
        { method: method.toUpperCase() as 'GET', url: path.replace(/\{[^}]+\}/g, 'r_missing'), headers: { authorization: `Bearer ${token}` }, ...(op.requestBody ? { payload: { unexpected: true } } : {}) },
      ];
      for (const a of attempts) {
        const res = await app.inject(a);
        checked++;
        if (res.statusCode === 404 && code(res) === 'HB_API_NOT_FOUND' && !declared.has('404') && String(a.url).includes('bad id!')) continue;
        t.ok(declared.has(String(res.statusCode)), `${method.toUpperCase()} ${path} answered ${res.statusCode} (${code(res) ?? 'ok'}), declared: ${[...declared].join(',')}`);
      }
    }
  }
  t.ok(checked > 60, `probed ${checked} requests`);
});

t.test('sign-in throttling: an attacker locks only themselves; the owner keeps signing in', async (t) => {
  const { app } = await setup();
  t.equal((await register(app, 'owner@example.com', '10.0.0.1')).statusCode, 201, 'the owner signed up from 10.0.0.1');
  for (let i = 0; i < 8; i++) await login(app, 'owner@example.com', 'guess number ' + i, '203.0.113.9');
  const attacker = await login(app, 'owner@example.com', 'correct horse battery', '203.0.113.9');
  t.equal(code(attacker), 'HB_API_LOCKED_OUT', 'the guessing IP is locked out of this account, even with the right password');
  const owner = await login(app, 'owner@example.com', 'correct horse battery', '198.51.100.7');
  t.equal(owner.statusCode, 200, 'the owner on another IP is not affected');
  const home = await login(app, 'owner@example.com', 'correct horse battery', '10.0.0.1');
  t.equal(home.statusCode, 200, 'nor from their usual IP');
});

t.test('throttle policy: progressive per-(account, IP) delays, per-IP lock, account-wide lock that spares known IPs', async (t) => {
  const th = new LoginThrottle({ ...DEFAULT_THROTTLE, pairFree: 3, pairBaseLockMs: 1000, pairMaxLockMs: 8000, ipLimit: 50, accountLimit: 10, accountLockMs: 60_000 });
  let now = 1_000_000;
  for (let i = 0; i < 3; i++) th.failure('a', 'ip1', now);
  t.equal(th.blockedFor('a', 'ip1', now, false), 1000, 'third failure: 1 s');
  now += 1000;
  th.failure('a', 'ip1', now);
  t.equal(th.blockedFor('a', 'ip1', now, false), 2000, 'fourth: 2 s');
  now += 2000;
  th.failure('a', 'ip1', now);
  t.equal(th.blockedFor('a', 'ip1', now, false), 4000, 'fifth: 4 s');
  th.failure('a', 'ip1', now);
  th.failure('a', 'ip1', now);
  t.equal(th.blockedFor('a', 'ip1', now, false), 8000, 'capped at the maximum');
  t.equal(th.blockedFor('a', 'ip2', now, false), 0, 'another IP is free');
  for (let i = 0; i < 5; i++) th.failure('a', `bot${i}`, now);
  t.ok(th.blockedFor('a', 'stranger', now, false) > 0, 'after the account-wide limit, unknown IPs wait');
  t.equal(th.blockedFor('a', 'home', now, true), 0, 'a known IP of the owner does not');
  th.success('a', 'ip1');
  t.equal(th.blockedFor('a', 'ip1', now, true), 0, 'success clears the pair');
  const ips = new LoginThrottle({ ...DEFAULT_THROTTLE, ipLimit: 4 });
  for (let i = 0; i < 4; i++) ips.failure(`user${i}`, 'stuffer', now);
  t.ok(ips.blockedFor('user9', 'stuffer', now, false) > 0, 'an IP failing across accounts is locked for all of them');
  t.ok(ips.ipBlockedFor('stuffer', now) > 0);
});

t.test('registration: refused from a locked IP; taken emails count against the IP; weak passwords and bad names refused', async (t) => {
  const { app } = await setup();
  t.equal(code(await register(app, 'weak@example.com', '127.0.0.1', '1234567890')), 'HB_API_WEAK_PASSWORD');
  t.equal(code(await register(app, 'weak@example.com', '127.0.0.1', 'password123')), 'HB_API_WEAK_PASSWORD');
  for (const name of ['a\u0000b', 'bell\u0007', 'evil\u202Egnp', '   ', '<script>x</script>']) {
    t.equal(code(await register(app, 'name@example.com', '127.0.0.1', 'correct horse battery', name)), 'HB_API_VALIDATION', `name ${JSON.stringify(name)} refused`);
  }
  const nfc = await register(app, 'nfc@example.com', '127.0.0.1', 'correct horse battery', '  Cafe\u0301  ');
  t.equal((nfc.json() as { user: { displayName: string } }).user.displayName, 'Café', 'names are NFC-normalised and trimmed');
  t.equal((await register(app, 'taken@example.com', '192.0.2.50')).statusCode, 201);
  for (let i = 0; i < DEFAULT_THROTTLE.ipLimit; i++) t.equal((await register(app, 'taken@example.com', '192.0.2.66')).statusCode, 409);
  t.equal(code(await register(app, 'taken@example.com', '192.0.2.66')), 'HB_API_LOCKED_OUT', `after ${DEFAULT_THROTTLE.ipLimit} taken-email probes the IP is locked out`);
  t.equal(code(await register(app, 'fresh@example.com', '192.0.2.66')), 'HB_API_LOCKED_OUT', 'and cannot register new accounts either');
  t.equal(code(await login(app, 'taken@example.com', 'correct horse battery', '192.0.2.66')), 'HB_API_LOCKED_OUT', 'nor sign in');
});

t.test('trusted proxies: X-Forwarded-For counts only from a configured proxy', async (t) => {
  const trusting = (await setup({ trustedProxies: ['10.1.0.0/16'] })).app;
  const plain = (await setup()).app;
  for (const app of [trusting, plain]) t.equal((await register(app, 'xff@example.com', '10.1.2.3')).statusCode, 201);
  // Five failures "from" client 203.0.113.5 through the proxy lock that client only.
  for (let i = 0; i < 6; i++) await post(trusting, '/v1/auth/login', { email: 'xff@example.com', password: 'nope nope ' + i }, '10.1.2.3', { headers: { 'x-forwarded-for': '203.0.113.5' } });
  const sameClient = await post(trusting, '/v1/auth/login', { email: 'xff@example.com', password: 'correct horse battery' }, '10.1.2.3', { headers: { 'x-forwarded-for': '203.0.113.5' } });
  const otherClient = await post(trusting, '/v1/auth/login', { email: 'xff@example.com', password: 'correct horse battery' }, '10.1.2.3', { headers: { 'x-forwarded-for': '198.51.100.20' } });
  t.equal(code(sameClient), 'HB_API_LOCKED_OUT', 'the real client behind the proxy is locked');
  t.equal(otherClient.statusCode, 200, 'another client behind the same proxy is not');
  // Without the setting the header is ignored: a client cannot dodge its lock by inventing addresses.
  for (let i = 0; i < 6; i++) await post(plain, '/v1/auth/login', { email: 'xff@example.com', password: 'nope nope ' + i }, '198.18.0.1', { headers: { 'x-forwarded-for': `192.0.2.${i}` } });
  const spoofed = await post(plain, '/v1/auth/login', { email: 'xff@example.com', password: 'correct horse battery' }, '198.18.0.1', { headers: { 'x-forwarded-for': '192.0.2.200' } });
  t.equal(code(spoofed), 'HB_API_LOCKED_OUT', 'a forged X-Forwarded-For does not help');
});

t.test('sessions are an allow-list: a correctly signed token naming a session never issued is refused', async (t) => {
  const { app } = await setup();
  const reg = (await register(app, 'allow@example.com')).json() as { user: { id: string }; tokens: { accessToken: string } };
  t.equal((await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${reg.tokens.accessToken}` } })).statusCode, 200);
  const forged = signAccessToken({ sub: reg.user.id, sid: 'never-issued', ttlSec: 600, issuer: 'halobuzz', audience: 'halobuzz-realtime' }, SECRET);
  const res = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${forged}` } });
  t.equal(res.statusCode, 401);
  t.equal(code(res), 'HB_API_UNAUTHENTICATED');
});

t.test('/metrics is not on the API port unless configured; requests are logged at debug with query values redacted', async (t) => {
  t.equal((await (await setup()).app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404, 'off by default');
  t.equal((await (await setup({ metrics: true })).app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200, 'on with HALOBUZZ_API_METRICS=1');
  t.equal(redactedUrl('/v1/x?access_token=abc&room=r1'), '/v1/x?access_token=REDACTED&room=REDACTED');
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const info = await setup({ log: pino({ level: 'info' }, sink) });
  await info.app.inject({ method: 'GET', url: '/v1/rooms?access_token=topsecret123' });
  t.equal(lines.filter((l) => l.includes('"request')).length, 0, 'no per-request lines at info');
  const debug = await setup({ log: pino({ level: 'debug' }, sink) });
  await debug.app.inject({ method: 'GET', url: '/v1/rooms?access_token=topsecret123' });
  t.ok(lines.some((l) => l.includes('/v1/rooms?access_token=REDACTED')), 'at debug the request is logged, redacted');
  t.notOk(lines.some((l) => l.includes('topsecret123')), 'the token never reaches the log');
});
