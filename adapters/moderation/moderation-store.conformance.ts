/**
 * The ModerationStore contract as a tap suite, run on SQLite and on MongoDB (FerretDB): one open report per
 * target with reporters merged, the hourly limit, the queue's order and paging, forward-only status changes
 * (one claim wins), appeals, the audit log, suspensions covering devices, shadow mutes, devices seen.
 */
import type { Test } from 'tap';
import type { ModerationStore, NewReport } from './moderation-store';

const report = (id: string, over: Partial<NewReport> = {}): NewReport => ({
  id, targetKey: `user:${id}-target`, target: { kind: 'user', user: `${id}-target` }, reason: 'spam', text: '', snapshot: { displayName: 'X' },
  priority: 3, createdAt: 1000, reporter: 'rep-1', ...over,
});
const limit = { perHour: 3, system: false };

export function moderationStoreConformance(t: Test, name: string, open: () => Promise<ModerationStore>): void {
  t.test(`${name}: reports filed are exported; erasure deletes reports about the user and pseudonymises them elsewhere`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    const gone = `gone-${Math.random().toString(36).slice(2)}`;
    await s.file(report(`${gone}-r1`, { reporter: gone, text: 'he spams', targetKey: `user:${gone}-victim`, target: { kind: 'user', user: `${gone}-victim` } }), limit);
    await s.file(report(`${gone}-r2`, { reporter: 'rep-9', targetKey: `user:${gone}`, target: { kind: 'user', user: gone } }), limit);
    await s.audit({ id: `${gone}-a1`, at: 1, actor: 'staff-1', action: 'mute', target: gone, reason: 'r', detail: '{}' });
    await s.sawDevice(gone, 'dev-gone', 1);
    const exported = await s.exportUser(gone);
    t.match(exported.reports_filed, [{ report: `${gone}-r1`, reason: 'spam', text: 'he spams' }]);
    t.equal(exported.moderation_log!.length, 1);
    t.equal(exported.devices_seen!.length, 1);
    await s.eraseUser({ user: gone, pseudonym: 'x_1', aliases: [] });
    t.equal(await s.report(`${gone}-r2`), null, 'the report about them is gone');
    t.notOk((await s.report(`${gone}-r1`))!.reporters.includes(gone), 'their name left the report they filed');
    t.same((await s.auditLog({ target: 'x_1', limit: 5 })).map((a) => a.id), [`${gone}-a1`], 'the audit entry stays, pseudonymised');
    t.same(await s.devicesOf(gone), []);
  });

  t.test(`${name}: one open report per target; more reporters join it, each counted once; the hourly limit`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    const first = await s.file(report('r1', { targetKey: 'message:room:7', target: { kind: 'message', user: 'bad', room: 'room', seq: 7 } }), limit);
    t.match(first, { kind: 'filed', report: { id: 'r1', status: 'open', reporters: ['rep-1'], priority: 3, snapshot: { displayName: 'X' } } });
    const again = await s.file(report('r2', { targetKey: 'message:room:7', reporter: 'rep-1', createdAt: 1001 }), limit);
    t.match(again, { kind: 'merged', report: { id: 'r1', reporters: ['rep-1'] } }, 'the same reporter twice is one report, one reporter');
    const other = await s.file(report('r3', { targetKey: 'message:room:7', reporter: 'rep-2', priority: 1, createdAt: 1002 }), limit);
    t.match(other, { kind: 'merged', report: { id: 'r1', reporters: ['rep-1', 'rep-2'], priority: 1 } }, 'a second reporter joins it; the most urgent reason wins');
    await s.file(report('r4'), limit);
    await s.file(report('r4b'), limit);
    t.match(await s.file(report('r5', { createdAt: 2000 }), limit), { kind: 'rate_limited' }, 'the fourth filing within the hour is refused (a repeat of one counts once)');
    t.match(await s.file(report('r6', { createdAt: 1000 + 3_600_001 }), limit), { kind: 'filed' }, 'an hour later it is allowed again');
    t.match(await s.file(report('r7', { createdAt: 2100, reporter: 'system' }), { perHour: 0, system: true }), { kind: 'filed' }, 'system reports have no limit');
    t.equal(await s.report('nope'), null);
    const crowd = { perHour: 10, system: false, escalateAt: 3 };
    for (let i = 0; i < 4; i++) await s.file(report(`c${i}`, { targetKey: 'room:busy', target: { kind: 'room', user: 'host', room: 'busy' }, priority: 3, reporter: `crowd-${i}`, createdAt: 3000 + i }), crowd);
    t.match(await s.report('c0'), { reporters: ['crowd-0', 'crowd-1', 'crowd-2', 'crowd-3'], priority: 2 }, 'the third reporter makes it one step more urgent, once');
  });

  t.test(`${name}: the queue runs by priority then age, pages by keyset; a claim wins once; status moves forward only`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    const prio = [3, 1, 2, 1, 3];
    for (const [i, p] of prio.entries()) await s.file(report(`q${i}`, { priority: p, createdAt: 100 + i, reporter: `rep-${i}` }), limit);
    const page1 = await s.reports({ status: 'open', limit: 3 });
    t.same(page1.map((r) => r.id), ['q1', 'q3', 'q2']);
    const page2 = await s.reports({ status: 'open', limit: 3, after: 'q2' });
    t.same(page2.map((r) => r.id), ['q0', 'q4']);
    const [a, b] = await Promise.all([s.claim('q1', 'staff-a', 200), s.claim('q1', 'staff-b', 200)]);
    t.equal([a, b].filter(Boolean).length, 1, 'one claim wins');
    const winner = (a ?? b)!.claimedBy!;
    t.ok(await s.claim('q1', winner, 201), 'claiming your own claim again is fine');
    t.equal(await s.claim('q1', winner === 'staff-a' ? 'staff-b' : 'staff-a', 202), null);
    t.same((await s.reports({ status: 'claimed', limit: 10 })).map((r) => r.id), ['q1']);
    const noted = await s.addNote('q1', { by: winner, text: 'looked at the snapshot', at: 203 });
    t.same(noted!.notes, [{ by: winner, text: 'looked at the snapshot', at: 203 }]);
    const resolved = await s.resolve('q1', { action: 'suspend', reason: 'spam ring', by: winner, at: 300, until: 0 });
    t.match(resolved, { status: 'resolved', resolution: { action: 'suspend', by: winner, until: 0 } });
    t.equal(await s.resolve('q1', { action: 'dismiss', reason: '', by: winner, at: 301 }), null, 'resolved once');
    t.equal(await s.claim('q1', winner, 302), null, 'a resolved report is not claimed again');
    t.match(await s.file(report('q9', { targetKey: 'user:q1-target', target: { kind: 'user', user: 'q1-target' }, createdAt: 400, reporter: 'rep-9' }), limit), { kind: 'filed', report: { id: 'q9' } },
      'a new report of a target whose report was resolved starts a new one');
    t.equal(await s.decideAppeal('q1', { decision: 'upheld', by: 'x', decidedAt: 1, note: '' }), null, 'no appeal to decide yet');
    t.match(await s.appeal('q1', { text: 'it was not me', at: 500 }), { status: 'appealed', appeal: { text: 'it was not me' } });
    t.equal(await s.appeal('q1', { text: 'again', at: 501 }), null, 'one appeal');
    t.match(await s.decideAppeal('q1', { decision: 'overturned', by: 'staff-c', decidedAt: 600, note: 'wrong account' }),
      { status: 'closed', appeal: { text: 'it was not me', decision: 'overturned', by: 'staff-c', decidedAt: 600 } });
    t.same((await s.reportsAbout('q1-target', 10)).map((r) => r.id), ['q9', 'q1'], 'reports about a user, newest first');
  });

  t.test(`${name}: the audit log keeps every entry once, newest first, by target or actor`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    for (let i = 1; i <= 5; i++) await s.audit({ id: `a${i}`, at: i * 10, actor: i % 2 ? 'staff-1' : 'mod-2', action: 'mute', target: i < 4 ? 'bob' : 'room:r', reason: `r${i}`, detail: '{}' });
    await s.audit({ id: 'a1', at: 10, actor: 'staff-1', action: 'mute', target: 'bob', reason: 'r1', detail: '{}' });
    t.same((await s.auditLog({ limit: 10 })).map((e) => e.id), ['a5', 'a4', 'a3', 'a2', 'a1']);
    t.same((await s.auditLog({ target: 'bob', limit: 10 })).map((e) => e.id), ['a3', 'a2', 'a1']);
    t.same((await s.auditLog({ actor: 'mod-2', limit: 10 })).map((e) => e.id), ['a4', 'a2']);
    t.same((await s.auditLog({ before: 30, limit: 1 })).map((e) => e.id), ['a2']);
    t.match((await s.auditLog({ limit: 1 }))[0], { id: 'a5', at: 50, actor: 'staff-1', action: 'mute', target: 'room:r', reason: 'r5', detail: '{}' });
  });

  t.test(`${name}: suspensions end, can be lifted, and cover devices for other accounts; shadow mutes; devices seen`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.suspend({ user: 'bad', until: 5000, reason: 'abuse', by: 'staff', at: 1000, devices: ['dev-1', 'dev-2'] });
    t.match(await s.suspension('bad', 2000), { user: 'bad', until: 5000, reason: 'abuse', devices: ['dev-1', 'dev-2'] });
    t.equal(await s.suspension('bad', 5000), null, 'it ends');
    t.match(await s.suspensionCovering('dev-2', 'new-account', 2000), { user: 'bad' });
    t.equal(await s.suspensionCovering('dev-2', 'bad', 2000), null, 'not for the suspended account itself');
    t.equal(await s.suspensionCovering('dev-3', 'new-account', 2000), null);
    t.equal(await s.lift('bad', 2000), true);
    t.equal(await s.lift('bad', 2000), false, 'lifted once');
    t.equal(await s.suspension('bad', 2000), null);
    t.equal(await s.suspensionCovering('dev-2', 'new-account', 2000), null, 'a lifted suspension covers nothing');
    await s.suspend({ user: 'worse', until: 0, reason: 'fraud', by: 'staff', at: 1000, devices: [] });
    t.match(await s.suspension('worse', 10 ** 13), { until: 0 }, 'permanent');
    await s.setShadowMute('loud', 9000);
    await s.setShadowMute('forever', 0);
    await s.setShadowMute('gone', 100);
    t.same(await s.shadowMutes(1000), [{ user: 'forever', until: 0 }, { user: 'loud', until: 9000 }]);
    await s.setShadowMute('loud', null);
    t.same(await s.shadowMutes(1000), [{ user: 'forever', until: 0 }]);
    await s.sawDevice('ann', 'dev-a', 1);
    await s.sawDevice('ann', 'dev-b', 2);
    await s.sawDevice('ann', 'dev-a', 3);
    t.same(await s.devicesOf('ann'), ['dev-a', 'dev-b'], 'most recent first, once each');
    t.same(await s.devicesOf('nobody'), []);
  });
}
