/**
 * Notifications over HTTP on a running server: a creator goes live (POST /v1/rooms) and each follower is
 * told as they asked: listed and queued for push to each device; listed but not pushed in quiet hours; not
 * at all when muted. Settings are validated, read marks work, devices are one per token and signing the
 * session out removes them. (The pending pushes are read from the notification store itself: the senders
 * to FCM, APNs and Expo are the next step of #19.)
 */
import t from 'tap';
import { join } from 'node:path';
import { startServer } from '../../tools/server-process';
import { apiUser, until } from '../helpers/games';
import { SqliteNotificationStore } from '../../adapters/notifications/notification-store-sqlite';

t.test('went live: listed and queued for push as each follower asked', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${server.api}${path}`, {
      method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, any> };
  };
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

  for (const [f, token] of [[plain, 'fcm-token-plain-1'], [plain, 'apns-token-plain-2'], [sleepy, 'fcm-token-sleepy'], [muter, 'fcm-token-muter']] as const) {
    t.equal((await call('POST', '/v1/me/devices', f!.token, { platform: token.startsWith('apns') ? 'apns' : 'fcm', token, appVersion: '1.0', locale: 'en' })).status, 201);
  }
  t.equal((await call('GET', '/v1/me/devices', plain!.token)).body.devices.length, 2);

  const room = await call('POST', '/v1/rooms', star.token, { title: 'Morning songs' });
  t.equal(room.status, 201);
  const listed = await until('plain is told', async () => {
    const page = await call('GET', '/v1/notifications', plain!.token);
    return page.body.items.length > 0 ? page.body : null;
  });
  t.match(listed.items[0], { id: `live:${room.body.id}:${plain!.id}`, kind: 'went_live', title: 'Star is live', body: 'Morning songs', readAt: null });
  t.equal(listed.unread, 1);
  t.match((await call('GET', '/v1/notifications', sleepy!.token)).body.items, [{ kind: 'went_live' }], 'quiet hours: still listed');
  t.same((await call('GET', '/v1/notifications', muter!.token)).body.items, [], 'muted: nothing');

  const store = new SqliteNotificationStore(join(server.dataDir, 'notifications.sqlite'));
  t.teardown(() => store.close());
  const pushes = await store.duePushes(Date.now() + 1000, 100);
  t.same(pushes.map((p) => p.token).sort(), ['apns-token-plain-2', 'fcm-token-plain-1'], 'pushes only to the plain follower\'s two devices');
  t.ok(pushes.every((p) => p.collapseKey === `live:${star.id}` && p.title === 'Star is live'), 'collapsed per creator, rendered in the device locale');

  t.match((await call('POST', '/v1/notifications/read', plain!.token, {})).body, { marked: 1 });
  t.equal((await call('GET', '/v1/notifications', plain!.token)).body.unread, 0);
  t.equal((await call('POST', '/v1/auth/logout', plain!.token)).status < 300, true);
  t.same((await store.devices(plain!.id)).map((d) => d.token), [], 'signing out removed the session\'s devices');
});
