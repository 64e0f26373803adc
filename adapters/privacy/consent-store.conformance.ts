/** The ConsentStore contract as a tap suite, run on SQLite and on MongoDB (FerretDB). */
import type { Test } from 'tap';
import type { ConsentRecord, ConsentStore } from './consent-store';

const rec = (over: Partial<ConsentRecord>): ConsentRecord => ({ user: 'ann', kind: 'analytics', granted: true, version: '', at: 1, source: 'api', ...over });

export function consentStoreConformance(t: Test, name: string, open: () => Promise<ConsentStore>): void {
  t.test(`${name}: a user's consent history is exported whole and erased; others' stay`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    const gone = `gone-${Math.random().toString(36).slice(2)}`;
    await s.record([rec({ user: gone, kind: 'analytics', granted: false, at: 1 }), rec({ user: 'stays', kind: 'marketing', granted: true, at: 2 })]);
    await s.record([rec({ user: gone, kind: 'marketing', granted: true, at: 3 })]);
    const exported = await s.exportUser(gone);
    t.same(exported.consents!.map((r) => (r as ConsentRecord).kind).sort(), ['analytics', 'marketing']);
    const counts = await s.eraseUser({ user: gone, pseudonym: 'x_1', aliases: [] });
    t.equal(counts.consent_history, 2, 'history deleted');
    t.same(await s.history(gone), []);
    t.same(await s.current(gone), []);
    t.equal((await s.current('stays')).length, 1, 'another user keeps theirs');
  });

  t.test(`${name}: choices are appended; the newest per kind is current; repeats add nothing; who declined`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.record([rec({ kind: 'terms', version: '2026-01', at: 1, source: 'signup' }), rec({ kind: 'analytics', granted: true, at: 1, source: 'signup' })]);
    await s.record([rec({ kind: 'analytics', granted: false, at: 5 })]);
    await s.record([rec({ kind: 'analytics', granted: false, at: 6 })]);
    await s.record([rec({ kind: 'terms', version: '2026-06', at: 7 }), rec({ kind: 'do_not_sell', granted: true, at: 7 })]);
    await s.record([rec({ user: 'bob', kind: 'analytics', granted: false, at: 8 }), rec({ user: 'cy', kind: 'analytics', granted: true, at: 8 })]);
    t.same((await s.current('ann')).map((r) => [r.kind, r.granted, r.version, r.at]), [['analytics', false, '', 5], ['do_not_sell', true, '', 7], ['terms', true, '2026-06', 7]]);
    t.same((await s.history('ann')).map((r) => [r.kind, r.granted, r.version, r.at, r.source]), [
      ['terms', true, '2026-01', 1, 'signup'], ['analytics', true, '', 1, 'signup'], ['analytics', false, '', 5, 'api'], ['terms', true, '2026-06', 7, 'api'], ['do_not_sell', true, '', 7, 'api'],
    ], 'every change once, oldest first; the repeated refusal added nothing');
    t.same(await s.usersWith('analytics', false), ['ann', 'bob']);
    t.same(await s.usersWith('analytics', true), ['cy']);
    t.same(await s.current('nobody'), []);
  });
}
