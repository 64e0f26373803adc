import t from 'tap';
import { shopDeps } from '../test/helpers/shop';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { buildApi } from './app';
import { AuthService } from './auth-service';
import { LoginThrottle } from './login-throttle';
import { SqliteAccountStore } from '../adapters/accounts/account-store-sqlite';
import { SqliteLedger } from '../adapters/ledger/ledger-sqlite';
import { GiftCatalog } from '../economy/gift-catalog';
import { CoreMetrics } from '../core/metrics';
import { Revocations } from '../core/auth/revocations';
import { signAccessToken } from '../core/auth/jwt';
import { SqliteFollowStore } from '../adapters/social/follow-store-sqlite';
import { SqliteNotificationStore } from '../adapters/notifications/notification-store-sqlite';
import { Templates } from '../notify/templates';
import { SqliteRoomDirectory } from '../adapters/rooms/room-directory-sqlite';
import { AgoraTokenIssuer } from '../adapters/media/media-token-issuer';
import { codeAt, stepAt } from './totp';
import { openRedis, scanKeys, type RedisClient } from '../adapters/redis/open-redis';
import { engineUrl } from '../test/helpers/services';
import { SqliteModerationStore } from '../adapters/moderation/moderation-store-sqlite';
import { SqliteRealtimeStore } from '../adapters/store/realtime-store-sqlite';
import { ModerationService } from '../moderation/moderation-service';
import { ChatFilter } from '../moderation/chat-filter';
import { ReportRules } from '../moderation/report-rules';
import { SqliteConsentStore } from '../adapters/privacy/consent-store-sqlite';
import { ConsentService } from '../privacy/consent-service';
import { PrivacyDocuments } from '../privacy/privacy-documents';
import { MessageCatalog } from '../i18n/message-catalog';

const SECRET = 'api-test-secret-0123456789-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'hb-api-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function setup(over: { rateLimitPerMinute?: number; accessTtlSec?: number; media?: boolean; redis?: RedisClient; ready?: () => Promise<boolean>;
  metrics?: boolean; corsOrigins?: string[]; trustedProxies?: string[]; throttle?: LoginThrottle } = {}) {
  const i = n++;
  const accounts = new SqliteAccountStore(join(dir, `accounts-${i}.sqlite`));
  const ledger = new SqliteLedger(join(dir, `ledger-${i}.sqlite`));
  const revocations = new Revocations(60_000);
  const revoked: string[] = [];
  const auth = new AuthService(accounts, { secret: SECRET, issuer: 'halobuzz', audience: 'halobuzz-realtime', accessTtlSec: over.accessTtlSec ?? 900, refreshTtlSec: 3600 },
    (sids) => {
      revoked.push(...sids);
      for (const s of sids) revocations.add(s);
    }, (sid) => revocations.has(sid), over.throttle, {
      // The moderation service is built below (it needs the stores); the hooks reach it when called.
      beforeSession: (user, device, isNew) => moderation.service.beforeSession(user, device, isNew),
      displayName: (name) => moderation.service.displayName(name),
      flagName: (user, name, rule) => moderation.service.flagName(user, name, rule),
    });
  const catalog = new GiftCatalog({ version: 2, gifts: [{ id: 'rose', name: 'Rose', price: 1, tier: 1 }] });
  const metrics = new CoreMetrics(false);
  const viewers = new Map<string, number>();
  const owners = new Map<string, string>();
  const ended: string[] = [];
  const rooms = new SqliteRoomDirectory(join(dir, `rooms-${i}.sqlite`));
  const realtime = {
    roomPresence: async (list: readonly string[]) => new Map(list.map((r) => [r, { viewers: viewers.get(r) ?? 0, nodes: (viewers.get(r) ?? 0) > 0 ? ['wss://node-7.example.com/ws'] : [] }])),
    revokeSessions: async () => undefined,
    endStream: async (room: string) => void ended.push(room),
    deliver: async () => undefined,
    moderate: async () => undefined,
    shadowMute: async () => undefined,
    analyticsOptOut: async (user: string, declined: boolean) => void optOuts.push(`${user}:${declined}`),
  };
  const optOuts: string[] = [];
  const roomOwners = { record: async (room: string, owner: string) => void owners.set(room, owner) };
  const media = over.media === false ? null : new AgoraTokenIssuer('970ca35de60c44645bbae8a215061b33', '5cfd2fd1755d40ecb72977518be15d3b', 600);
  const shop = shopDeps(ledger, join(dir, `purchases-${i}.sqlite`));
  const follows = new SqliteFollowStore(join(dir, `social-${i}.sqlite`));
  t.teardown(() => follows.close());
  const notificationStore = new SqliteNotificationStore(join(dir, `notifications-${i}.sqlite`));
  t.teardown(() => notificationStore.close());
  const notifications = { store: notificationStore, templates: Templates.fromDir(join(__dirname, '..', '..', 'config', 'notifications'))};
  const moderationStore = new SqliteModerationStore(join(dir, `moderation-${i}.sqlite`));
  const realtimeStore = new SqliteRealtimeStore(join(dir, `realtime-${i}.sqlite`));
  t.teardown(async () => {
    await moderationStore.close();
    await realtimeStore.close();
  });
  const moderationFile = join(__dirname, '..', '..', 'config', 'moderation.json');
  const moderation = {
    store: moderationStore,
    service: new ModerationService({ store: moderationStore, accounts, rooms, realtime: realtimeStore, bridge: realtime, revoke: () => undefined,
      filter: ChatFilter.fromFile(moderationFile), rules: ReportRules.fromFile(moderationFile), now: Date.now }),
  };
  const consentStore = new SqliteConsentStore(join(dir, `privacy-${i}.sqlite`));
  t.teardown(() => consentStore.close());
  const privacy = { consents: new ConsentService({ store: consentStore, documents: PrivacyDocuments.fromFile(join(__dirname, '..', '..', 'config', 'privacy.json')), now: Date.now,
    analyticsOptOut: (user, declined) => void optOuts.push(`${user}:${declined}`) }) };
  const app = await buildApi({ auth, ledger, catalog, metrics, ready: over.ready ?? (async () => true), rooms, realtime, owners: roomOwners, accounts, media, follows, notifications, moderation, privacy, errorMessages: MessageCatalog.fromDir(join(__dirname, '..', '..', 'config', 'locales', 'errors')), ...shop,
    settings: { bodyLimitBytes: 4096, corsOrigins: over.corsOrigins ?? [], metrics: over.metrics ?? true, trustedProxies: over.trustedProxies ?? [], rateLimitPerMinute: over.rateLimitPerMinute ?? 100_000, ...(over.redis ? { rateLimitRedis: over.redis } : {}) } });
  t.teardown(async () => {
    await app.close();
    await accounts.close();
    await ledger.close();
    await rooms.close();
    await shop.store.close();
  });
  return { app, ledger, accounts, revoked, metrics, viewers, owners, ended, optOuts };
}

