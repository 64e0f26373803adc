/**
 * The data subject's rights end to end on a real server writing analytics to the real ClickHouse:
 * a user who did everything (follows, blocks, hosting, chat, gifts both ways, DMs both ways, consents, a card purchase on stripe-mock)
 * exports an archive holding each item and nothing of another user; a second export the same day is
 * refused; the signed link refuses tampering and expires. Then she closes her account: at once her
 * socket closes, sign-in is refused and she leaves follower lists and discovery; another user restores
 * his within the grace period; after hers, a walk over every SQLite file and the ClickHouse events finds
 * nothing of her, and the ledger still conserves every coin.
 */
import t from 'tap';
import { createClient } from '@clickhouse/client';
import { strFromU8, unzipSync } from 'fflate';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startServer, type ServerHandle } from '../../tools/server-process';
import { CloseCode, Role } from '../../protocol/codes';
import { engineUrl } from '../helpers/services';
import { apiCaller, until } from '../helpers/games';
import { findInSqlite } from '../helpers/personal-data-walker';

const url = engineUrl(t, 'clickhouse');
const stripeUrl = engineUrl(t, 'stripe');
const PASSWORD = 'correct horse battery staple';

interface Person { id: string; email: string; name: string; token: string }

async function register(server: ServerHandle, name: string): Promise<Person> {
  const email = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`;
  const res = await fetch(`${server.api}/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD, displayName: name }) });
  const body = await res.json() as { user: { id: string }; tokens: { accessToken: string } };
  return { id: body.user.id, email, name, token: body.tokens.accessToken };
}

