/**
 * The RoomDirectory contract as a tap suite, run on SQLite and on MongoDB (FerretDB): one live room per
 * host (also when creates race), ending, filters, and export and erasure of a host's rooms.
 */
import type { Test } from 'tap';
import type { RoomDirectory, RoomListing } from './room-directory';

const room = (id: string, owner: string, over: Partial<RoomListing> = {}): RoomListing => ({ id, owner, title: `title ${id}`, country: 'NP', locale: 'ne', live: true, startedAt: 100, endedAt: null, ...over });

export function roomDirectoryConformance(t: Test, name: string, open: () => Promise<RoomDirectory>): void {
  t.test(`${name}: one live room per host; ending frees the host`, async (t) => {
    const d = await open();
    t.teardown(() => d.close());
    t.equal(await d.create(room('r1', 'h1', { allowedCountries: ['NP', 'IN'] })), 'created');
    t.same(await d.create(room('r2', 'h1')), { liveRoom: 'r1' }, 'a second live room of the host is refused, naming the first');
    t.equal(await d.get('r2'), null);
    t.same(await d.get('r1'), room('r1', 'h1', { allowedCountries: ['NP', 'IN'] }));
    t.match(await d.liveRoomOf('h1'), { id: 'r1' });
    t.notOk(await d.end('r1', 'someone-else', 200), 'only the owner ends it');
    t.ok(await d.end('r1', 'h1', 200));
    t.notOk(await d.end('r1', 'h1', 201), 'ending twice');
    t.match(await d.get('r1'), { live: false, endedAt: 200 });
    t.equal(await d.liveRoomOf('h1'), null);
    t.equal(await d.create(room('r3', 'h1')), 'created', 'the host may go live again');
    t.equal(await d.create(room('past', 'h1', { live: false, endedAt: 50 })), 'created', 'an ended room is no live room');
    for (let round = 0; round < 5; round++) {
      const host = `h-race-${round}`;
      const racing = await Promise.all(Array.from({ length: 5 }, (_, i) => d.create(room(`race-${round}-${i}`, host))));
      const created = racing.filter((r) => r === 'created').length;
      const winner = (await d.liveRoomOf(host))?.id;
      const named = racing.filter((r) => r !== 'created').every((r) => (r as { liveRoom: string }).liveRoom === winner);
      if (created !== 1 || !named) t.fail(`round ${round}: ${JSON.stringify(racing)}, live ${winner}`);
    }
    t.pass('five creates racing for one host, five times: one live room each time, and the others name it');
  });

  t.test(`${name}: live rooms by country and locale`, async (t) => {
    const d = await open();
    t.teardown(() => d.close());
    await d.create(room('a', 'ha', { country: 'NP', locale: 'ne' }));
    await d.create(room('b', 'hb', { country: 'IN', locale: 'hi' }));
    await d.create(room('c', 'hc', { country: 'NP', locale: 'en' }));
    await d.create(room('e', 'he', { country: 'NP', locale: 'ne', live: false, endedAt: 5 }));
    const ids = (rooms: RoomListing[]) => rooms.map((r) => r.id).sort();
    t.same(ids(await d.live({})), ['a', 'b', 'c']);
    t.same(ids(await d.live({ country: 'NP' })), ['a', 'c']);
    t.same(ids(await d.live({ country: 'NP', locale: 'ne' })), ['a']);
    t.same(ids(await d.live({ locale: 'hi' })), ['b']);
    t.same(await d.live({ country: 'US' }), []);
  });

  t.test(`${name}: the rooms a host ran are exported and erased`, async (t) => {
    const d = await open();
    t.teardown(() => d.close());
    await d.create(room('g1', 'u_gone', { title: 'my stream', live: false, endedAt: 2, allowedCountries: ['NP'] }));
    await d.create(room('g2', 'u_gone', { title: 'live now' }));
    await d.create(room('p1', 'u_pal', { title: 'pal stream' }));
    const out = await d.exportUser('u_gone');
    t.match(out.rooms_hosted?.map((r) => (r as { title: string }).title).sort(), ['live now', 'my stream']);
    t.match(out.rooms_hosted?.find((r) => (r as { id: string }).id === 'g1'), { id: 'g1', title: 'my stream', allowed_countries: ['NP'] });
    await d.eraseUser({ user: 'u_gone', pseudonym: 'x_kept', aliases: [] });
    t.equal(await d.get('g1'), null);
    t.equal(await d.get('g2'), null);
    t.equal(await d.liveRoomOf('u_gone'), null);
    t.ok(await d.get('p1'), 'others\' rooms stay');
  });
}