const json = (app: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', url: string, body?: unknown, token?: string) =>
  app.inject({ method, url, ...(body === undefined ? {} : { payload: body as object }), headers: token ? { authorization: `Bearer ${token}` } : {} });
const code = (res: { json(): unknown }) => (res.json() as { error?: { code: string } }).error?.code;
const register = async (app: FastifyInstance, email = 'alice@example.com', password = 'correct horse battery') => {
  const res = await json(app, 'POST', '/v1/auth/register', { email, password, displayName: 'Alice' });
  return res.json() as { user: { id: string }; tokens: { accessToken: string; refreshToken: string; sessionId: string } };
};

t.test('register: creates, signs in, refuses a taken email and bad input without writing', async (t) => {
  const { app } = await setup();
  const ok = await json(app, 'POST', '/v1/auth/register', { email: 'Alice@Example.com', password: 'correct horse battery', displayName: 'Alice' });
  t.equal(ok.statusCode, 201);
  t.match(ok.json(), { user: { email: 'alice@example.com', displayName: 'Alice' }, tokens: { tokenType: 'Bearer', expiresIn: 900 } });
  const taken = await json(app, 'POST', '/v1/auth/register', { email: 'ALICE@example.com', password: 'another password!!', displayName: 'Mallory' });
  t.equal(taken.statusCode, 409);
  t.equal(code(taken), 'HB_API_EMAIL_TAKEN');
  const cases: [unknown, string][] = [
    [{ email: 'not-an-email', password: 'correct horse battery', displayName: 'x' }, 'HB_API_VALIDATION'],
    [{ email: 'b@example.com', password: 'short', displayName: 'x' }, 'HB_API_VALIDATION'],
    [{ email: 'b@example.com', password: { $gt: '' }, displayName: 'x' }, 'HB_API_VALIDATION'],
    [{ email: 'b@example.com', password: 'correct horse battery', displayName: 'x', admin: true }, 'HB_API_VALIDATION'],
    [{ email: 'b@example.com', password: 12345678901, displayName: 'x' }, 'HB_API_VALIDATION'],
  ];
  for (const [body, expected] of cases) {
    const res = await json(app, 'POST', '/v1/auth/register', body);
    t.equal(res.statusCode, 400, JSON.stringify(body));
    t.equal(code(res), expected);
  }
  const login = await json(app, 'POST', '/v1/auth/login', { email: 'b@example.com', password: 'correct horse battery' });
  t.equal(code(login), 'HB_API_INVALID_CREDENTIALS', 'none of the rejected sign-ups created an account');
});

t.test('malformed JSON, wrong media type, oversized bodies and unknown routes have their codes', async (t) => {
  const { app } = await setup();
  const bad = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: '{"email": "a@b.c", "password": ', headers: { 'content-type': 'application/json' } });
  t.equal(bad.statusCode, 400);
  t.equal(code(bad), 'HB_API_BAD_JSON');
  const media = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(media.statusCode, 415);
  t.equal(code(media), 'HB_API_UNSUPPORTED_MEDIA');
  const big = await json(app, 'POST', '/v1/auth/login', { email: 'a@b.co', password: 'x'.repeat(10_000) });
  t.equal(big.statusCode, 413);
  t.equal(code(big), 'HB_API_BODY_TOO_LARGE');
  const missing = await json(app, 'GET', '/v1/nothing-here');
  t.equal(missing.statusCode, 404);
  t.equal(code(missing), 'HB_API_NOT_FOUND');
});

t.test('login: one answer for a wrong password and an unknown account; lockout reveals nothing', async (t) => {
  const { app } = await setup();
  await register(app);
  const good = await json(app, 'POST', '/v1/auth/login', { email: 'alice@example.com', password: 'correct horse battery' });
  t.equal(good.statusCode, 200);
  t.ok((good.json() as { tokens: { accessToken: string } }).tokens.accessToken);
  const wrong = await json(app, 'POST', '/v1/auth/login', { email: 'alice@example.com', password: 'wrong password' });
  const unknown = await json(app, 'POST', '/v1/auth/login', { email: 'nobody@example.com', password: 'wrong password' });
  t.equal(wrong.statusCode, 401);
  t.same(wrong.json(), unknown.json(), 'identical bodies: existence is not revealed');
  for (let i = 0; i < 5; i++) {
    await json(app, 'POST', '/v1/auth/login', { email: 'alice@example.com', password: 'wrong password' });
    await json(app, 'POST', '/v1/auth/login', { email: 'nobody@example.com', password: 'wrong password' });
  }
  const lockedReal = await json(app, 'POST', '/v1/auth/login', { email: 'alice@example.com', password: 'correct horse battery' });
  const lockedFake = await json(app, 'POST', '/v1/auth/login', { email: 'nobody@example.com', password: 'correct horse battery' });
  t.equal(lockedReal.statusCode, 429);
  t.equal(code(lockedReal), 'HB_API_LOCKED_OUT', 'even the right password waits');
  t.same(lockedReal.json(), lockedFake.json(), 'a missing account locks the same way');
  t.ok(Number(lockedReal.headers['retry-after']) > 0);
});

