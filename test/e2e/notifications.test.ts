/**
 * Notifications on a running server with its push providers pointed at local fakes (FCM, APNs over HTTP/2
 * TLS with a test CA, Expo): a creator goes live (POST /v1/rooms, then joining as host: the stream's
 * start) and each follower is told as they asked.
 * The plain follower's three devices each receive exactly one push, although FCM fails twice first; a
 * token FCM calls unregistered is removed; the quiet-hours follower is listed but not pushed; the muted one
 * gets nothing. Settings are validated, read marks and "opened" work, and signing out removes devices.
 */
import t, { type Test } from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { apiCaller, apiUser, until } from '../helpers/games';
import { startApnsFake, startExpoFake, startFcmFake } from '../../tools/push-fakes';
import { SqliteNotificationStore } from '../../adapters/notifications/notification-store-sqlite';

/** A server whose push providers are local fakes; its `call` helper talks to the API. */
async function serverWithFakes(t: Test) {
  const [fcm, apns, expo] = [await startFcmFake(), await startApnsFake(), await startExpoFake()];
  t.teardown(async () => {
    await fcm.close();
    await apns.close();
    await expo.close();
  });
  const keys = mkdtempSync(join(tmpdir(), 'hb-push-keys-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(keys, name), text);
    return join(keys, name);
  };
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const p8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const server = await startServer({
    HALOBUZZ_FCM_CREDENTIALS: file('fcm.json', JSON.stringify({ client_email: 'push@test.iam.gserviceaccount.com', private_key: rsa, project_id: 'halobuzz-test' })),
    HALOBUZZ_FCM_URL: fcm.url,
    HALOBUZZ_APNS_KEY: file('apns.p8', p8), HALOBUZZ_APNS_KEY_ID: 'ABC123DEFG', HALOBUZZ_APNS_TEAM_ID: 'TEAM123456', HALOBUZZ_APNS_TOPIC: 'app.halobuzz',
    HALOBUZZ_APNS_ADDRESS: apns.address, HALOBUZZ_APNS_CA: file('ca.pem', apns.ca),
    HALOBUZZ_EXPO: 'on', HALOBUZZ_EXPO_URL: expo.url,
  });
  t.teardown(() => server.stop());
  const call = apiCaller(server);
  return { server, fcm, apns, expo, call };
}

t.test('went live: pushed, listed or left out as each follower asked', async (t) => {
  const { server, fcm, apns, expo, call } = await serverWithFakes(t);
  fcm.failNext = 2;
  fcm.dead.add('fcm-token-plain-dead');

  const star = await apiUser(server, 'Star');
  const [plain, sleepy, muter] = [await apiUser(server, 'plain'), await apiUser(server, 'sleepy'), await apiUser(server, 'muter')];
  for (const f of [plain, sleepy, muter]) t.equal((await call('PUT', `/v1/me/following/${star.id}`, f!.token)).status, 200);

  t.match((await call('GET', '/v1/me/notification-settings', plain!.token)).body, { enabled: true, quietHours: null }, 'defaults');
  // Quiet hours that always cover "now": from the current UTC hour to the hour before it.
  const h = new Date().getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  const quiet = { start: `${pad(h)}:00`, end: `${pad((h + 23) % 24)}:59`, timeZone: 'UTC' };
  const base = { enabled: true, kinds: { went_live: true, dm: true, gift: true, payout: true }, mutedCreators: [], quietHours: null };
  t.equal((await call('PUT', '/v1/me/notification-settings', sleepy!.token, { ...base, quietHours: quiet })).status, 200);
  t.equal((await call('PUT', '/v1/me/notification-settings', muter!.token, { ...base, mutedCreators: [star.id] })).status, 200);
  t.equal((await call('PUT', '/v1/me/notification-settings', muter!.token, { ...base, quietHours: { ...quiet, timeZone: 'Mars/Olympus' } })).status, 400, 'an unknown time zone is refused');

  const devices = [
    [plain, 'fcm', 'fcm-token-plain-1'], [plain, 'fcm', 'fcm-token-plain-dead'], [plain, 'apns', 'a1b2c3d4e5f60718293a4b5c6d7e8f90'], [plain, 'expo', 'ExponentPushToken[plainPLAIN]'],
    [sleepy, 'fcm', 'fcm-token-sleepy'], [muter, 'fcm', 'fcm-token-muter'],
  ] as const;
  for (const [f, platform, token] of devices) t.equal((await call('POST', '/v1/me/devices', f!.token, { platform, token, appVersion: '1.0', locale: 'en' })).status, 201);
  t.equal((await call('GET', '/v1/me/devices', plain!.token)).body.devices.length, 4);

  const room = await call('POST', '/v1/rooms', star.token, { title: 'Morning songs' });
  t.equal(room.status, 201);
  // The stream starts when the host joins over the socket: that is when followers are told.
  const host = server.client(star.id);
  t.teardown(() => host.close());
  await host.connect();
  const joined = await host.join(room.body.id, Role.HOST);
  const listed = await until('plain is told', async () => {
    const page = await call('GET', '/v1/notifications', plain!.token);
    return page.body.items.length > 0 ? page.body : null;
  });
  t.match(listed.items[0], { id: `live:${joined.stream}:${plain!.id}`, kind: 'went_live', title: 'Star is live', body: 'Morning songs', readAt: null });
  t.equal(listed.unread, 1);
  t.match((await call('GET', '/v1/notifications', sleepy!.token)).body.items, [{ kind: 'went_live' }], 'quiet hours: still listed');
  t.same((await call('GET', '/v1/notifications', muter!.token)).body.items, [], 'muted: nothing');

  await until('every live device pushed', () => fcm.received.length >= 1 && apns.received.length >= 1 && expo.received.length >= 1, 30_000);
  await until('the dead token removed', async () => (await call('GET', '/v1/me/devices', plain!.token)).body.devices.length === 3, 30_000);
  await new Promise((r) => setTimeout(r, 1500));
  t.same(fcm.received.map((r) => r.token), ['fcm-token-plain-1'], 'FCM: exactly one push to the plain follower, after two 503s; none to the quiet or muted ones');
  t.same(apns.received.map((r) => r.token), ['a1b2c3d4e5f60718293a4b5c6d7e8f90'], 'APNs: exactly one');
  t.same(expo.received.map((r) => r.token), ['ExponentPushToken[plainPLAIN]'], 'Expo: exactly one');
  t.ok([...fcm.received, ...apns.received, ...expo.received].every((r) => r.title === 'Star is live' && r.collapseKey === `live:${star.id}`), 'rendered, and collapsed per creator');
  t.same((await call('GET', '/v1/me/devices', plain!.token)).body.devices.map((d: { token: string }) => d.token).sort(),
    ['ExponentPushToken[plainPLAIN]', 'a1b2c3d4e5f60718293a4b5c6d7e8f90', 'fcm-token-plain-1'], 'the token FCM called unregistered is gone');
  const metrics = await (await fetch(`${server.http}/metrics`)).text();
  t.match(metrics, /halobuzz_pushes_total\{platform="fcm",outcome="retry"\} [1-9]/, 'retries are counted');
  t.match(metrics, /halobuzz_pushes_total\{platform="fcm",outcome="dead_token"\} 1/);
  const store = new SqliteNotificationStore(join(server.dataDir, 'notifications.sqlite'));
  t.teardown(() => store.close());
  t.same(await store.duePushes(Date.now() + 3_600_000, 100), [], 'the outbox is empty');

  t.equal((await call('POST', `/v1/notifications/${encodeURIComponent(listed.items[0].id)}/opened`, plain!.token, { platform: 'fcm' })).status, 204, 'the app reports an open');
  t.equal((await call('GET', '/v1/notifications', plain!.token)).body.unread, 0, 'opening marks it read');
  t.match((await call('POST', '/v1/notifications/read', plain!.token, {})).body, { marked: 0 });
  t.equal((await call('GET', '/v1/notifications', plain!.token)).body.unread, 0);
  t.equal((await call('POST', '/v1/auth/logout', plain!.token)).status < 300, true);
  t.same((await store.devices(plain!.id)).map((d) => d.token), [], 'signing out removed the session\'s devices');
});

t.test('a DM to someone offline is pushed (never its text); online, it is not; a notification reaches an open socket', async (t) => {
  const { server, fcm, call } = await serverWithFakes(t);
  const [ann, bob] = [await apiUser(server, 'Ann'), await apiUser(server, 'Bob')];
  t.equal((await call('POST', '/v1/me/devices', bob.token, { platform: 'fcm', token: 'fcm-token-bob-1', appVersion: '1.0', locale: 'en' })).status, 201);
  const annSocket = server.client(ann.id);
  await annSocket.connect();
  const sent = await annSocket.dm(bob.id, 'secret plans for tonight');
  t.equal(sent.online, false, 'bob is offline');
  await until('the offline DM is pushed', () => fcm.received.length === 1, 15_000);
  t.match(fcm.received[0], { token: 'fcm-token-bob-1', title: 'Ann', body: 'sent you a message' });
  t.notOk(JSON.stringify(fcm.received).includes('secret'), 'the message text never goes into a push');
  t.match((await call('GET', '/v1/notifications', bob.token)).body.items, [{ kind: 'dm', title: 'Ann' }]);

  const bobSocket = server.client(bob.id);
  const pushed: { kind: string; title: string }[] = [];
  bobSocket.on('notification', (n) => pushed.push(n));
  await bobSocket.connect();
  t.equal((await annSocket.dm(bob.id, 'are you there?')).online, true);
  t.equal((await call('PUT', `/v1/me/following/${ann.id}`, bob.token)).status, 200);
  const room = await call('POST', '/v1/rooms', ann.token, { title: 'Live now' });
  t.equal(room.status, 201);
  await annSocket.join(room.body.id, Role.HOST);
  await until('the went-live notification reaches bob\'s socket', () => pushed.length > 0, 15_000);
  t.match(pushed[0], { kind: 'went_live', title: 'Ann is live', body: 'Live now' });
  await until('and his phone', () => fcm.received.length === 2, 15_000);
  await new Promise((r) => setTimeout(r, 1000));
  t.same(fcm.received.map((r) => r.title), ['Ann', 'Ann is live'], 'the online DM made no push');
  annSocket.close();
  bobSocket.close();
});
