/**
 * Stateless processes (issue #22), on the real Kafka, Redis and FerretDB from deploy/local: two API
 * processes and three socket nodes, each with a data folder of its own (nothing shared on disk), sharing
 * only MongoDB, Redis and Kafka. An account made on one API signs in on the other; a refresh token rotated
 * on one is a reuse on the other; a room created on one is listed, and counted, on the other; one live
 * room per host holds across both; a follow made on one is listed on the other; a sign-out on one closes
 * the sockets on the nodes; and neither API wrote an accounts, rooms, purchases, payouts, follows,
 * notifications, moderation or consent file. Discovery names the nodes serving a room (placement), and a
 * viewer following the hint joins one of them. A real Prometheus (Debian's) with the project's alert rules
 * scrapes all five processes throughout.
 */
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, waitFor, type ServerHandle } from '../../tools/server-process';
import { CloseCode, Role } from '../../protocol/codes';
import { HaloClient } from '../../sdk/client';
import { nodeWebSocket } from '../../sdk/node';
import { engineUrl } from '../helpers/services';
import { startCluster } from '../helpers/cluster';
import { startPrometheus } from '../helpers/prometheus';

const kafka = engineUrl(t, 'kafka');
const redis = kafka ? engineUrl(t, 'redis') : null;
const mongodb = redis ? engineUrl(t, 'mongodb') : null;

type Reply = { status: number; body: Record<string, unknown> };