t.test('refresh rotates; reusing a rotated token revokes the whole session family', async (t) => {
  const { app, revoked } = await setup();
  const { tokens } = await register(app);
  const r1 = await json(app, 'POST', '/v1/auth/refresh', { refreshToken: tokens.refreshToken });
  t.equal(r1.statusCode, 200);
  const pair = r1.json() as { accessToken: string; refreshToken: string; sessionId: string };
  t.equal(pair.sessionId, tokens.sessionId, 'same session, new tokens');
  t.not(pair.refreshToken, tokens.refreshToken);
  const reuse = await json(app, 'POST', '/v1/auth/refresh', { refreshToken: tokens.refreshToken });
  t.equal(reuse.statusCode, 401);
  t.equal(code(reuse), 'HB_API_REFRESH_REUSED');
  t.ok(revoked.includes(tokens.sessionId), 'the session was handed to the socket core for closing');
  const afterReuse = await json(app, 'POST', '/v1/auth/refresh', { refreshToken: pair.refreshToken });
  t.equal(code(afterReuse), 'HB_API_SESSION_REVOKED', 'the newest token of the family is dead too');
  const access = await json(app, 'GET', '/v1/auth/sessions', undefined, pair.accessToken);
  t.equal(code(access), 'HB_API_SESSION_REVOKED', 'and its access tokens at once');
  const garbage = await json(app, 'POST', '/v1/auth/refresh', { refreshToken: 'x'.repeat(43) });
  t.equal(code(garbage), 'HB_API_REFRESH_INVALID');
});

t.test('sessions: list, revoke one, logout, logout everywhere', async (t) => {
  const { app, revoked } = await setup();
  const first = await register(app);
  const second = (await json(app, 'POST', '/v1/auth/login', { email: 'alice@example.com', password: 'correct horse battery' })).json() as typeof first;
  const list = await json(app, 'GET', '/v1/auth/sessions', undefined, first.tokens.accessToken);
  const sessions = (list.json() as { sessions: { sessionId: string; current: boolean }[] }).sessions;
  t.equal(sessions.length, 2);
  t.same(sessions.filter((s) => s.current).map((s) => s.sessionId), [first.tokens.sessionId]);
  t.equal((await json(app, 'DELETE', `/v1/auth/sessions/${second.tokens.sessionId}`, undefined, first.tokens.accessToken)).statusCode, 204);
  t.ok(revoked.includes(second.tokens.sessionId));
  t.equal(code(await json(app, 'DELETE', '/v1/auth/sessions/nope', undefined, first.tokens.accessToken)), 'HB_API_NOT_FOUND');
  const third = (await json(app, 'POST', '/v1/auth/login', { email: 'alice@example.com', password: 'correct horse battery' })).json() as typeof first;
  t.equal((await json(app, 'POST', '/v1/auth/logout', undefined, third.tokens.accessToken)).statusCode, 204);
  t.equal(code(await json(app, 'GET', '/v1/auth/sessions', undefined, third.tokens.accessToken)), 'HB_API_SESSION_REVOKED');
  const all = await json(app, 'POST', '/v1/auth/logout-all', undefined, first.tokens.accessToken);
  t.same(all.json(), { revoked: 1 });
  t.equal(code(await json(app, 'GET', '/v1/auth/sessions', undefined, first.tokens.accessToken)), 'HB_API_SESSION_REVOKED');
});

t.test('bearer tokens: missing, alg none, tampered, expired, wrong audience', async (t) => {
  const { app } = await setup();
  const { user, tokens } = await register(app);
  const [h, b] = tokens.accessToken.split('.') as [string, string, string];
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = JSON.parse(Buffer.from(b, 'base64url').toString()) as Record<string, unknown>;
  const sign = (body: string) => `${h}.${body}.${createHmac('sha256', SECRET).update(`${h}.${body}`).digest('base64url')}`;
  const cases: [string | undefined, string][] = [
    [undefined, 'HB_API_UNAUTHENTICATED'],
    [`${b64({ alg: 'none', typ: 'JWT' })}.${b}.`, 'HB_API_UNAUTHENTICATED'],
    [`${h}.${b64({ ...claims, sub: 'u_someone_else' })}.${tokens.accessToken.split('.')[2]}`, 'HB_API_UNAUTHENTICATED'],
    [sign(b64({ ...claims, exp: 1000 })), 'HB_API_TOKEN_EXPIRED'],
    [signAccessToken({ sub: user.id, ttlSec: 60, issuer: 'halobuzz', audience: 'another-service' }, SECRET), 'HB_API_UNAUTHENTICATED'],
  ];
  for (const [token, expected] of cases) {
    const res = await json(app, 'GET', '/v1/wallet', undefined, token);
    t.equal(res.statusCode, 401);
    t.equal(code(res), expected, expected);
  }
});

t.test('gift catalog, wallet balance and paged ledger history', async (t) => {
  const { app, ledger } = await setup();
  const { user, tokens } = await register(app);
  t.same((await json(app, 'GET', '/v1/gifts')).json(), { version: 2, gifts: [{ id: 'rose', name: 'Rose', price: 1, tier: 1 }] });
  for (let i = 0; i < 3; i++) await ledger.apply({ kind: 'mint', opId: `mint-api-test-${i}`, user: user.id, amount: 10 * (i + 1), source: 'test' });
  t.same((await json(app, 'GET', '/v1/wallet', undefined, tokens.accessToken)).json(), { balance: 60, debt: 0 });
  const page1 = (await json(app, 'GET', '/v1/wallet/history?limit=2', undefined, tokens.accessToken)).json() as { entries: { opId: string; delta: number }[]; next: string };
  t.same(page1.entries.map((e) => e.delta), [30, 20], 'newest first, with this wallet\'s delta');
  const page2 = (await json(app, 'GET', `/v1/wallet/history?limit=2&before=${page1.next}`, undefined, tokens.accessToken)).json() as { entries: { delta: number }[]; next: number | null };
  t.same(page2.entries.map((e) => e.delta), [10]);
  t.equal(page2.next, null);
  t.equal(code(await json(app, 'GET', '/v1/wallet/history?limit=1000', undefined, tokens.accessToken)), 'HB_API_VALIDATION');
  t.equal(code(await json(app, 'GET', '/v1/wallet/history?before=%7B%22%24gt%22%3A1%7D', undefined, tokens.accessToken)), 'HB_API_VALIDATION');
});

