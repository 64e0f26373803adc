/**
 * The NotificationStore contract as a tap suite, run on SQLite and on MongoDB (FerretDB): a notification
 * and its pushes added once per id, newest-first cursor paging with the unread count, read marks, settings,
 * devices one per token (removing one drops its waiting pushes), the push outbox's schedule, fan-out jobs.
 */
import type { Test } from 'tap';
import { DEFAULT_SETTINGS } from '../../notify/preferences';
import type { NotificationStore, StoredNotification } from './notification-store';

const note = (id: string, user: string, at: number): StoredNotification => ({ id, user, kind: 'went_live', data: { creatorName: 'A', n: at }, createdAt: at, readAt: null });
const push = (token: string) => ({ token, platform: 'fcm' as const, collapseKey: 'live:a', title: 'A is live', body: 'x' });

export function notificationStoreConformance(t: Test, name: string, open: () => Promise<NotificationStore>): void {
  t.test(`${name}: a user's notifications, settings and devices are exported and erased; others' notifications about them lose their name`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.add({ id: 'own-1', user: 'gone', kind: 'dm', data: { from: 'pal', fromName: 'Pal' }, createdAt: 1, readAt: null }, [push('tok-gone')]);
    await s.registerDevice({ token: 'tok-gone', user: 'gone', sid: 's1', platform: 'fcm', appVersion: '1', locale: 'en', createdAt: 1 });
    await s.saveSettings('gone', DEFAULT_SETTINGS);
    await s.add({ id: 'about-1', user: 'pal', kind: 'dm', data: { from: 'gone', fromName: 'Gone Person' }, createdAt: 2, readAt: null });
    await s.add({ id: 'evasion:room:gone:dev', user: 'pal', kind: 'security', data: {}, createdAt: 3, readAt: null });
    const exported = await s.exportUser('gone');
    t.same(exported.notifications!.map((n) => (n as { kind: string }).kind), ['dm']);
    t.equal(exported.devices!.length, 1);
    t.equal(exported.notification_settings!.length, 1);
    await s.eraseUser({ user: 'gone', pseudonym: 'x_1', aliases: ['Gone Person'] });
    t.equal((await s.list('gone', { limit: 10 })).items.length, 0);
    t.same(await s.devices('gone'), []);
    t.equal(await s.settings('gone'), null);
    t.same((await s.get('pal', 'about-1'))!.data, { from: 'x_1', fromName: '(erased)' }, 'the other user keeps the notification, not the name');
    t.equal(await s.get('pal', 'evasion:room:gone:dev'), null);
    t.equal((await s.get('pal', 'evasion:room:x_1:dev'))!.kind, 'security', 'an id naming them is pseudonymised');
    t.same((await s.list('pal', { limit: 10 })).items.map((n) => n.id), ['evasion:room:x_1:dev', 'about-1'], 'and keeps its place in the list');
  });

  t.test(`${name}: a notification and its pushes are added once; the list pages newest first with the unread count`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.equal(await s.add(note('n1', 'u', 1), [push('t1'), push('t2')]), true);
    t.equal(await s.add(note('n1', 'u', 1), [push('t1'), push('t3')]), false, 'the same id again adds nothing, not even pushes');
    for (let i = 2; i <= 7; i++) await s.add(note(`n${i}`, 'u', i));
    await s.add(note('other', 'v', 9));
    const first = await s.list('u', { limit: 4 });
    t.same(first.items.map((n) => n.id), ['n7', 'n6', 'n5', 'n4']);
    t.equal(first.unread, 7);
    const second = await s.list('u', { limit: 4, after: first.next! });
    t.same(second.items.map((n) => n.id), ['n3', 'n2', 'n1']);
    t.equal(second.next, null);
    t.same(second.items[2]!.data, { creatorName: 'A', n: 1 });
    t.equal((await s.get('u', 'n1'))!.kind, 'went_live');
    t.equal(await s.get('v', 'n1'), null, 'another user\'s notification is not yours');
    t.equal(await s.markRead('u', 50, ['n1', 'n2', 'nope']), 2);
    t.equal(await s.markRead('u', 51, ['n1']), 0, 'already read');
    t.equal((await s.list('u', { limit: 1 })).unread, 5);
    t.equal(await s.markRead('u', 52), 5, 'all of them');
    t.equal((await s.get('u', 'n1'))!.readAt, 50);
    await t.rejects(s.list('u', { limit: 2, after: 'NOT!' }), { code: 'BAD_CURSOR' });
  });

  t.test(`${name}: notifications added at the same instant are all listed, none skipped between pages`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    const ids = Array.from({ length: 12 }, (_, i) => `burst${i}`);
    t.ok((await Promise.all(ids.map((id) => s.add(note(id, 'burst-user', 5))))).every(Boolean), 'twelve at once');
    const seen: string[] = [];
    let page = await s.list('burst-user', { limit: 5 });
    seen.push(...page.items.map((n) => n.id));
    while (page.next) {
      page = await s.list('burst-user', { limit: 5, after: page.next });
      seen.push(...page.items.map((n) => n.id));
    }
    t.same([...seen].sort(), [...ids].sort(), 'every one listed once across pages of 5');
  });

  t.test(`${name}: the push outbox: due by time, rescheduled, removed; devices one per token`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.registerDevice({ token: 'tA', user: 'p', sid: 's1', platform: 'fcm', appVersion: '1', locale: 'en', createdAt: 1 });
    await s.registerDevice({ token: 'tB', user: 'p', sid: 's2', platform: 'apns', appVersion: '1', locale: 'ne', createdAt: 2 });
    t.same((await s.devices('p')).map((d) => [d.token, d.platform, d.locale]), [['tA', 'fcm', 'en'], ['tB', 'apns', 'ne']]);
    await s.add(note('m1', 'p', 100), [push('tA'), push('tB')]);
    const due = await s.duePushes(100, 10);
    t.same(due.map((x) => [x.token, x.notification, x.kind, x.user, x.attempts]), [['tA', 'm1', 'went_live', 'p', 0], ['tB', 'm1', 'went_live', 'p', 0]]);
    t.same(await s.duePushes(99, 10), [], 'not before their time');
    await s.reschedulePush(due[0]!.id, 1, 500);
    t.same((await s.duePushes(200, 10)).map((x) => x.token), ['tB']);
    t.same((await s.duePushes(500, 10)).map((x) => [x.token, x.attempts]), [['tB', 0], ['tA', 1]], 'oldest first');
    await s.removePush(due[1]!.id);
    t.equal(await s.removeTokens(['tA']), 1, 'a dead token removes its device');
    t.same(await s.duePushes(10_000, 10), [], 'and the pushes still waiting for it');
    await s.registerDevice({ token: 'tB', user: 'q', sid: 's9', platform: 'apns', appVersion: '2', locale: 'en', createdAt: 3 });
    t.same(await s.devices('p'), [], 'a token registered again belongs to its new user');
    t.equal(await s.removeDevice('p', 'tB'), false, 'not yours any more');
    t.equal(await s.removeSessions(['s9']), 1, 'signing out removes the session\'s devices');
    t.same(await s.devices('q'), []);
  });

  t.test(`${name}: settings and fan-out jobs`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.equal(await s.settings('x'), null);
    const mine = { ...DEFAULT_SETTINGS, mutedCreators: ['c1'], quietHours: { start: '22:00', end: '07:00', timeZone: 'Asia/Kathmandu' } };
    await s.saveSettings('x', mine);
    await s.saveSettings('x', { ...mine, enabled: false });
    t.same(await s.settings('x'), { ...mine, enabled: false });
    t.equal(await s.addJob({ id: 'live:r1', creator: 'c', kind: 'went_live', data: { roomTitle: 't' }, createdAt: 5 }), true);
    t.equal(await s.addJob({ id: 'live:r1', creator: 'c', kind: 'went_live', data: { roomTitle: 'other' }, createdAt: 6 }), false);
    await s.addJob({ id: 'live:r0', creator: 'c', kind: 'went_live', data: {}, createdAt: 1 });
    t.same((await s.openJobs(10)).map((j) => j.id), ['live:r0', 'live:r1'], 'oldest first');
    t.equal(await s.job('nope'), null);
  });

  t.test(`${name}: fan-out work by lease: one planner per job, chunks shared, each finished once`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.addJob({ id: 'live:q', creator: 'c', kind: 'went_live', data: { roomTitle: 't' }, createdAt: 1 });
    const a = await s.leaseJob('node-a', 1000, 500);
    t.match(a, { id: 'live:q', cursor: null, chunks: 0, planned: false });
    t.equal(await s.leaseJob('node-b', 1200, 500), null, 'another node waits while the lease holds');
    await s.addChunk('live:q', 0, ['u1', 'u2'], 'k1', false);
    t.match(await s.leaseJob('node-a', 1300, 500), { cursor: 'k1', chunks: 1 }, 'the holder renews it and continues from the cursor');
    t.match(await s.leaseJob('node-b', 1900, 500), { id: 'live:q', cursor: 'k1' }, 'an expired lease is free');
    await s.addChunk('live:q', 0, ['u1', 'u2'], 'k1', false);
    await s.addChunk('live:q', 1, ['u3'], 'k2', true);
    t.equal(await s.leaseJob('node-b', 2000, 500), null, 'a planned job needs no more planning');
    const c0 = await s.leaseChunk('node-a', 2000, 500);
    t.same(c0, { id: 'live:q#0', job: 'live:q', users: ['u1', 'u2'] }, 'chunk 0 was enqueued once');
    const c1 = await s.leaseChunk('node-b', 2000, 500);
    t.same(c1?.users, ['u3'], 'another node takes the next chunk');
    t.equal(await s.leaseChunk('node-c', 2100, 500), null, 'nothing free while both are leased');
    await s.finishChunk('live:q#1', 1);
    await s.finishChunk('live:q#1', 1);
    t.match(await s.job('live:q'), { notified: 1, done: false }, 'a chunk finished twice counts once');
    t.same((await s.leaseChunk('node-c', 2600, 500))?.id, 'live:q#0', 'a chunk whose node died is taken over');
    await s.finishChunk('live:q#0', 2);
    t.match(await s.job('live:q'), { notified: 3, done: true, planned: true });
    t.same(await s.openJobs(10), []);
  });
}
