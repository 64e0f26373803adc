/**
 * The push path end to end against local fakes of the providers, through the real client libraries:
 * @googleapis/fcm (HTTP v1), @parse/node-apn (HTTP/2 over TLS, token auth, a test CA) and expo-server-sdk.
 * A failing provider is retried with backoff until each live device has exactly one push; tokens the
 * providers call unregistered are removed with their pending pushes; a device over its rate waits.
 */
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteNotificationStore } from '../adapters/notifications/notification-store-sqlite';
import { FcmSender } from '../adapters/push/fcm-sender';
import { ApnsSender } from '../adapters/push/apns-sender';
import { ExpoSender } from '../adapters/push/expo-sender';
import type { PushSender } from '../adapters/push/push-sender';
import { startApnsFake, startExpoFake, startFcmFake } from '../tools/push-fakes';
import { Templates } from './templates';
import { Notifier } from './notifier';
import { PushDispatcher } from './push-dispatcher';

const dir = mkdtempSync(join(tmpdir(), 'hb-push-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('one push per live device through every provider, retries, dead tokens removed', async (t) => {
  const [fcmFake, apnsFake, expoFake] = [await startFcmFake(), await startApnsFake(), await startExpoFake()];
  t.teardown(async () => {
    await fcmFake.close();
    await apnsFake.close();
    await expoFake.close();
  });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const p8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const senders = new Map<string, PushSender>([
    ['fcm', new FcmSender({ credentials: { client_email: 'push@test.iam.gserviceaccount.com', private_key: rsa, project_id: 'halobuzz-test' }, apiUrl: fcmFake.url })],
    ['apns', new ApnsSender({ key: p8, keyId: 'ABC123DEFG', teamId: 'TEAM123456', topic: 'app.halobuzz', production: false, address: apnsFake.address, ca: apnsFake.ca })],
    ['expo', new ExpoSender({ accessToken: null, apiUrl: expoFake.url })],
  ]);
  const store = new SqliteNotificationStore(join(dir, 'push.sqlite'));
  t.teardown(() => store.close());
  const devices = [
    ['fcm', 'fcm-live-token-1'], ['fcm', 'fcm-dead-token-2'], ['apns', 'a1b2c3d4e5f60718293a4b5c6d7e8f90'], ['apns', 'deadbeefdeadbeefdeadbeefdeadbeef'],
    ['expo', 'ExponentPushToken[liveliveLIVE]'], ['expo', 'ExponentPushToken[deaddeadDEAD]'],
  ] as const;
  for (const [platform, token] of devices) await store.registerDevice({ token, user: 'fan', sid: 's1', platform, appVersion: '1', locale: 'en', createdAt: 1 });
  fcmFake.dead.add('fcm-dead-token-2');
  apnsFake.dead.add('deadbeefdeadbeefdeadbeefdeadbeef');
  expoFake.dead.add('ExponentPushToken[deaddeadDEAD]');
  fcmFake.failNext = 2;
  apnsFake.failNext = 1;
  expoFake.failNext = 1;

  const notifier = new Notifier({ store, templates: Templates.fromDir(join(__dirname, '..', '..', 'config', 'notifications')), now: () => Date.now() });
  await notifier.notify({ id: 'live:r1:fan', user: 'fan', kind: 'went_live', data: { creatorName: 'Asha', roomTitle: 'hi' }, creator: 'asha', collapseKey: 'live:asha' });
  const outcomes: string[] = [];
  const d = new PushDispatcher(store, senders, {
    batch: 50, pollMs: 60_000, maxAttempts: 6, baseDelayMs: 10, maxDelayMs: 50, perDeviceMinute: 10, now: () => Date.now(), random: () => 0.5,
    onOutcome: (p, o) => outcomes.push(`${p.platform}:${o.kind}`), onError: (e) => t.fail(String(e)),
  });
  for (let i = 0; i < 40 && (await store.duePushes(Date.now() + 60_000, 10)).length > 0; i++) {
    await d.kick();
    await new Promise((r) => setTimeout(r, 30));
  }
  await d.stop();
  const tokens = (f: { received: { token: string }[] }) => f.received.map((r) => r.token);
  t.same(tokens(fcmFake), ['fcm-live-token-1'], 'FCM: the live device got exactly one push after two 503s');
  t.same(tokens(apnsFake), ['a1b2c3d4e5f60718293a4b5c6d7e8f90'], 'APNs: one push, over HTTP/2 TLS with a bearer token');
  t.same(tokens(expoFake), ['ExponentPushToken[liveliveLIVE]'], 'Expo: one push');
  t.match(fcmFake.received[0], { title: 'Asha is live', body: 'hi', collapseKey: 'live:asha' });
  t.match(apnsFake.received[0], { collapseKey: 'live:asha' });
  t.match(fcmFake.received[0]!.auth, /^Bearer ey/, 'FCM called with the service account\'s signed JWT');
  t.same((await store.devices('fan')).map((x) => x.token).sort(), ['ExponentPushToken[liveliveLIVE]', 'a1b2c3d4e5f60718293a4b5c6d7e8f90', 'fcm-live-token-1'], 'the unregistered tokens were removed');
  t.same(await store.duePushes(Date.now() + 3_600_000, 10), [], 'the outbox is empty');
  t.ok(outcomes.includes('fcm:retry') && outcomes.includes('expo:retry'), `FCM's and Expo's failures were retried by the dispatcher (${outcomes.join(' ')})`);
  t.equal(apnsFake.failNext, 0, 'APNs failed once too (the library retried that one itself)');
  t.equal(outcomes.filter((o) => o.endsWith(':dead_token')).length, 3);
});