t.test('health, readiness, metrics, rate limits, and a valid OpenAPI document', async (t) => {
  const { app, metrics } = await setup({ rateLimitPerMinute: 30 });
  t.same((await json(app, 'GET', '/health')).json(), { status: 'ok' });
  t.same((await json(app, 'GET', '/ready')).json(), { ready: true });
  let limited;
  for (let i = 0; i < 10 && !limited; i++) {
    const res = await json(app, 'POST', '/v1/auth/login', { email: 'x@example.com', password: 'whatever it is' });
    if (res.statusCode === 429 && code(res) === 'HB_API_RATE_LIMITED') limited = res;
  }
  t.ok(limited, 'sign-in routes are rate limited per IP');
  const text = (await json(app, 'GET', '/metrics')).body;
  t.match(text, /halobuzz_api_errors_total\{code="HB_API_RATE_LIMITED"\} [1-9]/);
  t.ok(await metrics.value('halobuzz_api_errors_total') > 0);
  const doc = (await json(app, 'GET', '/docs/json')).json() as { paths: Record<string, unknown> };
  const result = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
  t.ok(result.valid, `OpenAPI validates ${JSON.stringify(result.errors ?? '')}`);
  for (const path of ['/v1/me', '/v1/me/blocks', '/v1/me/mfa/enroll', '/v1/auth/mfa', '/v1/admin/security-events', '/v1/rooms/{roomId}/media-token',
    '/v1/rooms', '/v1/rooms/{roomId}', '/v1/rooms/{roomId}/end', '/v1/auth/register', '/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout', '/v1/auth/logout-all', '/v1/auth/sessions', '/v1/auth/sessions/{sessionId}', '/v1/gifts', '/v1/wallet', '/v1/wallet/history']) {
    t.ok(doc.paths[path], `documented: ${path}`);
  }
});

t.test('live rooms: start, discover by viewers with filters and paging, read, end', async (t) => {
  const { app, viewers, owners, ended } = await setup();
  const host = (await register(app, 'host@example.com')).tokens.accessToken;
  const other = (await register(app, 'other@example.com')).tokens.accessToken;
  const start = async (title: string, extra: object = {}, token = host) => (await json(app, 'POST', '/v1/rooms', { title, ...extra }, token));
  const a = (await start('Morning show', { country: 'NP', locale: 'ne-NP' })).json() as { id: string; owner: string; live: boolean };
  t.ok(a.live);
  t.equal(owners.get(a.id), a.owner, 'the owner is recorded on the socket side before anyone joins');
  const b = (await start('Evening show', { country: 'NP', locale: 'en-US' }, other)).json() as { id: string };
  t.equal(code(await start('Second show', { country: 'IN' })), 'HB_API_ALREADY_LIVE', 'one live room per host');
  const third = (await register(app, 'third@example.com')).tokens.accessToken;
  const c = (await start('Late show', { country: 'IN' }, third)).json() as { id: string };
  viewers.set(a.id, 5).set(b.id, 50).set(c.id, 20);
  t.equal((await start('x', { country: 'Nepal' })).statusCode, 400, 'country must be ISO 3166-1 alpha-2');
  t.equal((await json(app, 'POST', '/v1/rooms', { title: 'no token' })).statusCode, 401);

  const list = (await json(app, 'GET', '/v1/rooms')).json() as { rooms: { id: string; viewers: number }[]; next: string | null };
  t.same(list.rooms.map((r) => r.viewers), [50, 20, 5], 'most viewers first');
  const np = (await json(app, 'GET', '/v1/rooms?country=NP')).json() as { rooms: { id: string }[] };
  t.same(np.rooms.map((r) => r.id), [b.id, a.id]);
  const ne = (await json(app, 'GET', '/v1/rooms?locale=ne-NP')).json() as { rooms: { id: string }[] };
  t.same(ne.rooms.map((r) => r.id), [a.id]);
  const p1 = (await json(app, 'GET', '/v1/rooms?limit=2')).json() as { rooms: { id: string }[]; next: string };
  const p2 = (await json(app, 'GET', `/v1/rooms?limit=2&offset=${p1.next}`)).json() as { rooms: { id: string }[]; next: string | null };
  t.same([...p1.rooms, ...p2.rooms].map((r) => r.id), [b.id, c.id, a.id]);
  t.equal(p2.next, null);
  t.equal(code(await json(app, 'GET', '/v1/rooms?limit=abc')), 'HB_API_VALIDATION');

  t.match((await json(app, 'GET', `/v1/rooms/${a.id}`)).json(), { id: a.id, title: 'Morning show', viewers: 5, nodes: ['wss://node-7.example.com/ws'] }, 'with the nodes serving it (placement)');
  t.equal(code(await json(app, 'GET', '/v1/rooms/r_missing')), 'HB_API_NOT_FOUND');
  t.equal(code(await json(app, 'POST', `/v1/rooms/${a.id}/end`, undefined, other)), 'HB_API_FORBIDDEN');
  const endA = await json(app, 'POST', `/v1/rooms/${a.id}/end`, undefined, host);
  t.match(endA.json(), { live: false, viewers: 0, nodes: [] }, 'an ended room is served by no node');
  t.same(ended, [a.id], 'the socket side ends the stream too');
  t.equal(code(await json(app, 'POST', `/v1/rooms/${a.id}/end`, undefined, host)), 'HB_API_NOT_FOUND', 'already ended');
  t.notOk(((await json(app, 'GET', '/v1/rooms')).json() as { rooms: { id: string }[] }).rooms.some((r) => r.id === a.id), 'ended rooms leave discovery');
});

