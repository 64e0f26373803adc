/**
 * PlayGuard on the SQLite play store: admission order and codes, the daily cap reserved and released,
 * a win streak fed in (the test hook the issue asks for) raising a win-rate flag once, ordinary luck not,
 * a stake soon after a disputed purchase flagged, and chip dumping between a pair.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlitePlayStore } from '../../adapters/games/play-store-sqlite';
import { PlayGuard, winZScore } from './play-guard';
import type { PlayFlag } from '../../adapters/games/play-store';

const dir = mkdtempSync(join(tmpdir(), 'hb-play-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 26, 12);

function guard(name: string, limits: Partial<ConstructorParameters<typeof PlayGuard>[1]> = {}) {
  const store = new SqlitePlayStore(join(dir, `${name}.sqlite`));
  const flags: PlayFlag[] = [];
  const g = new PlayGuard(store, { dailyStakeCap: null, minAccountAgeDays: null, blockedCountries: [], maxSelfExclusionDays: 365, ...limits },
    { minRounds: 50, zThreshold: 4, pairMinDuels: 5, pairOneSidedShare: 0.9, disputeWindowHours: 72 }, (f) => flags.push(f));
  t.teardown(() => store.close());
  return { g, store, flags };
}

t.test('admission: each limit refuses with its own code; the cap is reserved and given back', async (t) => {
  const { g, store } = guard('admit', { dailyStakeCap: 100, minAccountAgeDays: 7, blockedCountries: ['XX'] });
  const ctx = { country: 'NP', accountSince: NOW - 30 * DAY };
  t.equal(await g.admit('u', 60, ctx, NOW), null);
  t.equal(await g.admit('u', 50, ctx, NOW), 'DAILY_STAKE_LIMIT');
  await g.release('u', 60, NOW);
  t.equal(await g.admit('u', 100, ctx, NOW), null, 'a released stake no longer counts');
  t.equal(await g.admit('u', 1, ctx, NOW + DAY), null, 'a new UTC day, a new cap');
  t.equal(await g.admit('v', 1, { country: 'XX', accountSince: NOW - 30 * DAY }, NOW), 'COUNTRY_BLOCKED');
  t.equal(await g.admit('v', 1, { country: null, accountSince: NOW - 30 * DAY }, NOW), 'COUNTRY_BLOCKED', 'unknown country while one is blocked');
  t.equal(await g.admit('v', 1, { country: 'NP', accountSince: NOW - 6 * DAY }, NOW), 'ACCOUNT_TOO_NEW');
  await store.setSelfExclusion('v', NOW + DAY);
  await store.setSelfExclusion('v', NOW + 1000);
  t.equal(await g.admit('v', 1, ctx, NOW + DAY - 1), 'SELF_EXCLUDED', 'self-exclusion cannot be shortened');
  t.equal(await g.admit('v', 1, ctx, NOW + DAY), null, 'and ends when it said');
  await store.setFrozen('v', 'review');
  t.equal(await g.admit('v', 1, ctx, NOW + DAY), 'PLAY_FROZEN');
  t.equal(await store.stakedOn('v', '2026-11-27'), 1, 'refused admissions reserved nothing');
});

t.test('a win streak fed in raises one win-rate flag; ordinary luck does not', async (t) => {
  const { g, flags } = guard('streak');
  // 50 results at a 50% chance, alternating: z = 0.
  await g.results(Array.from({ length: 50 }, (_, i) => ({ user: 'fair', game: 'wheel', won: i % 2 === 0, chanceBps: 5000 })), NOW);
  t.same(flags, []);
  // 49 wins in a row at 47.5% odds: below minRounds nothing is judged yet.
  await g.results(Array.from({ length: 49 }, () => ({ user: 'lucky', game: 'wheel', won: true, chanceBps: 4750 })), NOW);
  t.same(flags, [], 'not judged before minRounds');
  await g.results([{ user: 'lucky', game: 'wheel', won: true, chanceBps: 4750 }], NOW);
  t.equal(flags.length, 1);
  t.match(flags[0], { kind: 'win_rate', user: 'lucky', id: 'win_rate:lucky:wheel' });
  await g.results([{ user: 'lucky', game: 'wheel', won: true, chanceBps: 4750 }], NOW);
  t.equal(flags.length, 1, 'flagged once per player and game');
  t.ok(winZScore({ wins: 50, expected: 25, variance: 12.5 }) > 7);
});

t.test('a stake soon after a disputed purchase is flagged; chip dumping flags both players', async (t) => {
  const { g, store, flags } = guard('dispute');
  await store.noteDispute('d', NOW - 3_600_000);
  t.equal(await g.admit('d', 10, { country: null, accountSince: null }, NOW), null, 'flags never block by themselves');
  t.match(flags, [{ kind: 'disputed_stake', user: 'd' }]);
  for (let i = 0; i < 5; i++) await g.duel('a', 'b', 'b', NOW);
  t.same(flags.filter((f) => f.kind === 'chip_dumping').map((f) => f.user).sort(), ['a', 'b']);
  t.same((await store.flags({ limit: 10, user: 'a' })).map((f) => f.kind), ['chip_dumping']);
});