if (url && stripeUrl) {
  t.test('export everything, close the account, restore another, erase: every store walked', { timeout: 240_000 }, async (t) => {
    const database = `rights_e2e_${process.pid}_${Date.now()}`;
    const ch = createClient({ url });
    t.teardown(async () => {
      await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await ch.close();
    });
    const server = await startServer({
      CLICKHOUSE_URL: url, HALOBUZZ_CLICKHOUSE_DATABASE: database, HALOBUZZ_DEBUG_ENDPOINTS: '1',
      HALOBUZZ_EXPORT_LINK_TTL_SEC: '15', HALOBUZZ_ERASURE_GRACE_SEC: '10', HALOBUZZ_PRIVACY_SWEEP_MS: '250',
      STRIPE_SECRET_KEY: 'sk_test_halobuzz', STRIPE_WEBHOOK_SECRET: 'whsec_privacy_rights', HALOBUZZ_STRIPE_API_URL: stripeUrl,
    });
    t.teardown(() => server.stop());
    const api = apiCaller(server);
    const suffix = randomUUID().slice(0, 6);
    const alice = await register(server, `Alicia${suffix}`);
    const bob = await register(server, `Bruno${suffix}`);
    const carol = await register(server, `Carla${suffix}`);
    const dave = await register(server, `Dario${suffix}`);

    // Alice does a bit of everything.
    t.equal((await api('PUT', `/v1/me/following/${bob.id}`, alice.token)).status, 200);
    t.equal((await api('PUT', `/v1/me/following/${alice.id}`, bob.token)).status, 200);
    t.equal((await api('PUT', `/v1/me/blocks/${carol.id}`, alice.token)).status < 300, true, 'alice blocks carol');
    await api('PUT', '/v1/me/consents', alice.token, { marketing: true });
    const aliceRoom = (await api('POST', '/v1/rooms', alice.token, { title: `alice live ${suffix}` })).body.id as string;
    const bobRoom = (await api('POST', '/v1/rooms', bob.token, { title: `bob live ${suffix}` })).body.id as string;
    for (const p of [alice, bob]) await fetch(`${server.http}/debug/mint?user=${p.id}&coins=500&op=mint-${randomUUID()}`, { method: 'POST' });
    const a = server.client(alice.id, { reconnect: false, token: () => alice.token });
    const b = server.client(bob.id, { reconnect: false, token: () => bob.token });
    const c = server.client(carol.id, { reconnect: false, token: () => carol.token });
    await Promise.all([a.connect(), b.connect(), c.connect()]);
    await a.join(aliceRoom, Role.HOST);
    await b.join(bobRoom, Role.HOST);
    await b.join(aliceRoom);
    await a.chat(aliceRoom, `alice says hello ${suffix}`);
    await b.chat(aliceRoom, `bob private words ${suffix}`);
    await b.gift(aliceRoom, 'rose', 2, randomUUID());
    await a.join(bobRoom);
    await a.chat(bobRoom, `alice visits bob ${suffix}`);
    await a.gift(bobRoom, 'rose', 1, randomUUID());
    const purchase = await api('POST', '/v1/purchases', alice.token, { package: 'coins_100', currency: 'USD' });
    t.equal(purchase.status, 201, 'a card purchase started (stripe-mock)');
    await a.dm(bob.id, `alice to bob ${suffix}`);
    await b.dm(alice.id, `bob to alice ${suffix}`);
    await c.dm(bob.id, `carol to bob ${suffix}`);
    const events = async (who: string) => {
      const rs = await ch.query({ query: `SELECT type FROM ${database}.events FINAL WHERE user = '${who}' OR creator = '${who}' OR target = '${who}'`, format: 'JSONEachRow' });
      return ((await rs.json()) as { type: string }[]).map((r) => r.type);
    };
    // The gift's notification goes through the realtime outbox to the notification store: wait for it.
    await until('the gift\'s notification reaches alice\'s list', async () => {
      await new Promise((r) => setTimeout(r, 250)); // a gentle poll: the API's rate limit counts these
      return ((await api('GET', '/v1/notifications', alice.token)).body.items ?? []).length > 0;
    }, 30_000);
    await until('alice\'s chat and gifts reach ClickHouse', async () => {
      const types = await events(alice.id);
      return types.filter((x) => x === 'chat').length >= 2 && types.filter((x) => x === 'gift').length >= 2;
    }, 30_000);

    // Export: one a day, built off the request path, a signed link that expires.
    const asked = await api('POST', '/v1/me/export', alice.token);
    t.equal(asked.status, 202);
    t.match(asked.body, { status: 'pending', url: null });
    const again = await api('POST', '/v1/me/export', alice.token);
    t.equal(again.status, 429, 'a second export the same day is refused');
    t.match(again.body, { error: { code: 'HB_API_EXPORT_LIMIT', detail: { export: { id: asked.body.id } } } });
    const ready = await until('the export is ready', async () => {
      const list = await api('GET', '/v1/me/exports', alice.token);
      return list.body.exports.find((x: { status: string }) => x.status === 'ready');
    }, 30_000);
    t.match(ready.url, new RegExp(`^/v1/exports/${asked.body.id}/download\\?expires=\\d+&sig=`));
    const download = await fetch(`${server.api}${ready.url}`);
    t.equal(download.status, 200, download.status === 200 ? 'downloaded' : await download.clone().text());
    t.equal(download.headers.get('content-type'), 'application/zip');
    const files = unzipSync(new Uint8Array(await download.arrayBuffer()));
    const text = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strFromU8(v)]));
    t.ok(text['README.md']?.includes('| messages.json |'), 'a README describing every file');
    const json = (name: string) => JSON.parse(text[`${name}.json`]!) as Record<string, any[]>;
    t.equal(json('account').account[0].email, alice.email, 'account');
    t.notOk('password_hash' in json('account').account[0], 'never the password hash');
    t.ok(json('account').sessions.length >= 1, 'sign-in sessions');
    t.same(json('account').blocks.map((x) => x.blocked), [carol.id], 'blocks');
    t.same(json('social').following.map((x) => x.user), [bob.id], 'follows');
    t.same(json('social').followers.map((x) => x.user), [bob.id], 'followers');
    t.same(json('rooms').rooms_hosted.map((x) => x.id), [aliceRoom], 'rooms hosted');
    const said = json('messages').room_messages.map((m) => m.frame[5]);
    t.ok(said.includes(`alice says hello ${suffix}`) && said.includes(`alice visits bob ${suffix}`), 'room chat she wrote');
    t.ok(json('messages').room_messages.some((m) => m.frame[5] === 'rose'), 'gifts she sent');
    t.same(json('messages').direct_messages_sent.map((m) => m.text), [`alice to bob ${suffix}`], 'DMs sent');
    t.same(json('messages').direct_messages_received.map((m) => m.text), [`bob to alice ${suffix}`], 'DMs received');
    t.ok(json('wallet').wallet[0].balance > 0 && json('wallet').ledger_movements.length >= 3, 'wallet and ledger movements (mint, gift sent, gift received)');
    t.ok(json('consents').consents.some((x) => x.kind === 'marketing'), 'consents');
    t.match(json('purchases').purchases, [{ package_id: 'coins_100', coins: 100, channel: 'stripe' }], 'purchases');
    t.ok(json('notifications').notifications.length >= 1, 'notifications');
    t.ok(json('analytics').analytics_events.some((e) => e.type === 'chat'), 'her analytics events from ClickHouse');
    const whole = Object.values(text).join('\n');
    for (const other of [`bob private words ${suffix}`, `carol to bob ${suffix}`, bob.email, carol.email, dave.id]) {
      t.notOk(whole.includes(other), `nothing of another user: ${other.slice(0, 24)}`);
    }
    const tampered = ready.url.replace(/sig=.{4}/, 'sig=AAAA');
    t.equal((await fetch(`${server.api}${tampered}`)).status, 403, 'a tampered link is refused');
    await new Promise((r) => setTimeout(r, Math.max(0, ready.expiresAt - Date.now() + 250)));
    t.equal((await fetch(`${server.api}${ready.url}`)).status, 410, 'the link expires');

    // Closing: a fresh password is required; the effect is immediate.
    t.equal((await api('DELETE', '/v1/me', alice.token, {})).status, 400, 'a confirmation is required');
    t.match(await api('DELETE', '/v1/me', alice.token, { password: 'not her password' }), { status: 401, body: { error: { code: 'HB_API_INVALID_CREDENTIALS' } } });
    const closedSocket = new Promise<number>((resolve) => a.on('disconnected', (d) => resolve(d.code)));
    const closed = await api('DELETE', '/v1/me', alice.token, { password: PASSWORD });
    t.equal(closed.status, 202);
    t.equal(await closedSocket, CloseCode.SESSION_REVOKED, 'her socket closed at once');
    t.match(await api('POST', '/v1/auth/login', undefined, { email: alice.email, password: PASSWORD }), { status: 403, body: { error: { code: 'HB_API_ACCOUNT_DEACTIVATED' } } }, 'sign-in refused');
    t.equal((await api('GET', `/v1/users/${alice.id}`)).status, 404, 'her profile is gone');
    t.notOk((await api('GET', `/v1/users/${bob.id}/followers`)).body.items.some((x: { id: string }) => x.id === alice.id), 'hidden from follower lists');
    t.notOk(JSON.stringify((await api('GET', '/v1/rooms')).body).includes(aliceRoom), 'her room left discovery');

    // Dave closes and restores within the grace period.
    await api('DELETE', '/v1/me', dave.token, { password: PASSWORD });
    t.match(await api('POST', '/v1/auth/restore', undefined, { email: dave.email, password: 'wrong password!' }), { status: 401 });
    t.match(await api('POST', '/v1/auth/restore', undefined, { email: dave.email, password: PASSWORD }), { status: 200, body: { restored: true } });
    t.equal((await api('POST', '/v1/auth/login', undefined, { email: dave.email, password: PASSWORD })).status, 200, 'a restored account signs in');
    t.match(await api('POST', '/v1/auth/restore', undefined, { email: dave.email, password: PASSWORD }), { status: 409, body: { error: { code: 'HB_API_ACCOUNT_ACTIVE' } } });

    // After the grace period nothing of hers is left anywhere.
    await until('her account is erased', () => server.logs.join('').includes('"event":"account-erased"'), 90_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${server.logs.filter((l) => /erasure|error/i.test(l)).join('').slice(-3000)}`); });
    b.close();
    c.close();
    const needles = [alice.id, alice.email, alice.name, `alice says hello ${suffix}`, `alice visits bob ${suffix}`, `alice to bob ${suffix}`];
    t.same(findInSqlite(server.dataDir, needles), [], 'no SQLite file, table or column holds her id, email, name or words');
    t.same(await events(alice.id), [], 'no ClickHouse event names her');
    const rs = await ch.query({ query: `SELECT * FROM ${database}.events`, format: 'JSONEachRow' });
    t.notOk(JSON.stringify(await rs.json()).includes(alice.id), 'in any column');
    t.ok((await events(bob.id)).includes('gift'), 'bob\'s gift to her still counts');
    const totals = await (await fetch(`${server.http}/debug/ledger/totals`)).json() as { held: number; issued: number; negativeAccounts: number };
    t.equal(totals.held, totals.issued, 'every coin conserved after pseudonymising her ledger account');
    t.equal(totals.negativeAccounts, 0);
    t.equal((await api('GET', `/v1/users/${dave.id}`)).status, 200, 'the restored account is untouched');
    const { default: Database } = await import('better-sqlite3');
    const receipts = new Database(join(server.dataDir, 'purchases.sqlite'), { readonly: true });
    t.match(receipts.prepare('SELECT user, coins FROM purchases').all(), [{ user: /^x_[0-9a-f]{20}$/, coins: 100 }], 'her receipt is kept for tax, pseudonymised');
    receipts.close();
    t.match(await api('POST', '/v1/auth/login', undefined, { email: alice.email, password: PASSWORD }), { status: 401 }, 'her account no longer exists');
    t.notOk(server.logs.filter((l) => l.includes('account-erased')).join('').includes(alice.id), 'the erasure is logged by pseudonym only');
  });
}