t.test('MFA: enrol with QR, activate, sign in with TOTP, replay refused, backup codes once, disable with a code', async (t) => {
  const { app } = await setup();
  const { tokens } = await register(app, 'mfa@example.com');
  const auth = tokens.accessToken;
  t.equal(code(await json(app, 'POST', '/v1/me/mfa/activate', { code: '123456' }, auth)), 'HB_API_MFA_NOT_ENROLLED');
  const enroll = (await json(app, 'POST', '/v1/me/mfa/enroll', undefined, auth)).json() as { secret: string; otpauthUri: string; qrCodeDataUrl: string };
  t.match(enroll.otpauthUri, /^otpauth:\/\/totp\/HaloBuzz:mfa%40example\.com\?secret=/);
  t.match(enroll.qrCodeDataUrl, /^data:image\/png;base64,/);
  const now = stepAt(Date.now());
  t.equal(code(await json(app, 'POST', '/v1/me/mfa/activate', { code: codeAt(enroll.secret, now + 5) }, auth)), 'HB_API_MFA_INVALID', 'a wrong code does not activate');
  const activated = (await json(app, 'POST', '/v1/me/mfa/activate', { code: codeAt(enroll.secret, now - 1) }, auth)).json() as { backupCodes: string[] };
  t.equal(activated.backupCodes.length, 10);
  t.equal(code(await json(app, 'POST', '/v1/me/mfa/enroll', undefined, auth)), 'HB_API_MFA_ALREADY_ENABLED');
  t.match((await json(app, 'GET', '/v1/me', undefined, auth)).json(), { mfaEnabled: true });

  const login = (await json(app, 'POST', '/v1/auth/login', { email: 'mfa@example.com', password: 'correct horse battery' })).json() as { mfaRequired: boolean; mfaTicket: string; tokens?: unknown };
  t.equal(login.mfaRequired, true, 'the password alone gives no tokens');
  t.notOk(login.tokens);
  t.equal(code(await json(app, 'POST', '/v1/auth/mfa', { mfaTicket: login.mfaTicket, code: codeAt(enroll.secret, now - 1) })), 'HB_API_MFA_INVALID', 'the code used to activate cannot be replayed');
  const signedIn = await json(app, 'POST', '/v1/auth/mfa', { mfaTicket: login.mfaTicket, code: codeAt(enroll.secret, now) });
  t.equal(signedIn.statusCode, 200);
  t.ok((signedIn.json() as { tokens: { accessToken: string } }).tokens.accessToken);
  const backup = activated.backupCodes[0]!;
  t.equal(code(await json(app, 'POST', '/v1/auth/mfa', { mfaTicket: login.mfaTicket, code: backup })), 'HB_API_MFA_TICKET_USED', 'a ticket signs in once');
  const again = (await json(app, 'POST', '/v1/auth/login', { email: 'mfa@example.com', password: 'correct horse battery' })).json() as { mfaTicket: string };
  t.equal(code(await json(app, 'POST', '/v1/auth/mfa', { mfaTicket: again.mfaTicket, code: codeAt(enroll.secret, now) })), 'HB_API_MFA_INVALID', 'nor the sign-in code');
  t.equal((await json(app, 'POST', '/v1/auth/mfa', { mfaTicket: again.mfaTicket, code: backup })).statusCode, 200, 'a backup code works (it was not spent on the used ticket)');
  const third = (await json(app, 'POST', '/v1/auth/login', { email: 'mfa@example.com', password: 'correct horse battery' })).json() as { mfaTicket: string };
  t.equal(code(await json(app, 'POST', '/v1/auth/mfa', { mfaTicket: third.mfaTicket, code: backup })), 'HB_API_MFA_INVALID', 'once');
  t.equal(code(await json(app, 'POST', '/v1/auth/mfa', { mfaTicket: 'x'.repeat(40), code: '123456' })), 'HB_API_UNAUTHENTICATED', 'a forged ticket is refused');
  t.equal(code(await json(app, 'POST', '/v1/me/mfa/disable', { code: '000000' }, auth)), 'HB_API_MFA_INVALID', 'disabling needs a valid code');
  t.equal((await json(app, 'POST', '/v1/me/mfa/disable', { code: activated.backupCodes[1] }, auth)).statusCode, 204);
  t.match((await json(app, 'GET', '/v1/me', undefined, auth)).json(), { mfaEnabled: false });
});

t.test('profile and blocks', async (t) => {
  const { app } = await setup();
  const { user, tokens } = await register(app, 'me@example.com');
  const auth = tokens.accessToken;
  t.match((await json(app, 'GET', '/v1/me', undefined, auth)).json(), { id: user.id, email: 'me@example.com', displayName: 'Alice', avatarUrl: null, roles: ['user'] });
  const patched = await json(app, 'PATCH', '/v1/me', { displayName: 'Ali', avatarUrl: 'https://cdn.example.com/a.png', locale: 'ne-NP', country: 'NP' }, auth);
  t.match(patched.json(), { displayName: 'Ali', avatarUrl: 'https://cdn.example.com/a.png', locale: 'ne-NP', country: 'NP' });
  for (const bad of [{}, { avatarUrl: 'http://insecure.example.com/a.png' }, { country: 'Nepal' }, { roles: ['admin'] }]) {
    t.equal(code(await json(app, 'PATCH', '/v1/me', bad, auth)), 'HB_API_VALIDATION', JSON.stringify(bad));
  }
  t.equal(code(await app.inject({ method: 'PUT', url: '/v1/me/blocks/u_nobody', headers: { authorization: `Bearer ${auth}` } })), 'HB_API_NOT_FOUND', 'blocking a user that does not exist');
  const troll = (await register(app, 'troll@example.com')).user.id;
  t.equal((await app.inject({ method: 'PUT', url: `/v1/me/blocks/${troll}`, headers: { authorization: `Bearer ${auth}` } })).statusCode, 204);
  t.match((await json(app, 'GET', '/v1/me/blocks', undefined, auth)).json(), { blocked: [{ userId: troll }] });
  t.equal(code(await app.inject({ method: 'PUT', url: `/v1/me/blocks/${user.id}`, headers: { authorization: `Bearer ${auth}` } })), 'HB_API_VALIDATION');
  t.equal((await json(app, 'DELETE', `/v1/me/blocks/${troll}`, undefined, auth)).statusCode, 204);
  t.equal(code(await json(app, 'DELETE', `/v1/me/blocks/${troll}`, undefined, auth)), 'HB_API_NOT_FOUND');
});

