/**
 * The follow graph over HTTP on a running server: follow (idempotent), counts, public profiles with
 * "live now", followers and following paged by cursor, removing a follower, a block ending follows both
 * ways and refusing new ones, and a cursor that is not ours refused.
 */
import t from 'tap';
import { startServer } from '../../tools/server-process';
import { apiCaller, apiUser } from '../helpers/games';

t.test('follow, profiles, paging, blocks', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const call = apiCaller(server);
  const creator = await apiUser(server, 'creator');
  const fans = [];
  for (let i = 0; i < 12; i++) fans.push(await apiUser(server, `fan${i}`));

  for (const f of fans) t.match((await call('PUT', `/v1/me/following/${creator.id}`, f.token)).body, { following: true, created: true });
  t.match((await call('PUT', `/v1/me/following/${creator.id}`, fans[0]!.token)).body, { created: false }, 'following twice changes nothing');
  t.equal((await call('PUT', `/v1/me/following/${fans[0]!.id}`, fans[0]!.token)).status, 400, 'not yourself');
  t.equal((await call('PUT', '/v1/me/following/u_nobody', fans[0]!.token)).status, 404);

  let profile = (await call('GET', `/v1/users/${creator.id}`)).body;
  t.match(profile, { id: creator.id, displayName: 'creator', followers: 12, following: 0, live: null, followedByYou: null });
  t.match((await call('GET', `/v1/users/${creator.id}`, fans[3]!.token)).body, { followedByYou: true }, 'a signed-in caller learns whether they follow');
  const room = await call('POST', '/v1/rooms', creator.token, { title: 'hello' });
  t.equal(room.status, 201);
  profile = (await call('GET', `/v1/users/${creator.id}`)).body;
  t.match(profile.live, { room: room.body.id, title: 'hello' }, 'the profile shows the live room');

  const seen: string[] = [];
  let after: string | null = null;
  do {
    const page: { status: number; body: Record<string, any> } = await call('GET', `/v1/users/${creator.id}/followers?limit=5${after ? `&after=${after}` : ''}`);
    t.equal(page.status, 200);
    seen.push(...(page.body.items as { id: string }[]).map((p) => p.id));
    after = page.body.next as string | null;
  } while (after);
  t.same(seen, [...fans].reverse().map((f) => f.id), 'every follower once, newest first, across pages');
  t.equal((await call('GET', `/v1/users/${creator.id}/followers?after=zzzzzzzzzz`)).status, 200, 'a cursor past the end is an empty page');
  t.equal((await call('GET', `/v1/users/${creator.id}/followers?after=NOT-OURS`)).status, 400, 'a cursor that is not ours is refused');
  t.same((await call('GET', `/v1/users/${fans[1]!.id}/following`)).body.items.map((p: { id: string }) => p.id), [creator.id]);

  t.equal((await call('DELETE', `/v1/me/followers/${fans[1]!.id}`, creator.token)).status, 204, 'the creator removes a follower');
  t.equal((await call('DELETE', `/v1/me/following/${creator.id}`, fans[2]!.token)).status, 204, 'a fan unfollows');
  t.equal((await call('DELETE', `/v1/me/following/${creator.id}`, fans[2]!.token)).status, 404, 'twice: not following');
  t.equal((await call('PUT', `/v1/me/blocks/${fans[4]!.id}`, creator.token)).status, 204);
  t.equal((await call('PUT', `/v1/me/following/${creator.id}`, fans[4]!.token)).status, 403, 'a blocked user cannot follow');
  t.match((await call('GET', `/v1/users/${creator.id}`)).body, { followers: 9 }, 'removed, unfollowed and blocked followers are gone from the count');
  t.match((await call('GET', `/v1/users/${fans[4]!.id}`)).body, { following: 0 }, 'the block ended the blocked user\'s follow');
});
