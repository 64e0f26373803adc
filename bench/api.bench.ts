/**
 * API: autocannon against sign-in (argon2id verification: CPU-bound by design) and live-room discovery
 * (R live rooms with socket viewers), on the HaloBuzz server. Reports requests/s and latency percentiles;
 * writes bench/results/api-<time>.json. There is no baseline for this scenario: the Socket.IO baseline has
 * no HTTP API.
 */
import autocannon from 'autocannon';
import { ClientOp, Role } from '../protocol/codes';
import { startServer } from '../tools/server-process';
import { HALOBUZZ_BENCH_ENV } from './targets';
import { LoadConnection, openMany } from './load-client';
import { Progress } from './progress';
import { writeResult } from './results';

export interface ApiParams { seconds: number; connections: number; rooms: number; viewers: number }
export const apiDefaults: ApiParams = { seconds: 10, connections: 20, rooms: 100, viewers: 5 };
export const apiQuick: ApiParams = { seconds: 2, connections: 4, rooms: 10, viewers: 2 };

async function cannon(title: string, opts: autocannon.Options): Promise<Record<string, number>> {
  const progress = new Progress(title, Math.round((opts.duration as number) ?? 1));
  const start = Date.now();
  const timer = setInterval(() => progress.update(Math.min(Number(opts.duration), Math.floor((Date.now() - start) / 1000))), 500);
  const r = await autocannon(opts);
  clearInterval(timer);
  progress.done();
  return {
    requestsPerSecond: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, p999: r.latency.p99_9,
    non2xx: r.non2xx, errors: r.errors, total: r.requests.total,
  };
}

export async function runApi(p: ApiParams): Promise<unknown> {
  const server = await startServer({ ...HALOBUZZ_BENCH_ENV, HALOBUZZ_API_RATE_LIMIT: '10000000' });
  try {
    const post = async (path: string, body: unknown, token?: string) => (await (await fetch(`${server.api}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
    })).json()) as Record<string, unknown>;
    const credentials = { email: 'bench@example.com', password: 'correct horse battery staple' };
    await post('/v1/auth/register', { ...credentials, displayName: 'Bench' });
    // One live room per host: each room gets its own host account.
    const rooms: string[] = [];
    const hosts = new Progress('api: hosts and rooms', p.rooms);
    for (let i = 0; i < p.rooms; i++) {
      const { tokens } = (await post('/v1/auth/register', { email: `host${i}@example.com`, password: credentials.password, displayName: `Host ${i}` })) as { tokens: { accessToken: string } };
      const room = (await post('/v1/rooms', { title: `room ${i}`, country: i % 2 ? 'NP' : 'IN' }, tokens.accessToken)) as { id?: string };
      if (!room.id) throw new Error(`could not start room ${i}: ${JSON.stringify(room)}`);
      rooms.push(room.id);
      hosts.update(i + 1);
    }
    hosts.done();
    const ramp = new Progress('api: viewers', p.rooms * p.viewers);
    const viewers = await openMany(p.rooms * p.viewers, 32, async (i) => {
      const c = await LoadConnection.open(server.url);
      await c.hello(server.token(`viewer${i}`));
      await c.request(ClientOp.JOIN, rooms[i % p.rooms]!, Role.VIEWER);
      return c;
    }, (n) => ramp.update(n));
    ramp.done();
    const login = await cannon('api: login', {
      url: `${server.api}/v1/auth/login`, method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials), duration: p.seconds, connections: p.connections,
    });
    const discovery = await cannon('api: discovery', { url: `${server.api}/v1/rooms?country=NP&limit=20`, duration: p.seconds, connections: p.connections });
    for (const v of viewers) v.close();
    const result = { scenario: 'api', params: p, login, discovery };
    console.log(JSON.stringify(result, null, 2));
    console.log(`results: ${writeResult('api', result).join(', ')}`);
    return result;
  } finally {
    await server.stop();
  }
}
