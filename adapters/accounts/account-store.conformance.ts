/**
 * The AccountStore contract as a tap suite, run on SQLite and on MongoDB (FerretDB): users and unique
 * emails, sessions and the refresh-token family (a token consumed once, even by two racing refreshes; a
 * consumed one reported as reused), revocation, profiles, blocks, MFA state and replay guards, one-time
 * keys, the security log with paging, closing and reopening accounts, export and erasure.
 */
import type { Test } from 'tap';
import type { AccountStore, LoginSession, User } from './account-store';

const user = (id: string, email: string, over: Partial<User> = {}): User => ({ id, email, passwordHash: `hash-of-${id}`, displayName: `Name ${id}`, roles: ['user'], createdAt: 1000, ...over });
const session = (sid: string, userId: string, over: Partial<LoginSession> = {}): LoginSession => ({ sid, userId, createdAt: 2000, lastUsedAt: 2000, userAgent: 'ua', ip: '10.0.0.1', revokedAt: null, ...over });

export function accountStoreConformance(t: Test, name: string, open: () => Promise<AccountStore>): void {
  t.test(`${name}: users: created once per email, found by email and id`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.equal(await s.createUser(user('u1', 'a@example.com')), 'created');
    t.equal(await s.createUser(user('u2', 'a@example.com')), 'email_taken', 'a second account for the email is refused');
    t.match(await s.userByEmail('a@example.com'), { id: 'u1', email: 'a@example.com', passwordHash: 'hash-of-u1', displayName: 'Name u1', roles: ['user'], createdAt: 1000 });
    t.match(await s.userById('u1'), { id: 'u1', avatarUrl: null, locale: null, country: null, deactivatedAt: null, eraseAfter: null, pseudonym: null });
    t.equal(await s.userById('u2'), null, 'the refused account does not exist');
    t.equal(await s.userByEmail('nobody@example.com'), null);
    const racing = await Promise.all(Array.from({ length: 5 }, (_, i) => s.createUser(user(`race-${i}`, 'race@example.com'))));
    t.equal(racing.filter((r) => r === 'created').length, 1, 'five sign-ups racing for one email: one account');
  });

  t.test(`${name}: profiles and roles change what they name, nothing else`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.createUser(user('p1', 'p1@example.com'));
    t.match(await s.updateProfile('p1', { displayName: 'New', country: 'NP' }), { displayName: 'New', country: 'NP', locale: null, avatarUrl: null });
    t.match(await s.updateProfile('p1', { locale: 'ne', avatarUrl: 'https://img/x.png' }), { displayName: 'New', country: 'NP', locale: 'ne', avatarUrl: 'https://img/x.png' });
    t.match(await s.updateProfile('p1', { country: null }), { country: null, locale: 'ne' }, 'null clears a field');
    t.equal(await s.updateProfile('nobody', { displayName: 'x' }), null);
    await s.setRoles('p1', ['user', 'admin']);
    t.same((await s.userById('p1'))!.roles, ['user', 'admin']);
  });

  t.test(`${name}: refresh tokens rotate once; a reused one names its session; revoked and expired are told apart`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.createUser(user('r1', 'r1@example.com'));
    await s.createSession(session('sid-1', 'r1'), 'tok-1', 10_000);
    t.same(await s.rotateRefresh('no-such', 'x', 20_000, 3000), { kind: 'unknown' });
    const rotated = await s.rotateRefresh('tok-1', 'tok-2', 20_000, 3000);
    t.match(rotated, { kind: 'rotated', session: { sid: 'sid-1', userId: 'r1', lastUsedAt: 3000 } });
    t.equal((await s.session('sid-1'))!.lastUsedAt, 3000, 'the session was used');
    t.match(await s.rotateRefresh('tok-1', 'tok-x', 20_000, 3500), { kind: 'reused', session: { sid: 'sid-1' } }, 'the consumed token is reported with its session');
    t.same(await s.rotateRefresh('tok-2', 'tok-3', 20_000, 25_000), { kind: 'expired' }, 'past its expiry');
    // Five refreshes racing with one token, ten times: one rotates, the others are reuses.
    let winner = 'tok-2';
    for (let round = 0; round < 10; round++) {
      const raced = await Promise.all(Array.from({ length: 5 }, (_, i) => s.rotateRefresh(winner, `tok-${round}-${i}`, 30_000, 4000)));
      const kinds = raced.map((r) => r.kind);
      if (kinds.filter((k) => k === 'rotated').length !== 1 || kinds.filter((k) => k === 'reused').length !== 4) t.fail(`round ${round}: ${kinds}`);
      winner = `tok-${round}-${kinds.indexOf('rotated')}`;
    }
    t.pass('a token is consumed at most once');
    t.same(await s.revokeSessions({ sid: 'sid-1' }, 5000), ['sid-1']);
    t.match(await s.rotateRefresh(winner, 'tok-z', 30_000, 5001), { kind: 'revoked', session: { sid: 'sid-1', revokedAt: 5000 } });
  });

  t.test(`${name}: sessions: listed live and newest first, revoked by sid or by user, revocations found again`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.createUser(user('s1', 's1@example.com'));
    await s.createSession(session('a', 's1', { createdAt: 100, ip: '10.0.0.7' }), 'ha', 10 ** 13);
    await s.createSession(session('b', 's1', { createdAt: 200 }), 'hb', 10 ** 13);
    await s.createSession(session('c', 's1', { createdAt: 300 }), 'hc', 10 ** 13);
    t.same((await s.sessionsOf('s1')).map((x) => x.sid), ['c', 'b', 'a']);
    t.match(await s.session('a'), { sid: 'a', userId: 's1', createdAt: 100, userAgent: 'ua', ip: '10.0.0.7', revokedAt: null });
    t.equal(await s.session('nope'), null);
    t.same(await s.revokeSessions({ sid: 'b' }, 1000), ['b']);
    t.same(await s.revokeSessions({ sid: 'b' }, 1001), [], 'revoking twice revokes nothing more');
    t.same((await s.revokeSessions({ userId: 's1' }, 2000)).sort(), ['a', 'c']);
    t.same(await s.sessionsOf('s1'), []);
    t.same((await s.revokedSince(1500)).sort(), ['a', 'c'], 'revoked since 1500');
    t.same((await s.revokedSince(0)).sort(), ['a', 'b', 'c']);
    t.ok(await s.signedInFrom('s1', '10.0.0.7', 50), 'a session from that address since 50');
    t.notOk(await s.signedInFrom('s1', '10.0.0.7', 150), 'none since 150');
    t.notOk(await s.signedInFrom('s1', '10.9.9.9', 0));
  });

  t.test(`${name}: blocks are one-way, idempotent, and listed newest first`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.block('x', 'y', 10);
    await s.block('x', 'y', 11);
    await s.block('x', 'z', 12);
    t.same(await s.blocks('x'), [{ userId: 'z', since: 12 }, { userId: 'y', since: 10 }], 'the first block stands');
    t.ok(await s.isBlocked('y', 'x'), 'y is blocked by x');
    t.notOk(await s.isBlocked('x', 'y'), 'not the other way');
    t.ok(await s.unblock('x', 'y'));
    t.notOk(await s.unblock('x', 'y'), 'unblocking twice');
    t.same(await s.blocks('x'), [{ userId: 'z', since: 12 }]);
  });

  t.test(`${name}: MFA: state, steps only forward, backup codes once, one-time keys once until they expire`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.createUser(user('m1', 'm1@example.com'));
    t.same(await s.mfa('m1'), { secret: null, enabled: false, lastStep: 0 });
    t.same(await s.mfa('nobody'), { secret: null, enabled: false, lastStep: 0 });
    await s.setMfa('m1', { secret: 'SECRET', enabled: false, lastStep: 0 });
    await s.setMfa('m1', { secret: 'SECRET', enabled: true, lastStep: 5 }, ['b1', 'b2']);
    t.same(await s.mfa('m1'), { secret: 'SECRET', enabled: true, lastStep: 5 });
    t.notOk(await s.useMfaStep('m1', 5), 'the same step twice');
    t.notOk(await s.useMfaStep('m1', 4), 'an older step');
    t.ok(await s.useMfaStep('m1', 6));
    for (let step = 7; step < 17; step++) {
      const racing = await Promise.all(Array.from({ length: 5 }, () => s.useMfaStep('m1', step)));
      if (racing.filter(Boolean).length !== 1) t.fail(`step ${step}: ${racing}`);
    }
    t.pass('one code, five racing sign-ins, ten times: one passes each time');
    t.ok(await s.useBackupCode('m1', 'b1'));
    t.notOk(await s.useBackupCode('m1', 'b1'), 'a backup code works once');
    await s.setMfa('m1', { secret: 'SECRET', enabled: true, lastStep: 17 }, ['b3', 'b1']);
    t.notOk(await s.useBackupCode('m1', 'b2'), 'new codes replace the old ones');
    const codeRace = await Promise.all(Array.from({ length: 5 }, () => s.useBackupCode('m1', 'b3')));
    t.equal(codeRace.filter(Boolean).length, 1, 'a backup code used by five racing sign-ins works once');
    t.ok(await s.useBackupCode('m1', 'b1'), 'a new set may hold a code used before');
    t.notOk(await s.usedOnce('ticket-1'));
    t.ok(await s.useOnce('ticket-1', 1000, 500));
    t.notOk(await s.useOnce('ticket-1', 1000, 600), 'a ticket is used once');
    t.ok(await s.usedOnce('ticket-1'));
    t.ok(await s.useOnce('ticket-1', 3000, 2000), 'after it expired the key is forgotten');
  });

  t.test(`${name}: the security log filters by user and type, newest first, paged by id`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    for (let i = 0; i < 6; i++) await s.logEvent({ ts: 100 + i, userId: i % 2 ? 'odd' : 'even', type: i < 3 ? 'login' : 'logout', ip: `10.0.0.${i}`, detail: `d${i}` });
    await s.logEvent({ ts: 200, userId: null, type: 'login_failed', ip: '10.9.9.9', detail: 'who@example.com' });
    const all = await s.events({ limit: 10 });
    t.same(all.map((e) => e.ts), [200, 105, 104, 103, 102, 101, 100], 'newest first');
    t.ok(all.every((e, i) => i === 0 || e.id < all[i - 1]!.id), 'ids rise with time');
    t.same((await s.events({ userId: 'odd', limit: 10 })).map((e) => e.detail), ['d5', 'd3', 'd1']);
    t.same((await s.events({ type: 'login', limit: 10 })).map((e) => e.detail), ['d2', 'd1', 'd0']);
    const first = await s.events({ limit: 3 });
    const next = await s.events({ limit: 3, before: first.at(-1)!.id });
    t.same(next.map((e) => e.ts), [103, 102, 101], 'the next page starts below the last id seen');
    t.match(all[0], { userId: null, type: 'login_failed', ip: '10.9.9.9', detail: 'who@example.com' });
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.logEvent({ ts: 300 + i, userId: 'burst', type: 'login', ip: '10.0.0.9', detail: `b${i}` })));
    const burst = await s.events({ userId: 'burst', limit: 20 });
    t.equal(new Set(burst.map((e) => e.id)).size, 10, 'ten events logged at once: all kept, each with its own id');
  });

  t.test(`${name}: closing an account, reopening it, and the erasures that fall due`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.createUser(user('d1', 'd1@example.com'));
    await s.createUser(user('d2', 'd2@example.com'));
    await s.createUser(user('d3', 'd3@example.com'));
    t.ok(await s.deactivate('d1', 100, 1000, 'x_d1'));
    t.notOk(await s.deactivate('d1', 101, 2000, 'x_other'), 'closing twice');
    t.match(await s.userById('d1'), { deactivatedAt: 100, eraseAfter: 1000, pseudonym: 'x_d1' });
    t.ok(await s.deactivate('d2', 100, 500, 'x_d2'));
    t.same((await s.deactivatedAmong(['d1', 'd2', 'd3', 'nobody'])), new Set(['d1', 'd2']));
    t.same((await s.dueErasures(800, 10)).map((u) => u.id), ['d2'], 'only the grace periods that ended');
    t.same((await s.dueErasures(5000, 10)).map((u) => u.id), ['d2', 'd1'], 'oldest due first');
    t.same((await s.dueErasures(5000, 1)).map((u) => u.id), ['d2'], 'limited');
    t.ok(await s.reactivate('d1'));
    t.notOk(await s.reactivate('d1'), 'reopening an open account');
    t.match(await s.userById('d1'), { deactivatedAt: null, eraseAfter: null, pseudonym: null });
    t.same(await s.deactivatedAmong([]), new Set());
  });

  t.test(`${name}: export without secrets; erasure takes the account, sessions, blocks both ways and the log`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.createUser({ id: 'u_gone', email: 'gone@example.com', passwordHash: 'argon-secret', displayName: 'Gone Name', roles: ['user'], createdAt: 1 });
    await s.createUser({ id: 'u_pal', email: 'pal@example.com', passwordHash: 'h', displayName: 'Pal', roles: ['user'], createdAt: 1 });
    await s.setMfa('u_gone', { secret: 'TOTPSECRET', enabled: true, lastStep: 0 }, ['backup-hash']);
    await s.createSession(session('sid-gone', 'u_gone', { ip: '10.1.1.1' }), 'refresh-hash', 10 ** 13);
    await s.block('u_gone', 'u_pal', 2);
    await s.block('u_pal', 'u_gone', 3);
    await s.logEvent({ ts: 4, userId: 'u_gone', type: 'login', ip: '10.1.1.1', detail: 'ua' });
    await s.logEvent({ ts: 5, userId: null, type: 'login_failed', ip: '10.9.9.9', detail: 'gone@example.com' });
    await s.logEvent({ ts: 6, userId: 'u_pal', type: 'login', ip: '10.2.2.2', detail: 'ua' });
    const out = await s.exportUser('u_gone');
    t.match(out.account, [{ id: 'u_gone', email: 'gone@example.com', display_name: 'Gone Name' }]);
    t.notOk(/argon-secret|TOTPSECRET|backup-hash|refresh-hash/.test(JSON.stringify(out)), 'no password hash, MFA secret, backup code or token hash');
    t.equal(out.sessions!.length, 1);
    t.same(out.blocks!.map((b) => (b as { blocked: string }).blocked), ['u_pal'], 'the blocks they made, not who blocked them');
    t.same(out.security_events!.map((e) => (e as { type: string }).type), ['login']);
    await s.eraseUser({ user: 'u_gone', pseudonym: 'x_kept', aliases: ['gone@example.com', 'Gone Name'] });
    t.equal(await s.userById('u_gone'), null);
    t.equal(await s.userByEmail('gone@example.com'), null, 'the email is free again');
    t.same(await s.sessionsOf('u_gone'), []);
    t.same(await s.rotateRefresh('refresh-hash', 'next', 10 ** 13, 10), { kind: 'unknown' }, 'the refresh token went with its session');
    t.same(await s.blocks('u_pal'), [], 'a block of the erased account goes too');
    t.same((await s.events({ limit: 10 })).map((e) => e.userId), ['u_pal'], 'their security log, and failed sign-ins under their email');
    t.ok(await s.userById('u_pal'));
    t.equal(await s.createUser(user('u_new', 'gone@example.com')), 'created', 'someone may sign up with the freed email');
  });
}
