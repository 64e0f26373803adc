/**
 * Regions end to end on a real server behind a (pretend) trusted proxy: requests and sockets arrive with
 * X-Forwarded-For addresses in Nepal and the United States. A room its host made available only in Nepal
 * is listed and joinable from Nepal, hidden and refused (REGION_RESTRICTED) from the US; a game disabled in
 * the US refuses a US player even when the app claims Nepal; card purchases are refused in the US; the media
 * token carries the area hint.
 */
import t from 'tap';
import WebSocket from 'ws';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../tools/server-process';
import { ClientOp, ErrorCode, Role } from '../../protocol/codes';
import { HaloClient, HaloError, type WebSocketLike } from '../../sdk/client';
import { apiUser, gamesEnv } from '../helpers/games';

const NEPAL = '27.34.16.1';
const US = '8.8.8.8';
const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof HaloError ? e.code : String(e)));

t.test('a room available only in Nepal, a game disabled in the US, the media area hint', { timeout: 60_000 }, async (t) => {
  const catalog = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'config', 'coin-packages.json'), 'utf8')) as Record<string, unknown>;
  const catalogFile = join(mkdtempSync(join(tmpdir(), 'hb-regions-')), 'coin-packages.json');
  writeFileSync(catalogFile, JSON.stringify({ ...catalog, blockedCountries: ['US'] }));
  const server = await startServer({
    ...gamesEnv({ play: { blockedCountries: ['US'] } }), HALOBUZZ_COIN_PACKAGES: catalogFile, HALOBUZZ_API_TRUSTED_PROXIES: '127.0.0.1,::1', HALOBUZZ_DEBUG_ENDPOINTS: '1',
    HALOBUZZ_AGORA_APP_ID: '970ca35de60c44645bbae8a215061b33', HALOBUZZ_AGORA_APP_CERTIFICATE: '5cfd2fd1755d40ecb72977518be15d3b',
  });
  t.teardown(() => server.stop());
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const call = async (method: string, path: string, ip: string, token?: string, body?: unknown) => {
    const res = await fetch(`${server.api}${path}`, {
      method, headers: { ...from(ip), ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json() as Record<string, any> };
  };
  const client = (user: string, ip: string, country?: string) => {
    const c = new HaloClient({
      url: server.url, token: () => server.token(user), reconnect: false, requestTimeoutMs: 5000,
      webSocket: (url: string) => {
        const ws = new WebSocket(url, { perMessageDeflate: false, headers: from(ip) });
        ws.binaryType = 'arraybuffer';
        return ws as unknown as WebSocketLike;
      },
      ...(country ? { client: { country } } : {}),
    });
    t.teardown(() => c.close());
    return c;
  };

  const host = await apiUser(server, 'Host');
  const made = await call('POST', '/v1/rooms', NEPAL, host.token, { title: 'Nepal only', allowedCountries: ['NP'] });
  t.match(made, { status: 201, body: { allowedCountries: ['NP'] } });
  const room = made.body.id as string;
  const listed = async (ip: string) => ((await call('GET', '/v1/rooms', ip)).body.rooms as { id: string }[]).map((r) => r.id);
  t.ok((await listed(NEPAL)).includes(room), 'listed in Nepal');
  t.notOk((await listed(US)).includes(room), 'hidden in the US');

  const h = client(host.id, US);
  await h.connect();
  t.equal(await code(h.join(room, Role.HOST)), 'ok', 'the host joins from anywhere');
  const np = client('viewer-np', NEPAL);
  await np.connect();
  t.equal(await code(np.join(room)), 'ok', 'a viewer in Nepal joins');
  const us = client('viewer-us', US, 'NP');
  await us.connect();
  const refused = await us.join(room).catch((e: HaloError) => e);
  t.match(refused, { code: ErrorCode.REGION_RESTRICTED, detail: { country: 'US' } }, 'refused in the US, whatever the app claims');
  t.equal(await code(us.request(ClientOp.RESUME, room, 0, Role.VIEWER)), ErrorCode.REGION_RESTRICTED, 'RESUME too');

  const media = await call('POST', `/v1/rooms/${room}/media-token`, NEPAL, host.token, { role: 'host' });
  t.match(media, { status: 200, body: { region: 'AS' } }, 'the Agora area for Nepal');
  t.equal((await call('POST', `/v1/rooms/${room}/media-token`, US, host.token, { role: 'host' })).body.region, 'NA');
  const buyUS = await call('POST', '/v1/purchases', US, host.token, { package: 'coins_100' });
  t.match(buyUS, { status: 451, body: { error: { code: 'HB_API_REGION_RESTRICTED', detail: { country: 'US' } } } }, 'card purchases are not offered in the US');
  t.not((await call('POST', '/v1/purchases', NEPAL, host.token, { package: 'coins_100' })).status, 451, 'in Nepal they are (here Stripe is not configured: 503)');

  // Games: the wheel refuses a player whose address is in a country where games are disabled.
  const open = await call('POST', '/v1/rooms', US, (await apiUser(server, 'Host2')).token, { title: 'everywhere' });
  const room2 = open.body.id as string;
  const h2 = client(open.body.owner as string, US);
  await h2.connect();
  await h2.join(room2, Role.HOST);
  await h2.startGame(room2);
  await fetch(`${server.http}/debug/mint?user=player-us&coins=100&op=mint-regions-us`, { method: 'POST' });
  const player = client('player-us', US, 'NP');
  await player.connect();
  await player.join(room2);
  const games = await player.games(room2) as { wheel: { round: { id: string } | null } };
  const round = games.wheel.round?.id;
  t.ok(round, 'a round is open');
  const bet = await player.bet(room2, round!, 'x2', 10, 'bet-region-0001').catch((e: HaloError) => e);
  t.match(bet, { code: ErrorCode.COUNTRY_BLOCKED }, 'games are disabled in the US, whatever the app claims');
});