t.test('security events: admins only', async (t) => {
  const { app, accounts } = await setup();
  const { user, tokens } = await register(app, 'admin@example.com');
  await json(app, 'POST', '/v1/auth/login', { email: 'admin@example.com', password: 'wrong password!' });
  t.equal(code(await json(app, 'GET', '/v1/admin/security-events', undefined, tokens.accessToken)), 'HB_API_FORBIDDEN');
  await accounts.setRoles(user.id, ['user', 'admin']);
  const admin = ((await json(app, 'POST', '/v1/auth/login', { email: 'admin@example.com', password: 'correct horse battery' })).json() as { tokens: { accessToken: string } }).tokens.accessToken;
  const events = (await json(app, 'GET', '/v1/admin/security-events?limit=10', undefined, admin)).json() as { events: { type: string }[] };
  t.same(events.events.map((e) => e.type), ['login', 'login_failed', 'register'], 'newest first');
  const failed = (await json(app, 'GET', '/v1/admin/security-events?type=login_failed', undefined, admin)).json() as { events: { type: string }[] };
  t.same(failed.events.map((e) => e.type), ['login_failed']);
});

t.test('Agora media tokens: host for the owner, audience for others, not for the blocked or ended rooms', async (t) => {
  const { app } = await setup();
  const host = await register(app, 'host2@example.com');
  const fan = await register(app, 'fan2@example.com');
  const room = (await json(app, 'POST', '/v1/rooms', { title: 'Live' }, host.tokens.accessToken)).json() as { id: string };
  const hostToken = (await json(app, 'POST', `/v1/rooms/${room.id}/media-token`, { role: 'host' }, host.tokens.accessToken)).json() as { token: string; role: string; channel: string; uid: number; expiresAt: number };
  t.match(hostToken, { role: 'host', channel: room.id });
  t.match(hostToken.token, /^007/, 'an AccessToken2 (Agora "007" format)');
  t.ok(hostToken.uid > 0 && hostToken.expiresAt > Date.now() / 1000);
  const audience = (await json(app, 'POST', `/v1/rooms/${room.id}/media-token`, { role: 'audience' }, fan.tokens.accessToken)).json() as { token: string; uid: number };
  t.not(audience.token, hostToken.token);
  t.not(audience.uid, hostToken.uid);
  t.equal(code(await json(app, 'POST', `/v1/rooms/${room.id}/media-token`, { role: 'host' }, fan.tokens.accessToken)), 'HB_API_FORBIDDEN', 'only the owner publishes');
  const renewed = await json(app, 'POST', `/v1/rooms/${room.id}/media-token/renew`, { role: 'audience' }, fan.tokens.accessToken);
  t.equal(renewed.statusCode, 200);
  await app.inject({ method: 'PUT', url: `/v1/me/blocks/${fan.user.id}`, headers: { authorization: `Bearer ${host.tokens.accessToken}` } });
  t.equal(code(await json(app, 'POST', `/v1/rooms/${room.id}/media-token`, { role: 'audience' }, fan.tokens.accessToken)), 'HB_API_FORBIDDEN', 'blocked users cannot watch');
  await json(app, 'POST', `/v1/rooms/${room.id}/end`, undefined, host.tokens.accessToken);
  t.equal(code(await json(app, 'POST', `/v1/rooms/${room.id}/media-token`, { role: 'host' }, host.tokens.accessToken)), 'HB_API_NOT_FOUND', 'no tokens for ended rooms');
  const off = await setup({ media: false });
  const someone = await register(off.app, 'x@example.com');
  const r2 = (await json(off.app, 'POST', '/v1/rooms', { title: 'x' }, someone.tokens.accessToken)).json() as { id: string };
  t.equal(code(await json(off.app, 'POST', `/v1/rooms/${r2.id}/media-token`, { role: 'host' }, someone.tokens.accessToken)), 'HB_API_UNAVAILABLE', 'unconfigured: 503');
});

t.test('readiness reflects the engines', async (t) => {
  let up = false;
  const { app } = await setup({ ready: async () => up });
  t.equal((await json(app, 'GET', '/ready')).statusCode, 503);
  up = true;
  t.equal((await json(app, 'GET', '/ready')).statusCode, 200);
});

t.test('an MFA ticket that expired is refused with its own code', async (t) => {
  const { app } = await setup();
  const { user } = await register(app, 'late@example.com');
  const stale = signAccessToken({ sub: user.id, ttlSec: 300, issuer: 'halobuzz', audience: 'halobuzz-mfa', now: Math.floor(Date.now() / 1000) - 3600 }, SECRET);
  t.equal(code(await json(app, 'POST', '/v1/auth/mfa', { mfaTicket: stale, code: '123456' })), 'HB_API_MFA_TICKET_EXPIRED');
});

for (const engine of ['redis', 'redis-cluster'] as const) {
  t.test(`with Redis configured (${engine}), rate limits are shared by every API node`, async (t) => {
    const url = engineUrl(t, engine);
    if (!url) return;
    const redis = await openRedis(url);
    t.teardown(() => redis.quit());
    const stale = await scanKeys(redis, 'halobuzz:ratelimit:*');
    for (const key of stale) await redis.del(key);
    const nodeA = await setup({ rateLimitPerMinute: 10, redis });
    const nodeB = await setup({ rateLimitPerMinute: 10, redis });
    for (let i = 0; i < 10; i++) t.equal((await json(i % 2 ? nodeA.app : nodeB.app, 'GET', '/health')).statusCode, 200);
    const over = await json(nodeA.app, 'GET', '/health');
    t.equal(over.statusCode, 429, 'the eleventh request in the minute is refused, whichever node got the others');
    t.equal(code(over), 'HB_API_RATE_LIMITED');
    t.ok((await scanKeys(redis, 'halobuzz:ratelimit:*')).length > 0, 'the counters live in Redis');
  });
}

