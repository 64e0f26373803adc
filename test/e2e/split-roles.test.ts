/**
 * The API running alone (HALOBUZZ_ROLE=api) beside a socket node (HALOBUZZ_ROLE=realtime), connected only
 * through Redis and the shared data folder: discovery sees the socket node's viewers, ending a room ends
 * its stream there, and revoking a session closes its sockets there.
 */
import t from 'tap';
import { startServer, waitFor } from '../../tools/server-process';
import { CloseCode, Role } from '../../protocol/codes';
import { HaloClient } from '../../sdk/client';
import { nodeWebSocket } from '../../sdk/node';
import { engineUrl } from '../helpers/services';

const redis = engineUrl(t, 'redis');
if (redis) {
  t.test('API alone, sockets elsewhere: viewer counts, stream end and revocation cross over Redis', async (t) => {
    const node = `split-${process.pid}-${Date.now()}`;
    const sockets = await startServer({ HALOBUZZ_ROLE: 'realtime', REDIS_URL: redis, HALOBUZZ_NODE_ID: `${node}-ws`, HALOBUZZ_PRESENCE_INTERVAL_MS: '100' });
    t.teardown(() => sockets.stop());
    const api = await startServer({ HALOBUZZ_ROLE: 'api', REDIS_URL: redis, HALOBUZZ_NODE_ID: `${node}-api` }, sockets.dataDir);
    t.teardown(() => api.stop());
    t.equal(api.url, '', 'the API process serves no sockets');
    const call = async (method: string, path: string, body?: unknown, token?: string) => {
      const res = await fetch(`${api.api}${path}`, {
        method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const tokens = (await call('POST', '/v1/auth/register', { email: 'split@example.com', password: 'correct horse battery', displayName: 'S' })).body.tokens as { accessToken: string };
    const room = (await call('POST', '/v1/rooms', { title: 'Split', country: 'NP' }, tokens.accessToken)).body as { id: string };
    const host = new HaloClient({ url: sockets.url, token: tokens.accessToken, webSocket: nodeWebSocket, reconnect: false });
    const closes: number[] = [];
    host.on('disconnected', (d) => closes.push(d.code));
    const lives: boolean[] = [];
    host.on('live', (e) => lives.push(e.live));
    await host.connect();
    t.equal((await host.join(room.id, Role.HOST)).owner, (await call('GET', `/v1/rooms/${room.id}`)).body.owner, 'the owner the API recorded');
    const fan = sockets.client('fan');
    await fan.connect();
    await fan.join(room.id);
    let viewers = 0;
    await waitFor('viewer count over Redis', () => {
      void call('GET', '/v1/rooms?country=NP').then((r) => (viewers = ((r.body.rooms as { viewers: number }[])[0]?.viewers ?? 0)));
      return viewers === 2;
    }, 10_000);
    t.equal(viewers, 2, 'discovery on the API node counts the socket node\'s viewers');
    t.equal((await call('POST', `/v1/rooms/${room.id}/end`, undefined, tokens.accessToken)).status, 200);
    await waitFor('stream end delivered', () => lives.includes(false));
    t.same(lives, [true, false], 'the socket node ended the stream the API ended');
    t.same((await call('POST', '/v1/auth/logout-all', {}, tokens.accessToken)).body, { revoked: 1 });
    await waitFor('socket closed', () => closes.length > 0);
    t.same(closes, [CloseCode.SESSION_REVOKED], 'the revocation reached the socket node');
    t.equal(fan.connected, true, 'other users stay connected');
    fan.close();
  });
}
