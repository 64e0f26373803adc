import t from 'tap';
import { startServer, waitFor } from '../../tools/server-process';
import { CloseCode } from '../../protocol/codes';
import { HaloClient } from '../../sdk/client';
import { nodeWebSocket } from '../../sdk/node';
import { codeAt, stepAt } from '../../api/totp';

interface Pair { accessToken: string; refreshToken: string; sessionId: string }

t.test('register → enable MFA → sign in with TOTP → socket → refresh → reuse the old refresh token → all revoked, socket closed', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${server.api}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const reg = await post('/v1/auth/register', { email: 'viewer@example.com', password: 'correct horse battery', displayName: 'Viewer' });
  t.equal(reg.status, 201);
  const regAccess = (reg.body.tokens as Pair).accessToken;
  const enroll = (await post('/v1/me/mfa/enroll', {}, regAccess)).body as { secret: string };
  const step = stepAt(Date.now());
  const activated = await post('/v1/me/mfa/activate', { code: codeAt(enroll.secret, step - 1) }, regAccess);
  t.equal(activated.status, 200, 'MFA on');
  const login = await post('/v1/auth/login', { email: 'viewer@example.com', password: 'correct horse battery' });
  t.equal(login.body.mfaRequired, true, 'the password alone is not enough');
  const mfa = await post('/v1/auth/mfa', { mfaTicket: login.body.mfaTicket, code: codeAt(enroll.secret, step) });
  t.equal(mfa.status, 200, 'signed in with the TOTP code');
  const first = mfa.body.tokens as Pair;

  const sockets: { client: HaloClient; closes: number[] }[] = [];
  const open = async (token: string) => {
    const closes: number[] = [];
    const client = new HaloClient({ url: server.url, token, webSocket: nodeWebSocket, reconnect: false });
    client.on('disconnected', (d) => closes.push(d.code));
    const hello = await client.connect();
    sockets.push({ client, closes });
    return { client, closes, hello };
  };
  const device = await open(first.accessToken);
  t.equal(device.hello.sid, first.sessionId, 'the socket runs under the API session');
  const other = await open((reg.body.tokens as Pair).accessToken);
  t.ok(other.client.connected, 'another session of the same user, on another device');

  const refreshed = await post('/v1/auth/refresh', { refreshToken: first.refreshToken });
  t.equal(refreshed.status, 200);
  const second = refreshed.body as unknown as Pair;
  const again = await open(second.accessToken);
  t.ok(again.client.connected, 'the rotated access token works on the socket');

  const reuse = await post('/v1/auth/refresh', { refreshToken: first.refreshToken });
  t.equal(reuse.status, 401);
  t.equal((reuse.body.error as { code: string }).code, 'HB_API_REFRESH_REUSED');
  await waitFor('sockets of the family closed', () => device.closes.length > 0 && again.closes.length > 0);
  t.same(device.closes, [CloseCode.SESSION_REVOKED]);
  t.same(again.closes, [CloseCode.SESSION_REVOKED]);
  t.equal(other.client.connected, true, 'the user\'s other sign-in is untouched');

  const retry = new HaloClient({ url: server.url, token: second.accessToken, webSocket: nodeWebSocket, reconnect: false });
  await t.rejects(retry.connect(), /4005/, 'a revoked session cannot open new sockets');
  const logoutAll = await post('/v1/auth/logout-all', {}, (reg.body.tokens as Pair).accessToken);
  t.same(logoutAll.body, { revoked: 1 });
  await waitFor('last socket closed', () => other.closes.length > 0);
  t.same(other.closes, [CloseCode.SESSION_REVOKED], 'log out everywhere closes every socket');
  for (const s of sockets) s.client.close();
});

t.test('a room started over the API: its owner hosts, others cannot, discovery counts socket viewers', async (t) => {
  const server = await startServer({ HALOBUZZ_PRESENCE_INTERVAL_MS: '50' });
  t.teardown(() => server.stop());
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${server.api}${path}`, {
      method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  const creator = (await call('POST', '/v1/auth/register', { email: 'creator@example.com', password: 'correct horse battery', displayName: 'C' })).tokens as Pair;
  const fan = (await call('POST', '/v1/auth/register', { email: 'fan@example.com', password: 'correct horse battery', displayName: 'F' })).tokens as Pair;
  const room = await call('POST', '/v1/rooms', { title: 'Hello world', country: 'NP' }, creator.accessToken) as { id: string };
  const mk = (token: string) => new HaloClient({ url: server.url, token, webSocket: nodeWebSocket, reconnect: false });
  const fanSocket = mk(fan.accessToken);
  await fanSocket.connect();
  await t.rejects(fanSocket.join(room.id, 1), /NOT_ROOM_OWNER/, 'the room belongs to its creator from the start');
  const host = mk(creator.accessToken);
  await host.connect();
  const joined = await host.join(room.id, 1);
  t.equal(joined.live, true);
  await fanSocket.join(room.id);
  const listed = await call('GET', '/v1/rooms?country=NP') as { rooms: { id: string; viewers: number }[] };
  t.same(listed.rooms.map((r) => [r.id, r.viewers]), [[room.id, 2]], 'viewer count from the socket side');
  const lives: boolean[] = [];
  fanSocket.on('live', (e) => lives.push(e.live));
  await call('POST', `/v1/rooms/${room.id}/end`, undefined, creator.accessToken);
  await waitFor('stream ended on the socket', () => lives.includes(false));
  host.close();
  fanSocket.close();
});
