/**
 * Preferences, templates and the Notifier on the SQLite store: quiet hours across midnight in the user's
 * own zone, kinds off and muted creators make nothing, security cannot be switched off, pushes are written
 * with the notification (one per device, in the device's locale), and a repeated id notifies once.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteNotificationStore } from '../adapters/notifications/notification-store-sqlite';
import { DEFAULT_SETTINGS, decide, inQuietHours, localMinutes, validQuietHours } from './preferences';
import { Templates } from './templates';
import { Notifier } from './notifier';

const dir = mkdtempSync(join(tmpdir(), 'hb-notify-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const EN = join(__dirname, '..', '..', 'config', 'notifications');
// 2026-11-26 16:30 UTC = 22:15 in Kathmandu (UTC+5:45).
const AT = Date.UTC(2026, 10, 26, 16, 30);

t.test('quiet hours are read in the user\'s own time zone, across midnight', async (t) => {
  t.equal(localMinutes(AT, 'Asia/Kathmandu'), 22 * 60 + 15);
  const q = { start: '22:00', end: '07:00', timeZone: 'Asia/Kathmandu' };
  t.ok(inQuietHours(q, AT), '22:15 is inside 22:00–07:00');
  t.ok(inQuietHours(q, AT + 8 * 3_600_000), '06:15 the next morning is inside');
  t.notOk(inQuietHours(q, AT + 9 * 3_600_000), '07:15 is outside');
  t.notOk(inQuietHours({ ...q, timeZone: 'UTC' }, AT), '16:30 UTC is outside the same hours in UTC');
  t.notOk(validQuietHours({ ...q, timeZone: 'Mars/Olympus' }), 'an unknown zone is refused');
  t.notOk(validQuietHours({ ...q, start: '25:00' }));
});

t.test('decide: off, muted, quiet, and security always', async (t) => {
  const quiet = { ...DEFAULT_SETTINGS, quietHours: { start: '22:00', end: '07:00', timeZone: 'Asia/Kathmandu' } };
  t.equal(decide(DEFAULT_SETTINGS, 'went_live', 'c1', AT), 'push');
  t.equal(decide(quiet, 'went_live', 'c1', AT), 'inbox', 'quiet hours: listed, not pushed');
  t.equal(decide({ ...DEFAULT_SETTINGS, mutedCreators: ['c1'] }, 'went_live', 'c1', AT), 'none');
  t.equal(decide({ ...DEFAULT_SETTINGS, kinds: { ...DEFAULT_SETTINGS.kinds, gift: false } }, 'gift', null, AT), 'none');
  t.equal(decide({ ...DEFAULT_SETTINGS, enabled: false }, 'dm', null, AT), 'none');
  t.equal(decide({ ...quiet, enabled: false }, 'security', null, AT), 'push', 'security cannot be switched off or delayed');
});

t.test('templates: every shipped language, with plurals by its own rules; an unknown language gets English', async (t) => {
  const tpl = Templates.fromDir(EN);
  t.same(tpl.render('went_live', { creatorName: 'Asha', roomTitle: 'Morning songs' }, 'en'), { title: 'Asha is live', body: 'Morning songs' });
  t.match(tpl.render('security', { event: 'new_sign_in', ip: '203.0.113.9' }).body, 'New sign-in to your account from 203.0.113.9');
  const gift = (locale: string, count: number, coins: number) => tpl.render('gift', { fromName: 'Ram', giftName: 'Rose', count, coins }, locale);
  t.same(gift('en', 1, 1), { title: 'Ram sent you a Rose', body: '1 coin' });
  t.same(gift('en-GB', 3, 30), { title: 'Ram sent you 3 × Rose', body: '30 coins' });
  t.same(gift('es-MX', 1, 1), { title: 'Ram te envió un Rose', body: '1 moneda' });
  t.same(gift('es', 2, 12000), { title: 'Ram te envió 2 × Rose', body: '12.000 monedas' }, 'Spanish groups thousands with a dot');
  t.same(gift('hi', 1, 5), { title: 'Ram ने आपको एक Rose भेजा', body: '5 सिक्के' });
  t.same(gift('ne-NP', 2, 20), { title: 'Ram ले तपाईंलाई २ × Rose पठाउनुभयो', body: '२० सिक्का' }, 'Nepali digits');
  t.same(gift('ar', 2, 2), { title: 'أرسل إليك Ram اثنين من Rose', body: 'عملتان' }, 'Arabic dual');
  t.same(gift('ar', 3, 11), { title: 'أرسل إليك Ram 3 من Rose', body: '11 عملة' }, 'Arabic few and many');
  t.equal(tpl.dir('ar-EG'), 'rtl');
  t.equal(tpl.dir('ne'), 'ltr');
  t.same(tpl.render('dm', { fromName: 'Ann' }, 'fr-FR'), { title: 'Ann', body: 'sent you a message' }, 'a language not shipped: English');
  t.equal(tpl.render('security', { event: 'mfa_enabled' }, 'ar').body, 'فُعّل التحقق بخطوتين');
});

t.test('the Notifier: what each setting makes, pushes per device in its locale, once per id', async (t) => {
  const store = new SqliteNotificationStore(join(dir, 'n.sqlite'));
  t.teardown(() => store.close());
  let now = AT;
  const online: string[] = [];
  const n = new Notifier({ store, templates: Templates.fromDir(EN), now: () => now, online: (user, x) => online.push(`${user}:${x.title}`),
    localeOf: async (user) => (user === 'fan-es' ? 'es-MX' : null) });
  await store.registerDevice({ token: 'tok-a', user: 'fan', sid: 's1', platform: 'fcm', appVersion: '1.0', locale: 'en', createdAt: 1 });
  await store.registerDevice({ token: 'tok-b', user: 'fan', sid: 's2', platform: 'apns', appVersion: '1.0', locale: 'en-GB', createdAt: 2 });
  const live = { id: 'live:s1:fan', user: 'fan', kind: 'went_live' as const, data: { creatorName: 'Asha', roomTitle: 'hi' }, creator: 'asha', collapseKey: 'live:asha' };
  t.equal(await n.notify(live), 'push');
  t.equal(await n.notify(live), 'none', 'the same id twice: once');
  const due = await store.duePushes(now, 10);
  t.same(due.map((p) => [p.token, p.platform, p.collapseKey, p.title]), [['tok-a', 'fcm', 'live:asha', 'Asha is live'], ['tok-b', 'apns', 'live:asha', 'Asha is live']]);
  t.same(online, ['fan:Asha is live'], 'an online user also gets it on the socket');
  await n.notify({ ...live, id: 'live:s1:fan-es', user: 'fan-es' });
  t.same(online.at(-1), 'fan-es:Asha está en directo', 'in their saved language');

  await store.saveSettings('fan', { ...DEFAULT_SETTINGS, quietHours: { start: '22:00', end: '07:00', timeZone: 'Asia/Kathmandu' } });
  t.equal(await n.notify({ ...live, id: 'live:s2:fan' }), 'inbox');
  t.equal((await store.duePushes(now, 10)).length, 2, 'quiet hours: no new push');
  await store.saveSettings('fan', { ...DEFAULT_SETTINGS, mutedCreators: ['asha'] });
  t.equal(await n.notify({ ...live, id: 'live:s3:fan' }), 'none');
  const page = await store.list('fan', { limit: 10 });
  t.same(page.items.map((x) => x.id), ['live:s2:fan', 'live:s1:fan'], 'the in-app list: quiet-hours ones included, muted ones not');
  t.equal(page.unread, 2);
  now += 1000;
  t.equal(await store.markRead('fan', now, ['live:s1:fan']), 1);
  t.equal((await store.list('fan', { limit: 10 })).unread, 1);
  t.equal(await store.markRead('fan', now), 1, 'mark all');
  t.equal(await store.removeSessions(['s1']), 1, 'signing out a session removes its device');
  t.same((await store.devices('fan')).map((d) => d.token), ['tok-b']);
  await store.registerDevice({ token: 'tok-b', user: 'other', sid: 's9', platform: 'apns', appVersion: '2.0', locale: 'en', createdAt: 3 });
  t.same((await store.devices('fan')).map((d) => d.token), [], 'one device per token: a token registered by another user moves to them');
});

t.test('security notices: a sign-in and MFA changes tell the user, even with everything switched off', async (t) => {
  const { withSecurityNotices } = await import('./security-notices');
  const store = new SqliteNotificationStore(join(dir, 'security.sqlite'));
  t.teardown(() => store.close());
  const logged: string[] = [];
  const accounts = { logEvent: async (e: { type: string }) => void logged.push(e.type), userById: async () => null } as unknown as import('../adapters/accounts/account-store').AccountStore;
  const notifier = new Notifier({ store, templates: Templates.fromDir(EN), now: () => AT });
  await store.saveSettings('u1', { ...DEFAULT_SETTINGS, enabled: false });
  const wrapped = withSecurityNotices(accounts, notifier, (e) => t.fail(String(e)));
  await wrapped.logEvent({ ts: 1, userId: 'u1', type: 'login', ip: '203.0.113.9', detail: '' });
  await wrapped.logEvent({ ts: 2, userId: 'u1', type: 'login_failed', ip: '203.0.113.9', detail: '' });
  await wrapped.logEvent({ ts: 3, userId: 'u1', type: 'mfa_disabled', ip: '', detail: '' });
  t.same(logged, ['login', 'login_failed', 'mfa_disabled'], 'the security log is written as before');
  t.equal(await wrapped.userById('x'), null, 'other methods pass through');
  await new Promise((r) => setTimeout(r, 20));
  const items = (await store.list('u1', { limit: 10 })).items;
  const tpl = Templates.fromDir(EN);
  t.same(items.map((n) => tpl.render(n.kind, n.data).body), ['Two-step verification was turned off', 'New sign-in to your account from 203.0.113.9'], 'failed sign-ins are not notified; the rest are, though all else is off');
});

t.test('notifyAll: a batch reads each user\'s settings, devices and locale once, and delivers every notification once', async (t) => {
  const store = new SqliteNotificationStore(join(dir, 'batch.sqlite'));
  t.teardown(() => store.close());
  const reads = { settings: 0, devices: 0, locale: 0 };
  const counted = Object.assign(Object.create(store) as SqliteNotificationStore, {
    settings: (u: string) => (reads.settings++, store.settings(u)),
    devices: (u: string) => (reads.devices++, store.devices(u)),
  });
  const online: string[] = [];
  const n = new Notifier({ store: counted, templates: Templates.fromDir(EN), now: () => AT - 12 * 3_600_000, online: (user, x) => online.push(`${user}:${x.id}`),
    localeOf: async () => (reads.locale++, 'en') });
  await store.registerDevice({ token: 'tok-c', user: 'creator', sid: 's1', platform: 'fcm', appVersion: '1.0', locale: 'en', createdAt: 1 });
  const gifts = Array.from({ length: 40 }, (_, i) => ({ id: `gift:${i}`, user: i % 4 === 0 ? 'other' : 'creator', kind: 'gift' as const, data: { from: `fan${i}`, fromName: `Fan ${i}`, giftName: 'Rose', count: 1, coins: 10 } }));
  const deliveries = await n.notifyAll([...gifts, gifts[1]!]);
  t.equal(deliveries.filter((d) => d === 'push').length, 40, 'all 40 are delivered (pushed to whatever devices each user has)');
  t.equal(deliveries.at(-1), 'none', 'the repeated id notifies once');
  t.same(reads, { settings: 2, devices: 2, locale: 1 }, 'settings and devices once per user; the profile\'s locale once, for the user with no device to take it from');
  t.equal((await store.list('creator', { limit: 100 })).items.length, 30);
  t.equal(online.length, 40, 'every new notification also went to the socket, once');
});
