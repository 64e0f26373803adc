import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAccountStore } from '../adapters/accounts/account-store-sqlite';
import type { Erasure } from '../adapters/privacy/personal-data';
import { holder } from './data-holders';
import { ErasureService } from './erasure-service';

async function setup(t: Test, opts: { failFirst?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hb-erasure-'));
  const accounts = new SqliteAccountStore(join(dir, 'accounts.sqlite'));
  t.teardown(async () => {
    await accounts.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await accounts.createUser({ id: 'u_gone', email: 'gone@example.com', passwordHash: 'h', displayName: 'Gone', roles: ['user'], createdAt: 1 });
  await accounts.createSession({ sid: 's1', userId: 'u_gone', createdAt: 1, lastUsedAt: 1, userAgent: 'ua', ip: '10.0.0.1', revokedAt: null }, 'hash', 10 ** 13);
  let now = 1_000;
  let failures = opts.failFirst ? 1 : 0;
  const log: string[] = [];
  const seen: Erasure[] = [];
  const part = (store: string) => holder(store, store, {
    exportUser: async () => ({}),
    eraseUser: async (e) => {
      if (store === 'messages' && failures-- > 0) throw new Error('store down');
      log.push(store);
      seen.push(e);
      return { rows: 1 };
    },
  });
  const erased: string[] = [];
  const events: string[] = [];
  const service = new ErasureService({
    accounts, holders: [part('social'), part('messages')], account: holder('account', 'account', accounts), graceMs: 5_000, now: () => now,
    revoke: (sids) => void events.push(`revoke:${sids.join(',')}`),
    endLiveRoom: async (user) => void events.push(`end:${user}`),
    analyticsPaused: (user, paused) => void events.push(`analytics:${user}:${paused}`),
    exports: { eraseUser: async () => (log.push('exports'), 0) },
    onErased: (pseudonym) => void erased.push(pseudonym),
    onError: () => void events.push('error'),
    count: (outcome) => void events.push(outcome),
  });
  return { accounts, service, log, seen, erased, events, advance: (ms: number) => (now += ms) };
}

t.test('closing takes effect at once; erasure waits for the grace period, visits every store, the account last', async (t) => {
  const s = await setup(t);
  const closed = await s.service.close('u_gone');
  t.equal(closed.eraseAfter, 6_000);
  t.same(s.events, ['closed', 'analytics:u_gone:true', 'revoke:s1', 'end:u_gone']);
  t.match(await s.accounts.userById('u_gone'), { deactivatedAt: 1_000, eraseAfter: 6_000, pseudonym: /^x_[0-9a-f]{20}$/ });
  t.same(await s.service.close('u_gone'), { eraseAfter: 6_000 }, 'closing twice changes nothing');
  t.same([...(await s.accounts.deactivatedAmong(['u_gone', 'other']))], ['u_gone']);
  t.equal(await s.service.sweep(), 0, 'nothing before the grace period ends');
  s.advance(5_000);
  t.equal(await s.service.sweep(), 1);
  t.same(s.log, ['social', 'messages', 'exports'], 'every store, then export archives');
  t.equal(await s.accounts.userById('u_gone'), null, 'the account last');
  t.same(await s.accounts.sessionsOf('u_gone'), []);
  t.same(s.seen[0], { user: 'u_gone', pseudonym: s.erased[0], aliases: ['gone@example.com', 'Gone'] });
  t.equal(await s.service.sweep(), 0, 'done once');
});

t.test('an interrupted erasure is retried with the same pseudonym, and the account is kept until the stores are done', async (t) => {
  const s = await setup(t, { failFirst: true });
  await s.service.close('u_gone');
  const pseudonym = (await s.accounts.userById('u_gone'))!.pseudonym;
  s.advance(5_000);
  t.equal(await s.service.sweep(), 0);
  t.ok(s.events.includes('error'));
  t.ok(await s.accounts.userById('u_gone'), 'still there: the next sweep finds it');
  t.equal(await s.service.sweep(), 1);
  t.same(s.erased, [pseudonym], 'the pseudonym fixed at closing');
});

t.test('a restore within the grace period reopens the account and resumes analytics', async (t) => {
  const s = await setup(t);
  await s.service.close('u_gone');
  await s.service.restore((await s.accounts.userById('u_gone'))!);
  t.match(await s.accounts.userById('u_gone'), { deactivatedAt: null, eraseAfter: null });
  t.same(s.events.slice(-2), ['restored', 'analytics:u_gone:false']);
  await t.rejects(s.service.restore((await s.accounts.userById('u_gone'))!), { code: 'HB_API_ACCOUNT_ACTIVE' });
  s.advance(10_000);
  t.equal(await s.service.sweep(), 0, 'a restored account is not erased');
});
