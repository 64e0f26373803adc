/**
 * Export and erasure in the stores that exist only on SQLite (games); the others (accounts, rooms,
 * purchases, payouts among them) prove the same in their conformance suites on every engine. The walk over every file after
 * a real erasure is test/e2e/privacy-rights.test.ts.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlitePlayStore } from '../games/play-store-sqlite';
import { ERASED_NAME, scrub } from './personal-data';

const dir = mkdtempSync(join(tmpdir(), 'hb-personal-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const e = { user: 'u_gone', pseudonym: 'x_kept', aliases: ['gone@example.com', 'Gone Name'] };

t.test('scrub: the id inside any string or key, aliases only as whole values', async (t) => {
  t.same(scrub({ from: 'u_gone', who: 'user:u_gone', name: 'Gone Name', text: 'hi Gone Name', list: ['u_gone', 1], ['k:u_gone']: true }, e),
    { from: 'x_kept', who: 'user:x_kept', name: ERASED_NAME, text: 'hi Gone Name', list: ['x_kept', 1], ['k:x_kept']: true });
});

t.test('games: limits, results and duel pairs are exported and erased', async (t) => {
  const s = new SqlitePlayStore(join(dir, 'games.sqlite'));
  t.teardown(() => s.close());
  await s.reserveStake('u_gone', '2026-11-01', 50, null);
  await s.setSelfExclusion('u_gone', 99);
  await s.addResults([{ user: 'u_gone', game: 'wheel', won: true, chanceBps: 5000 }]);
  await s.addDuel('u_gone', 'u_pal', 'u_pal');
  await s.addFlag({ id: 'f1', kind: 'chip_dumping', user: 'u_gone', detail: 'with u_pal', at: 1 } as Parameters<SqlitePlayStore['addFlag']>[0]);
  const out = await s.exportUser('u_gone');
  t.match(out, { game_stakes_daily: [{ staked: 50 }], game_restrictions: [{ self_excluded_until: 99 }], game_results: [{ game: 'wheel', wins: 1 }], game_duel_pairs: [{ duels: 1 }] });
  t.notOk('play_flags' in out, 'anomaly flags are not exported');
  await s.eraseUser(e);
  t.same(await s.exportUser('u_gone'), { game_stakes_daily: [], game_restrictions: [], game_results: [], game_duel_pairs: [] });
  t.same(await s.flags({ limit: 10, user: 'u_gone' }), []);
});