t.test('a device over its rate waits for its next slot; a provider that keeps failing is given up after maxAttempts', async (t) => {
  const fcmFake = await startFcmFake();
  t.teardown(() => fcmFake.close());
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const store = new SqliteNotificationStore(join(dir, 'rate.sqlite'));
  t.teardown(() => store.close());
  await store.registerDevice({ token: 'fcm-busy-token', user: 'u', sid: 's', platform: 'fcm', appVersion: '1', locale: 'en', createdAt: 1 });
  const notifier = new Notifier({ store, templates: Templates.fromDir(join(__dirname, '..', '..', 'config', 'notifications')), now: () => 1_000 });
  for (let i = 0; i < 3; i++) await notifier.notify({ id: `dm:${i}`, user: 'u', kind: 'dm', data: { fromName: 'x' } });
  let now = 1_000;
  const outcomes: string[] = [];
  const d = new PushDispatcher(store, new Map([['fcm', new FcmSender({ credentials: { client_email: 'a@b.iam.gserviceaccount.com', private_key: rsa, project_id: 'p' }, apiUrl: fcmFake.url })]]), {
    batch: 10, pollMs: 60_000, maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000, perDeviceMinute: 2, now: () => now, random: () => 1,
    onOutcome: (_p, o) => outcomes.push(o.kind), onError: (e) => t.fail(String(e)),
  });
  await d.kick();
  t.equal(fcmFake.received.length, 2, 'two pushes this minute');
  t.same([...outcomes].sort(), ['deferred', 'sent', 'sent'], 'the third waits for the device\'s next slot');
  now += 61_000;
  fcmFake.failNext = 100;
  for (let i = 0; i < 3; i++) {
    await d.kick();
    now += 61_000; // past the backoff and the device's rate window
  }
  t.ok(outcomes.includes('gave_up'), `given up after maxAttempts (${outcomes.join(' ')})`);
  t.same(await store.duePushes(now + 3_600_000, 10), [], 'nothing left');
  await d.stop();
});

t.test('Web Push: VAPID-signed, encrypted, one push per subscription; an expired subscription (410) is removed', async (t) => {
  const { startWebPushFake } = await import('../tools/push-fakes');
  const { WebPushSender } = await import('../adapters/push/webpush-sender');
  const webpush = (await import('web-push')).default;
  const fake = await startWebPushFake();
  t.teardown(() => fake.close());
  const vapid = webpush.generateVAPIDKeys();
  const sender = new WebPushSender({ subject: 'mailto:ops@halobuzz.test', publicKey: vapid.publicKey, privateKey: vapid.privateKey, ca: fake.ca });
  const store = new SqliteNotificationStore(join(dir, 'webpush.sqlite'));
  t.teardown(() => store.close());
  await store.registerDevice({ token: fake.subscription('browser-1'), user: 'w', sid: 's', platform: 'webpush', appVersion: 'web', locale: 'en', createdAt: 1 });
  await store.registerDevice({ token: fake.subscription('browser-gone'), user: 'w', sid: 's', platform: 'webpush', appVersion: 'web', locale: 'en', createdAt: 2 });
  fake.dead.add('browser-gone');
  const notifier = new Notifier({ store, templates: Templates.fromDir(join(__dirname, '..', '..', 'config', 'notifications')), now: () => Date.now() });
  await notifier.notify({ id: 'live:r9:w', user: 'w', kind: 'went_live', data: { creatorName: 'A', roomTitle: 'b' }, creator: 'a', collapseKey: 'live:a' });
  const d = new PushDispatcher(store, new Map([['webpush', sender]]), {
    batch: 10, pollMs: 60_000, maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10, perDeviceMinute: 10, now: () => Date.now(), random: () => 0,
    onOutcome: () => undefined, onError: (e) => t.fail(String(e)),
  });
  await d.kick();
  await d.stop();
  t.same(fake.received.map((r) => [r.token, r.collapseKey]), [['browser-1', 'live_a']], 'one push, with the collapse key as its Topic');
  t.match(fake.received[0]!.auth, /^vapid t=ey.*, k=/, 'signed with the VAPID key');
  t.same((await store.devices('w')).map((x) => JSON.parse(x.token).endpoint.split('/').pop()), ['browser-1'], 'the expired subscription is gone');
});
