/**
 * The PlayStore contract as a tap suite, run on SQLite and on MongoDB (FerretDB): the daily stake cap
 * holds (also when reservations race), self-exclusion only grows, results and duels accumulate, a flag is
 * raised once, and a player's play record is exported and erased (flags erased, not exported).
 */
import type { Test } from 'tap';
import type { PlayStore } from './play-store';

export function playStoreConformance(t: Test, name: string, open: () => Promise<PlayStore>): void {
  t.test(`${name}: the daily stake cap holds, also when reservations race`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.ok(await s.reserveStake('p', 'd1', 60, 100));
    t.notOk(await s.reserveStake('p', 'd1', 50, 100), 'past the cap');
    t.ok(await s.reserveStake('p', 'd1', 40, 100), 'up to the cap');
    t.equal(await s.stakedOn('p', 'd1'), 100);
    t.equal(await s.stakedOn('p', 'd2'), 0, 'a new day');
    t.ok(await s.reserveStake('p', 'd2', 1000, null), 'no cap');
    await s.releaseStake('p', 'd1', 30);
    t.equal(await s.stakedOn('p', 'd1'), 70, 'a refused stake gives its reservation back');
    await s.releaseStake('p', 'd1', 500);
    t.equal(await s.stakedOn('p', 'd1'), 0, 'never below zero');
    t.notOk(await s.reserveStake('q', 'd1', 150, 100), 'a first stake above the cap');
    t.equal(await s.stakedOn('q', 'd1'), 0);
    for (let round = 0; round < 5; round++) {
      const racing = await Promise.all(Array.from({ length: 10 }, () => s.reserveStake('r', `race-${round}`, 30, 100)));
      const staked = await s.stakedOn('r', `race-${round}`);
      if (racing.filter(Boolean).length !== 3 || staked !== 90) t.fail(`round ${round}: ${racing.filter(Boolean).length} passed, ${staked} staked`);
    }
    t.pass('ten racing stakes of 30 under a cap of 100, five times: three pass and 90 is staked each time');
    const stats = await Promise.all(Array.from({ length: 8 }, () => s.addResults([{ user: 'r', game: 'wheel', won: true, chanceBps: 5000 }])));
    t.equal(Math.max(...stats.map((x) => x[0]!.rounds)), 8, 'eight results added at once: all counted');
  });

  t.test(`${name}: freezes, self-exclusion that only grows, disputes`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.same(await s.restrictions('p'), { frozenReason: null, selfExcludedUntil: null, disputedAt: null });
    await s.setFrozen('p', 'chip dumping');
    await s.setSelfExclusion('p', 1000);
    await s.setSelfExclusion('p', 500);
    await s.noteDispute('p', 70);
    await s.noteDispute('p', 60);
    t.same(await s.restrictions('p'), { frozenReason: 'chip dumping', selfExcludedUntil: 1000, disputedAt: 70 }, 'the longer exclusion and the later dispute stand');
    await s.setFrozen('p', null);
    await s.setSelfExclusion('p', 2000);
    t.same(await s.restrictions('p'), { frozenReason: null, selfExcludedUntil: 2000, disputedAt: 70 });
  });

  t.test(`${name}: results and duels accumulate; a flag is raised once`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    const first = await s.addResults([{ user: 'p', game: 'wheel', won: true, chanceBps: 5000 }, { user: 'p', game: 'wheel', won: false, chanceBps: 2000 }, { user: 'q', game: 'wheel', won: false, chanceBps: 5000 }]);
    t.same(first.map((w) => [w.user, w.rounds, w.wins]).sort(), [['p', 2, 1], ['q', 1, 0]], 'one entry per player and game, after the whole batch');
    const p = first.find((w) => w.user === 'p')!;
    t.ok(Math.abs(p.expected - 0.7) < 1e-9 && Math.abs(p.variance - (0.25 + 0.16)) < 1e-9, 'expected wins and variance add up');
    t.same(await s.addResults([]), []);
    t.same(await s.addDuel('zed', 'amy', 'zed'), { a: 'amy', b: 'zed', duels: 1, aWins: 0, bWins: 1 }, 'the pair is sorted');
    t.same(await s.addDuel('amy', 'zed', null), { a: 'amy', b: 'zed', duels: 2, aWins: 0, bWins: 1 }, 'a draw');
    t.same(await s.addDuel('amy', 'zed', 'amy'), { a: 'amy', b: 'zed', duels: 3, aWins: 1, bWins: 1 });
    t.ok(await s.addFlag({ id: 'f1', kind: 'win_rate', user: 'p', detail: 'z 4.2', at: 10 }));
    t.notOk(await s.addFlag({ id: 'f1', kind: 'win_rate', user: 'p', detail: 'z 5.0', at: 11 }), 'the same cause again');
    t.ok(await s.addFlag({ id: 'f2', kind: 'chip_dumping', user: 'q', detail: 'with p', at: 12 }));
    t.same((await s.flags({ limit: 10 })).map((f) => f.id), ['f2', 'f1'], 'newest first');
    t.same(await s.flags({ limit: 10, user: 'p' }), [{ id: 'f1', kind: 'win_rate', user: 'p', detail: 'z 4.2', at: 10 }]);
  });

  t.test(`${name}: limits, results and duel pairs are exported and erased; flags erased, not exported`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.reserveStake('u_gone', '2026-11-01', 50, null);
    await s.setSelfExclusion('u_gone', 99);
    await s.addResults([{ user: 'u_gone', game: 'wheel', won: true, chanceBps: 5000 }]);
    await s.addDuel('u_gone', 'u_pal', 'u_pal');
    await s.addFlag({ id: 'f1', kind: 'chip_dumping', user: 'u_gone', detail: 'with u_pal', at: 1 });
    await s.addFlag({ id: 'f2', kind: 'chip_dumping', user: 'u_pal', detail: 'with u_gone', at: 2 });
    const out = await s.exportUser('u_gone');
    t.match(out, { game_stakes_daily: [{ staked: 50 }], game_restrictions: [{ self_excluded_until: 99 }], game_results: [{ game: 'wheel', wins: 1 }], game_duel_pairs: [{ duels: 1 }] });
    t.notOk('play_flags' in out, 'anomaly flags are not exported');
    await s.eraseUser({ user: 'u_gone', pseudonym: 'x_kept', aliases: [] });
    t.same(await s.exportUser('u_gone'), { game_stakes_daily: [], game_restrictions: [], game_results: [], game_duel_pairs: [] });
    t.same(await s.flags({ limit: 10, user: 'u_gone' }), []);
    t.same((await s.flags({ limit: 10, user: 'u_pal' })).map((f) => f.detail), ['with x_kept'], 'another player\'s flag no longer names them');
  });
}