function caller(api: ServerHandle) {
  return async (method: string, path: string, body?: unknown, token?: string): Promise<Reply> => {
    const res = await fetch(`${api.api}${path}`, {
      method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
}

if (kafka && redis && mongodb) {
  t.test('two API processes and three socket nodes share MongoDB, Redis and Kafka, and no data folder', async (t) => {
    const cluster = await startCluster({ kafka, redis, mongodb }, 3, 'stateless', { HALOBUZZ_PRESENCE_INTERVAL_MS: '200', HALOBUZZ_PUBLIC_URL: 'per node' });
    t.teardown(() => cluster.stop());
    const apis: ServerHandle[] = [];
    t.teardown(() => Promise.all(apis.map((a) => a.stop())));
    for (const name of ['api-1', 'api-2']) apis.push(await startServer({ ...cluster.env, HALOBUZZ_ROLE: 'api', HALOBUZZ_NODE_ID: name, HALOBUZZ_PRESENCE_INTERVAL_MS: '200', HALOBUZZ_API_METRICS: '1' }));
    const [one, two] = apis.map(caller) as [ReturnType<typeof caller>, ReturnType<typeof caller>];
    const prometheus = await startPrometheus([...cluster.nodes.map((n) => n.http), ...apis.map((a) => a.api)].map((u) => u.replace('http://', '')));
    t.teardown(() => prometheus.stop());
    t.not(apis[0]!.dataDir, apis[1]!.dataDir, 'each API has a data folder of its own');

    // Accounts and sessions.
    const made = await one('POST', '/v1/auth/register', { email: 'host@example.com', password: 'correct horse battery', displayName: 'Host' });
    t.equal(made.status, 201, 'registered on API 1');
    const hostId = (made.body.user as { id: string }).id;
    const login = await two('POST', '/v1/auth/login', { email: 'host@example.com', password: 'correct horse battery' });
    t.equal(login.status, 200, 'signed in on API 2');
    t.equal((login.body.user as { id: string }).id, hostId, 'the same account');
    const loginTokens = login.body.tokens as { accessToken: string; refreshToken: string };
    const rotated = await one('POST', '/v1/auth/refresh', { refreshToken: loginTokens.refreshToken });
    t.equal(rotated.status, 200, 'API 1 rotates the refresh token API 2 issued');
    const reused = await two('POST', '/v1/auth/refresh', { refreshToken: loginTokens.refreshToken });
    t.equal((reused.body.error as { code: string }).code, 'HB_API_REFRESH_REUSED', 'the consumed token is a reuse on API 2 too');
    const host = (await one('POST', '/v1/auth/login', { email: 'host@example.com', password: 'correct horse battery' })).body.tokens as { accessToken: string };
    t.equal((await two('GET', '/v1/me', undefined, host.accessToken)).status, 200, 'a token from API 1 works on API 2');

    // Rooms: created on one API, seen and counted on the other; one live room per host across both.
    const room = await two('POST', '/v1/rooms', { title: 'Shared stage', country: 'NP' }, host.accessToken);
    t.equal(room.status, 201, 'room created on API 2');
    const roomId = room.body.id as string;
    t.match((await one('GET', `/v1/rooms/${roomId}`)).body, { id: roomId, title: 'Shared stage', live: true }, 'API 1 lists it');
    t.equal(((await one('POST', '/v1/rooms', { title: 'Second', country: 'NP' }, host.accessToken)).body.error as { code: string }).code, 'HB_API_ALREADY_LIVE', 'a second live room is refused on API 1');

    const fanMade = await two('POST', '/v1/auth/register', { email: 'fan@example.com', password: 'correct horse battery', displayName: 'Fan' });
    const fanId = (fanMade.body.user as { id: string }).id;
    const fanToken = (fanMade.body.tokens as { accessToken: string }).accessToken;
    const [n1, , n3] = cluster.nodes as [ServerHandle, ServerHandle, ServerHandle];
    const hostSocket = new HaloClient({ url: n1.url, token: host.accessToken, webSocket: nodeWebSocket, reconnect: false });
    const fanSocket = new HaloClient({ url: n3.url, token: fanToken, webSocket: nodeWebSocket, reconnect: false, requestTimeoutMs: 30_000 });
    const fanCloses: number[] = [];
    fanSocket.on('disconnected', (d) => fanCloses.push(d.code));
    await hostSocket.connect();
    await fanSocket.connect();
    t.equal((await hostSocket.join(roomId, Role.HOST)).owner, hostId, 'node 1 knows the owner API 2 recorded');
    await fanSocket.join(roomId);
    let viewers = 0;
    await waitFor('both APIs count the viewers on nodes 1 and 3', async () => {
      const counts = await Promise.all([one, two].map(async (call) => ((await call('GET', '/v1/rooms?country=NP')).body.rooms as { id: string; viewers: number }[]).find((r) => r.id === roomId)?.viewers ?? 0));
      viewers = Math.min(...counts);
      return viewers === 2;
    }, 20_000);
    t.equal(viewers, 2, 'discovery on either API counts the viewers of every node');
    // Placement: discovery names the nodes serving the room; a new viewer following the hint lands on one of them.
    const listed = (await two('GET', `/v1/rooms/${roomId}`)).body as { nodes: string[] };
    t.same([...listed.nodes].sort(), [n1.url, n3.url].sort(), 'discovery names nodes 1 and 3, which serve the room');
    const thirdToken = ((await one('POST', '/v1/auth/register', { email: 'third@example.com', password: 'correct horse battery', displayName: 'Third' })).body.tokens as { accessToken: string }).accessToken;
    const third = new HaloClient({ url: cluster.nodes.map((n) => n.url), token: thirdToken, webSocket: nodeWebSocket, reconnect: false, requestTimeoutMs: 30_000 });
    third.preferNodes(listed.nodes);
    await third.connect();
    await third.join(roomId);
    t.ok(listed.nodes.includes(third.currentUrl), `the third viewer connected to a node already serving the room (${third.currentUrl})`);
    await waitFor('three viewers on the same two nodes', async () => {
      const room = (await one('GET', `/v1/rooms/${roomId}`)).body as { viewers: number; nodes: string[] };
      return room.viewers === 3 && room.nodes.length === 2;
    }, 20_000);
    t.pass('the room still spans two nodes, not three');
    third.close();
    let scraped: { metric: Record<string, string>; value: number }[] = [];
    let up = 0;
    await waitFor('Prometheus scrapes all five processes and sees both sockets on the nodes', async () => {
      scraped = await prometheus.query('halobuzz_connections');
      up = (await prometheus.query('up{job="halobuzz"} == 1')).length;
      return up === 5 && scraped.reduce((sum, r) => sum + r.value, 0) === 2;
    }, 20_000);
    t.equal(up, 5, 'Prometheus scrapes three socket nodes and two API processes');
    t.same(scraped.filter((r) => r.value > 0).map((r) => r.metric.instance).sort(), [n1.http, n3.http].map((u) => u.replace('http://', '')).sort(), 'one connection each on nodes 1 and 3');
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    t.ok(loaded.length >= 10 && loaded.every((r) => r.health !== 'err'), `the alert rules are loaded and evaluate (${loaded.length})`);
    t.same(await prometheus.query('ALERTS{alertstate="firing"}'), [], 'nothing fires on a healthy cluster');

    // Follows: made on one API, listed on the other.
    t.equal((await one('PUT', `/v1/me/following/${hostId}`, undefined, fanToken)).status < 300, true, 'the fan follows on API 1');
    const followers = (await two('GET', `/v1/users/${hostId}/followers`)).body as { items?: { userId?: string; id?: string }[] };
    t.ok(JSON.stringify(followers).includes(fanId), 'API 2 lists the follower');

    // Revocation: signing out everywhere on API 2 closes the fan's socket on node 3.
    t.same((await two('POST', '/v1/auth/logout-all', {}, fanToken)).body, { revoked: 1 });
    await waitFor('the fan\'s socket on node 3 closed', () => fanCloses.length > 0, 10_000);
    t.same(fanCloses, [CloseCode.SESSION_REVOKED], 'closed as revoked');
    t.equal(hostSocket.connected, true, 'the host stays connected');
    hostSocket.close();

    // A data export asked on one API is built by one of them and downloaded from the other.
    t.equal((await one('POST', '/v1/me/export', {}, thirdToken)).status, 202, 'an export asked on API 1');
    let exportUrl: string | null = null;
    await waitFor('the export ready, as API 2 lists it', async () => {
      const listed = (await two('GET', '/v1/me/exports', undefined, thirdToken)).body as { exports: { status: string; url: string | null }[] };
      exportUrl = listed.exports[0]?.url ?? null;
      return exportUrl !== null;
    }, 30_000);
    const archive = await fetch(`${apis[1]!.api}${exportUrl!}`);
    t.equal(archive.status, 200, 'API 2 serves the link');
    t.same([...new Uint8Array(await archive.arrayBuffer()).subarray(0, 2)], [0x50, 0x4b], 'a zip archive');

    // Nothing shared was written to either API's folder.
    for (const api of apis) {
      const files = readdirSync(api.dataDir);
      const shared = ['accounts.sqlite', 'rooms.sqlite', 'purchases.sqlite', 'payouts.sqlite', 'social.sqlite', 'notifications.sqlite', 'moderation.sqlite', 'privacy.sqlite', 'exports.sqlite'].filter((f) => existsSync(join(api.dataDir, f)));
      t.same(shared, [], `no store of shared state in ${api.dataDir} (${files.join(', ')})`);
      const archives = existsSync(join(api.dataDir, 'exports')) ? readdirSync(join(api.dataDir, 'exports')) : [];
      t.same(archives, [], 'no export archive or staging left on disk');
    }
  });
}
