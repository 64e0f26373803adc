/**
 * The FollowStore contract as a tap suite, run on SQLite and on MongoDB (FerretDB): idempotent follows,
 * counts, unlink for blocks, cursor paging, and paging while others follow and unfollow (no duplicates,
 * nobody who stayed throughout is skipped).
 */
import type { Test } from 'tap';
import type { FollowStore } from './follow-store';

async function all(store: FollowStore, creator: string, limit: number, between?: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.followers(creator, { limit, ...(after ? { after } : {}) });
    seen.push(...page.items.map((f) => f.user));
    if (!page.next) return seen;
    after = page.next;
    if (between) await between();
  }
}

export function followStoreConformance(t: Test, name: string, open: () => Promise<FollowStore>): void {
  t.test(`${name}: a user's follows both ways are exported, and erased with everyone else's counts kept true`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.follow('gone', 'cre', 1000);
    await s.follow('fan', 'gone', 1001);
    await s.follow('fan', 'cre', 1002);
    const exported = await s.exportUser('gone');
    t.same(exported.following, [{ user: 'cre', since: 1000 }]);
    t.same(exported.followers, [{ user: 'fan', since: 1001 }]);
    t.same(await s.eraseUser({ user: 'gone', pseudonym: 'x_1', aliases: [] }), { follows: 2 });
    t.same(await s.counts('cre'), { followers: 1, following: 0 }, 'the creator lost a follower');
    t.same(await s.counts('fan'), { followers: 0, following: 1 }, 'the fan follows one fewer');
    t.same(await s.counts('gone'), { followers: 0, following: 0 });
    t.same((await s.followers('cre', { limit: 10 })).items.map((f) => f.user), ['fan']);
    t.same(await s.eraseUser({ user: 'gone', pseudonym: 'x_1', aliases: [] }), {}, 'a second run finds nothing');
  });

  t.test(`${name}: follow, unfollow, counts, and both directions of a list`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.equal(await s.follow('ann', 'cre', 1000), true);
    t.equal(await s.follow('ann', 'cre', 2000), false, 'a second follow changes nothing');
    t.equal(await s.follow('bob', 'cre', 1001), true);
    t.equal(await s.follow('ann', 'dan', 1002), true);
    t.same(await s.counts('cre'), { followers: 2, following: 0 });
    t.same(await s.counts('ann'), { followers: 0, following: 2 });
    t.same((await s.followers('cre', { limit: 10 })).items, [{ user: 'bob', since: 1001 }, { user: 'ann', since: 1000 }], 'newest first');
    t.same((await s.following('ann', { limit: 10 })).items.map((f) => f.user), ['dan', 'cre']);
    t.equal(await s.isFollowing('ann', 'cre'), true);
    t.equal(await s.unfollow('ann', 'cre'), true);
    t.equal(await s.unfollow('ann', 'cre'), false);
    t.equal(await s.isFollowing('ann', 'cre'), false);
    t.same(await s.counts('cre'), { followers: 1, following: 0 });
    t.same(await s.counts('nobody'), { followers: 0, following: 0 });
  });

  t.test(`${name}: a block ends follows both ways`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.follow('x1', 'y1', 1);
    await s.follow('y1', 'x1', 2);
    await s.follow('x1', 'z1', 3);
    await s.unlink('x1', 'y1');
    t.equal(await s.isFollowing('x1', 'y1'), false);
    t.equal(await s.isFollowing('y1', 'x1'), false);
    t.equal(await s.isFollowing('x1', 'z1'), true, 'other follows stay');
    t.same(await s.counts('x1'), { followers: 0, following: 1 });
    t.same(await s.counts('y1'), { followers: 0, following: 0 });
  });

  t.test(`${name}: follows made at the same instant are all listed, none skipped between pages`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    const fans = Array.from({ length: 12 }, (_, i) => `burst${String(i).padStart(2, '0')}`);
    t.ok((await Promise.all(fans.map((f) => s.follow(f, 'burst-creator', 500)))).every(Boolean), 'twelve follows at once');
    const listed = await all(s, 'burst-creator', 5);
    t.same([...listed].sort(), fans, 'every one of them listed once across pages of 5');
  });

  t.test(`${name}: pages by cursor; a foreign cursor is refused`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    for (let i = 0; i < 25; i++) await s.follow(`pf${String(i).padStart(2, '0')}`, 'paged', 100 + i);
    const users = await all(s, 'paged', 7);
    t.equal(users.length, 25);
    t.same(users, [...users].sort().reverse(), 'newest first across pages');
    await t.rejects(s.followers('paged', { limit: 5, after: 'not a cursor!' }), { code: 'BAD_CURSOR' });
  });

  t.test(`${name}: paging while others follow and unfollow: no duplicates, nobody who stayed is skipped`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    const stayers = Array.from({ length: 60 }, (_, i) => `st${i}`);
    const leavers = Array.from({ length: 30 }, (_, i) => `lv${i}`);
    let clock = 1;
    for (let i = 0; i < 60; i++) {
      await s.follow(stayers[i]!, 'busy', clock++);
      if (i < 30) await s.follow(leavers[i]!, 'busy', clock++);
    }
    let n = 0;
    // Between pages: one leaver goes, one newcomer arrives, one leaver comes back (a new follow).
    const seen = await all(s, 'busy', 8, async () => {
      await s.unfollow(leavers[n]!, 'busy');
      await s.follow(`new${n}`, 'busy', clock++);
      if (n > 0) await s.follow(leavers[n - 1]!, 'busy', clock++);
      n++;
    });
    t.equal(new Set(seen).size, seen.length, 'no follower twice');
    t.same(stayers.filter((u) => !seen.includes(u)), [], 'every follower present throughout was seen');
  });
}