t.test('an unexpected failure is a 500 with a stable code and no internals', async (t) => {
  const { app, ledger } = await setup();
  const { tokens } = await register(app, 'boom@example.com');
  ledger.balance = async () => {
    throw new Error('disk on fire at /var/lib/secret');
  };
  const res = await json(app, 'GET', '/v1/wallet', undefined, tokens.accessToken);
  t.equal(res.statusCode, 500);
  t.same(res.json(), { error: { code: 'HB_API_INTERNAL', message: 'internal error' } }, 'the cause stays in the server log');
});

t.test('the coin shop: prices in the user\'s currency; unconfigured payment channels answer 503 with a documented code', async (t) => {
  const { app } = await setup();
  const { tokens } = await register(app, 'shopper@example.com');
  const np = await app.inject({ method: 'GET', url: '/v1/coin-packages', headers: { 'accept-language': 'ne-NP,en;q=0.5' } });
  t.match(np.json(), { currency: 'NPR', chosenBy: 'locale', fxDate: '2026-11-25' });
  t.match((np.json() as { packages: unknown[] }).packages[0], { id: 'coins_100', coins: 100, price: { amountMinor: 13400, currency: 'NPR', display: 'NPR 134.00', source: 'fx' } });
  t.match((await json(app, 'GET', '/v1/coin-packages?currency=EUR&country=NP')).json(), { currency: 'EUR', chosenBy: 'explicit' });
  t.match((await json(app, 'GET', '/v1/coin-packages?country=DE')).json(), { currency: 'EUR', chosenBy: 'country' });
  t.match((await json(app, 'GET', '/v1/coin-packages')).json(), { currency: 'USD', chosenBy: 'default' });
  const unconfigured: [string, unknown][] = [
    ['/v1/purchases', { package: 'coins_100' }],
    ['/v1/purchases/apple', { signedTransaction: 'x'.repeat(40) }],
    ['/v1/purchases/google', { productId: 'coins_100', purchaseToken: 'gp-token-0000001' }],
  ];
  for (const [url, body] of unconfigured) {
    const res = await json(app, 'POST', url, body, tokens.accessToken);
    t.equal(res.statusCode, 503, url);
    t.equal(code(res), 'HB_API_PAYMENTS_UNAVAILABLE');
  }
  const hook = await app.inject({ method: 'POST', url: '/v1/webhooks/stripe', payload: '{"id":"evt_1"}', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=x' } });
  t.equal(code(hook), 'HB_API_PAYMENTS_UNAVAILABLE');
  t.equal((await json(app, 'POST', '/v1/purchases', { package: 'coins_100' })).statusCode, 401, 'buying needs a session');
  t.same((await json(app, 'GET', '/v1/purchases', undefined, tokens.accessToken)).json(), { purchases: [], next: null });
});

t.test('reports: the reasons list, body validation, staff-only queue routes', async (t) => {
  const { app, accounts } = await setup();
  const reg = async (email: string) => (await json(app, 'POST', '/v1/auth/register', { email, password: 'correct horse battery staple', displayName: email.split('@')[0] })).json() as { user: { id: string }; tokens: { accessToken: string } };
  const ann = await reg('ann-mod@example.com');
  const bob = await reg('bob-mod@example.com');
  const reasons = await json(app, 'GET', '/v1/reports/reasons');
  t.equal(reasons.statusCode, 200);
  t.match(reasons.json(), { reasons: [{ id: 'child_safety', priority: 1 }] });
  const post = (body: unknown, token = ann.tokens.accessToken) => json(app, 'POST', '/v1/reports', body, token);
  t.equal((await post({ target: { kind: 'user', user: bob.user.id }, reason: 'spam' }, '')).statusCode, 401);
  for (const bad of [
    { target: { kind: 'user' }, reason: 'spam' },
    { target: { kind: 'message', room: 'r1', seq: 0 }, reason: 'spam' },
    { target: { kind: 'planet', user: bob.user.id }, reason: 'spam' },
    { target: { kind: 'user', user: bob.user.id }, reason: 'SPAM!' },
    { target: { kind: 'user', user: bob.user.id }, reason: 'spam', extra: 1 },
  ]) t.equal(code(await post(bad)), 'HB_API_VALIDATION', JSON.stringify(bad));
  const filed = await post({ target: { kind: 'user', user: bob.user.id }, reason: 'impersonation', text: 'pretends to be me' });
  t.equal(filed.statusCode, 201);
  t.match(filed.json(), { status: 'open', merged: false });
  t.equal(code(await post({ target: { kind: 'user', user: 'u_nobody' }, reason: 'spam' })), 'HB_API_NOT_FOUND');
  t.equal((await json(app, 'GET', '/v1/admin/reports', undefined, ann.tokens.accessToken)).statusCode, 403);
  t.equal((await json(app, 'GET', '/v1/admin/audit', undefined, ann.tokens.accessToken)).statusCode, 403);
  await accounts.setRoles(ann.user.id, ['user', 'admin']);
  const staff = (await json(app, 'POST', '/v1/auth/login', { email: 'ann-mod@example.com', password: 'correct horse battery staple' })).json() as { tokens: { accessToken: string } };
  const queue = await json(app, 'GET', '/v1/admin/reports?status=open&limit=10', undefined, staff.tokens.accessToken);
  t.match(queue.json(), { reports: [{ reason: 'impersonation', reporters: 1, priority: 3, snapshot: { displayName: 'bob-mod' } }], next: null });
  const id = (filed.json() as { id: string }).id;
  const wrong = await json(app, 'POST', `/v1/admin/reports/${id}/resolve`, { action: 'end_room', reason: 'x' }, staff.tokens.accessToken);
  t.match([wrong.statusCode, code(wrong)], [400, 'HB_API_VALIDATION'], 'end_room does not apply to a user report');
  t.equal(code(await json(app, 'POST', '/v1/admin/reports/nope/claim', undefined, staff.tokens.accessToken)), 'HB_API_NOT_FOUND');
  const dismissed = await json(app, 'POST', `/v1/admin/reports/${id}/resolve`, { action: 'dismiss', reason: 'parody account' }, staff.tokens.accessToken);
  t.match(dismissed.json(), { status: 'resolved', resolution: { action: 'dismiss', reason: 'parody account' } });
  const appeal = await json(app, 'POST', `/v1/reports/${id}/appeal`, { text: 'why?' }, bob.tokens.accessToken);
  t.match([appeal.statusCode, code(appeal)], [409, 'HB_API_REPORT_STATE'], 'nothing to appeal in a dismissal');
  const audit = await json(app, 'GET', `/v1/admin/audit?target=report:${id}`, undefined, staff.tokens.accessToken);
  t.match(audit.json(), { entries: [{ action: 'report_resolve', actor: ann.user.id, reason: 'parody account' }] });
  const rude = await json(app, 'PATCH', '/v1/me', { displayName: 'fuck this' }, bob.tokens.accessToken);
  t.match([rude.statusCode, code(rude)], [400, 'HB_API_NAME_REJECTED']);
  const contact = await json(app, 'PATCH', '/v1/me', { displayName: 'call me 555 010 9999' }, bob.tokens.accessToken);
  t.equal(contact.statusCode, 200, 'a flagged name is accepted…');
  const flagged = await json(app, 'GET', '/v1/admin/reports?status=open', undefined, staff.tokens.accessToken);
  t.match(flagged.json(), { reports: [{ reason: 'filter:contact', target: { kind: 'user', user: bob.user.id }, snapshot: { displayName: 'call me 555 010 9999' } }] }, '…and queued for review');
});

t.test('consents: defaults, changes, the analytics opt-out reaches the sink check, validation', async (t) => {
  const { app, optOuts } = await setup();
  const reg = (await json(app, 'POST', '/v1/auth/register', { email: 'consent@example.com', password: 'correct horse battery staple', displayName: 'Consent' })).json() as { user: { id: string }; tokens: { accessToken: string } };
  const token = reg.tokens.accessToken;
  t.equal((await json(app, 'GET', '/v1/me/consents')).statusCode, 401);
  t.match((await json(app, 'GET', '/v1/me/consents', undefined, token)).json(), { choices: { analytics: { granted: true, at: null }, marketing: { granted: false } }, needsAcceptance: ['terms', 'privacy'] });
  t.equal(code(await json(app, 'PUT', '/v1/me/consents', {}, token)), 'HB_API_VALIDATION', 'an empty change');
  t.equal(code(await json(app, 'PUT', '/v1/me/consents', { analytics: 'no' }, token)), 'HB_API_VALIDATION');
  t.equal(code(await json(app, 'PUT', '/v1/me/consents', { shareWithPartners: true }, token)), 'HB_API_VALIDATION', 'unknown kinds are refused');
  const changed = await json(app, 'PUT', '/v1/me/consents', { analytics: false, marketing: true }, token);
  t.match(changed.json(), { choices: { analytics: { granted: false }, marketing: { granted: true } } });
  t.same(optOuts, [`${reg.user.id}:true`], 'the opt-out is spread');
  await json(app, 'PUT', '/v1/me/consents', { marketing: true }, token);
  t.same(optOuts.length, 1, 'a change that is not about analytics spreads nothing');
});

t.test('errors speak the saved locale, else Accept-Language; the code never changes', async (t) => {
  const { app } = await setup();
  const ask = (url: string, headers: Record<string, string>, method: 'GET' | 'POST' = 'GET', body?: unknown) =>
    app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body as object }) });
  const es = await ask('/v1/nope', { 'accept-language': 'es-MX,es;q=0.9,en;q=0.5' });
  t.same([es.statusCode, es.headers['content-language'], es.json()], [404, 'es', { error: { code: 'HB_API_NOT_FOUND', message: 'no encontrado' } }]);
  const ar = await ask('/v1/me', { 'accept-language': 'ar' });
  t.same([ar.headers['content-language'], ar.json().error], ['ar', { code: 'HB_API_UNAUTHENTICATED', message: 'يلزم رمز وصول صالح' }]);
  const en = await ask('/v1/me', {});
  t.same([en.headers['content-language'], en.json().error.message], ['en', 'a valid access token is required']);
  const reg = (await ask('/v1/auth/register', { 'accept-language': 'hi' }, 'POST', { email: 'locale@example.com', password: 'correct horse battery staple', displayName: 'Locale' })).json() as { tokens: { accessToken: string } };
  const auth = { authorization: `Bearer ${reg.tokens.accessToken}` };
  await app.inject({ method: 'PATCH', url: '/v1/me', headers: auth, payload: { locale: 'ne' } });
  const saved = await app.inject({ method: 'PUT', url: '/v1/me/consents', headers: { ...auth, 'accept-language': 'es', 'content-type': 'application/json' }, payload: {} });
  t.same([saved.statusCode, saved.headers['content-language'], saved.json().error.code], [400, 'ne', 'HB_API_VALIDATION'], 'the saved locale wins over the header');
  const specific = await app.inject({ method: 'PUT', url: '/v1/me/consents', headers: { ...auth, 'content-type': 'application/json' }, payload: { terms: 'an-old-one' } });
  t.match(specific.json(), { error: { code: 'HB_API_VALIDATION', message: 'अनुरोध स्किमासँग मेल खाँदैन', detail: { reason: /terms: the current version is/ } } },
    'a specific English message stays, as the reason');
});
