/**
 * A scripted evening on a real server writing to the real ClickHouse, through a SIGTERM, a SIGKILL and a
 * ClickHouse pause: every event lands once per id, watch times match the script's clock (crash-ended ones
 * within the heartbeat), and the named queries return the evening's numbers; and an outage on its own.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { startServer, waitFor } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { HaloClient } from '../../sdk/client';
import { QUERIES, checkParams } from '../../adapters/analytics/analyst-queries';
import { normalizeRow } from '../../adapters/analytics/analyst-queries.fixture';
import { outageProxy } from '../helpers/outage-proxy';
import { nodeWebSocket } from '../../sdk/node';
import type { ClientOptions } from '../../sdk/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineUrl } from '../helpers/services';

const url = engineUrl(t, 'clickhouse');
/** One room visit as the script saw it: when the join was acknowledged and when it ended, and how. */
interface ScriptedVisit { user: string; room: string; joined: number; ended: number; endedBy: 'client' | 'server' | 'crash' }

if (url) {
  t.test('a scripted evening with a SIGTERM, a SIGKILL and a ClickHouse pause: every event once, true watch times, every query exact', async (t) => {
    const database = `analytics_e2e_${process.pid}_${Date.now()}`;
    const ch = createClient({ url });
    t.teardown(async () => {
      await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await ch.close();
    });
    const proxy = await outageProxy(new URL(url));
    t.teardown(() => proxy.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'hb-analytics-restarts-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const HEARTBEAT_MS = 500;
    const env = { CLICKHOUSE_URL: proxy.url, HALOBUZZ_CLICKHOUSE_DATABASE: database, HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_ANALYTICS_HEARTBEAT_MS: String(HEARTBEAT_MS) };
    const from = Math.floor(Date.now() / 1000) - 60;
    const visits: ScriptedVisit[] = [];
    const open = new Map<HaloClient, { user: string; rooms: Map<string, number> }>();
    let server = await startServer(env, dataDir);
    const connect = async (user: string, client: ClientOptions['client'] = { platform: 'ios', app: '7.0', country: 'NP' }) => {
      const c = new HaloClient({ url: server.url, token: server.token(user), webSocket: nodeWebSocket, reconnect: false, client });
      await c.connect();
      open.set(c, { user, rooms: new Map() });
      return c;
    };
    const join_ = async (c: HaloClient, room: string, role: Role = Role.VIEWER) => {
      await c.join(room, role);
      open.get(c)!.rooms.set(room, Date.now());
    };
    const leave = async (c: HaloClient, room: string) => {
      const s = open.get(c)!;
      const ended = Date.now();
      await c.leave(room);
      visits.push({ user: s.user, room, joined: s.rooms.get(room)!, ended, endedBy: 'client' });
      s.rooms.delete(room);
    };
    /** Everything still open ends at `at`, ended by `by` (a server stop or a crash). */
    const endAll = (at: number, by: 'server' | 'crash' | 'client') => {
      for (const s of open.values()) for (const [room, joined] of s.rooms) visits.push({ user: s.user, room, joined, ended: at, endedBy: by });
      open.clear();
    };
    const mint = async (user: string) => fetch(`${server.http}/debug/mint?user=${user}&coins=1000&op=mint-${user}-${randomUUID()}`, { method: 'POST' });
    const gifts: { room: string; user: string; giftId: string; count: number; coins: number }[] = [];
    const gift = async (c: HaloClient, room: string, giftId: 'rose' | 'coffee', count: number) => {
      const r = await c.gift(room, giftId, count, randomUUID());
      gifts.push({ room, user: open.get(c)!.user, giftId, count, coins: r.coins });
    };
    const chats: string[] = [];
    const chat = async (c: HaloClient, room: string) => {
      await c.chat(room, `hi from ${open.get(c)!.user}`);
      chats.push(room);
    };

    // Act 1: two live rooms, viewers chat and gift; one viewer leaves; ClickHouse pauses; SIGTERM with everyone still connected.
    for (const u of ['a', 'b', 'd', 'f', 'g']) await mint(u);
    const h1 = await connect('h1', {});
    await join_(h1, 'ev1', Role.HOST);
    const h2 = await connect('h2', {});
    await join_(h2, 'ev2', Role.HOST);
    const a = await connect('a');
    const b = await connect('b', { platform: 'android', app: '6.9', country: 'US' });
    const c = await connect('c');
    for (const v of [a, b, c]) await join_(v, 'ev1');
    const d = await connect('d', { platform: 'android', app: '7.0', country: 'IN' });
    const e = await connect('e');
    for (const v of [d, e]) await join_(v, 'ev2');
    await chat(a, 'ev1');
    await chat(b, 'ev1');
    await chat(b, 'ev1');
    await chat(d, 'ev2');
    await gift(a, 'ev1', 'rose', 1);
    await gift(d, 'ev2', 'coffee', 1);
    await new Promise((r) => setTimeout(r, 1000));
    await leave(a, 'ev1');
    a.close();
    proxy.down();
    await chat(c, 'ev1');
    await chat(e, 'ev2');
    await gift(b, 'ev1', 'rose', 2);
    await new Promise((r) => setTimeout(r, 2000));
    proxy.up();
    t.pass('the sockets kept serving through the ClickHouse pause');
    await new Promise((r) => setTimeout(r, 1000));
    const termAt = Date.now();
    t.equal(await server.stop(), 0, 'SIGTERM with 6 clients connected exits cleanly');
    t.ok([h1, h2, b, c, d, e].every((x) => !x.connected), 'and their sockets were closed by the server');
    endAll(termAt, 'server');

    // Act 2: a restart; viewers come back; a chat and a gift are acknowledged, then SIGKILL.
    server = await startServer(env, dataDir);
    const h1b = await connect('h1', {});
    await join_(h1b, 'ev1', Role.HOST);
    const b2 = await connect('b', { platform: 'android', app: '6.9', country: 'US' });
    const f = await connect('f', { platform: 'web', app: '7.0', country: 'DE' });
    for (const v of [b2, f]) await join_(v, 'ev1');
    await new Promise((r) => setTimeout(r, 1500));
    await chat(f, 'ev1');
    await gift(f, 'ev1', 'coffee', 1);
    await chat(b2, 'ev1');
    const killAt = Date.now();
    await server.kill();
    endAll(killAt, 'crash');

    // Act 3: the node comes back on the same data folder; the evening ends normally.
    server = await startServer(env, dataDir);
    const h1c = await connect('h1', {});
    await join_(h1c, 'ev1', Role.HOST);
    const g2 = await connect('g', { platform: 'ios', app: '7.1', country: 'NP' });
    await join_(g2, 'ev1');
    await chat(g2, 'ev1');
    await gift(g2, 'ev1', 'rose', 3);
    await new Promise((r) => setTimeout(r, 800));
    await leave(g2, 'ev1');
    g2.close();
    await h1c.endStream('ev1');
    await leave(h1c, 'ev1');
    h1c.close();
    open.clear();
    await waitFor('every socket closed on the server', async () => /halobuzz_connections 0\b/.test(await (await fetch(`${server.http}/metrics`)).text()), 10_000);
    t.equal(await server.stop(), 0);
    t.ok(termAt < killAt, 'script order');

    const to = Math.floor(Date.now() / 1000) + 60;
    const db = createClient({ url, database });
    t.teardown(() => db.close());
    const q = async (sql: string) => (await (await db.query({ query: sql, format: 'JSONEachRow' })).json()) as Record<string, string | number>[];
    const run = async (name: string, room?: string) => (await q(QUERIES[name]!.sql(checkParams({ from, to, ...(room ? { room } : {}) })))).map(normalizeRow);

    // Every event once.
    const byType = Object.fromEntries((await q('SELECT type, count() AS n, uniqExact(id) AS ids FROM events FINAL GROUP BY type')).map((r) => [r.type, [Number(r.n), Number(r.ids)]]));
    const sessions = 7 + 3 + 2;
    t.same(byType, {
      connect: [sessions, sessions], disconnect: [sessions, sessions], join: [visits.length, visits.length], leave: [visits.length, visits.length],
      chat: [chats.length, chats.length], gift: [gifts.length, gifts.length], room_start: [2, 2], room_end: [1, 1],
    }, 'each event exactly once: the SIGTERM\'s leaves and disconnects, the acknowledged chat and gift before the SIGKILL, the crash-closed visits');
    t.same(await q("SELECT count() AS n FROM events FINAL WHERE type = 'join' AND id NOT IN (SELECT visit FROM events FINAL WHERE type = 'leave')"), [{ n: '0' }], 'every join has its leave');

    // Watch times: each visit's leave against the script's clock.
    const leaves = await q("SELECT user, room, ts_ms - duration_ms AS joined, ts_ms AS ended, ended_by FROM events FINAL WHERE type = 'leave' ORDER BY user, joined");
    const script = [...visits].sort((x, y) => (x.user === y.user ? x.joined - y.joined : x.user < y.user ? -1 : 1));
    t.equal(leaves.length, script.length);
    script.forEach((v, i) => {
      const got = leaves[i]!;
      const tolerance = v.endedBy === 'crash' ? HEARTBEAT_MS + 1000 : 2000;
      const watched = Number(got.ended) - Number(got.joined);
      t.ok(got.user === v.user && got.room === v.room && got.ended_by === v.endedBy && Math.abs(watched - (v.ended - v.joined)) <= tolerance,
        `${v.user} in ${v.room}: watched ${watched} ms, ended by ${String(got.ended_by)}; the script says ${v.ended - v.joined} ms, ${v.endedBy}`);
    });
    const disconnects = Object.fromEntries((await q("SELECT ended_by, count() AS n FROM events FINAL WHERE type = 'disconnect' GROUP BY ended_by")).map((r) => [r.ended_by, Number(r.n)]));
    t.same(disconnects, { client: 3, server: 6, crash: 3 }, 'disconnects: a, g and h1 left; six at the SIGTERM; three at the SIGKILL');

    // The named queries on this evening.
    const cv = await run('concurrent_viewers');
    t.equal(cv.at(-1)![1], 0, 'concurrent viewers back to 0 after everyone left');
    t.equal(Math.max(...cv.map((r) => Number(r[2]))), 5, 'at most five viewers at once (hosts are not viewers)');
    const coins = (room?: string) => gifts.filter((x) => !room || x.room === room).reduce((n, x) => n + x.coins, 0);
    const creatorPart = (room?: string) => gifts.filter((x) => !room || x.room === room).reduce((n, x) => n + x.coins - Math.floor((x.coins * 3000) / 10_000), 0);
    const gifters = (room?: string) => new Set(gifts.filter((x) => !room || x.room === room).map((x) => x.user)).size;
    t.same(await run('revenue_summary'), [[coins(), creatorPart(), coins() - creatorPart(), gifts.length, gifters(), Math.round((coins() / gifters()) * 100) / 100]], 'revenue summary');
    t.same(await run('revenue_summary', 'ev2'), [[coins('ev2'), creatorPart('ev2'), coins('ev2') - creatorPart('ev2'), 1, 1, coins('ev2')]], 'revenue summary, one room');
    const units = (room: string | undefined, giftId: string) => gifts.filter((x) => (!room || x.room === room) && x.giftId === giftId).reduce((n, x) => n + x.count, 0);
    t.same(await run('top_gifts', 'ev1'), [['coffee', units('ev1', 'coffee'), 10 * units('ev1', 'coffee')], ['rose', units('ev1', 'rose'), units('ev1', 'rose')]], 'top gifts in ev1');
    t.same(await run('top_creators'), [['h1', coins('ev1'), creatorPart('ev1'), 4, 4], ['h2', coins('ev2'), creatorPart('ev2'), 1, 1]], 'top creators');
    t.equal((await run('chat_activity')).reduce((n, r) => n + Number(r[1]), 0), chats.length, 'every acknowledged chat');
    t.equal((await run('chat_activity', 'ev2')).reduce((n, r) => n + Number(r[1]), 0), chats.filter((r) => r === 'ev2').length, 'chats in ev2 only');
    t.same(await run('funnel'), [['join', 7], ['chat', 7], ['gift', 5], ['purchase', 0]], 'funnel: a to g joined and chatted; a b d f g gifted; no purchases yet');
    t.same((await run('watch_time_distribution', 'ev2')).map((r) => r[1]), [2], 'two viewer visits in ev2, both under a minute');
    const streams = await run('stream_report');
    t.same(streams.map((r) => [r[0], r[2], r[5], r[7], r[9], r[10], r[13]]), [
      ['ev1', 'h1', 0, 3, 4, coins('ev1'), chats.filter((r) => r === 'ev1').length],
      ['ev2', 'h2', 1, 2, 1, coins('ev2'), chats.filter((r) => r === 'ev2').length],
    ], 'streams: ev1 ended (peak 3 viewers), ev2 still live (peak 2)');
    const byCountry = await run('viewers_by_country', 'ev1');
    t.same(byCountry.map((r) => [r[0], r[1], r[2]]), [['NP', 3, 3], ['DE', 1, 1], ['US', 1, 2]], 'ev1 viewers by country: a c g (NP), f (DE), b twice (US)');
  });
}

if (url) {
  t.test('ClickHouse down during traffic: sockets keep working, events wait, then arrive once', async (t) => {
    const proxy = await outageProxy(new URL(url));
    t.teardown(() => proxy.close());
    const database = `analytics_outage_${process.pid}_${Date.now()}`;
    t.teardown(async () => {
      const c = createClient({ url });
      await c.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await c.close();
    });
    const server = await startServer({ CLICKHOUSE_URL: proxy.url, HALOBUZZ_CLICKHOUSE_DATABASE: database, HALOBUZZ_CHAT_BURST: '100', HALOBUZZ_CHAT_PER_SECOND: '100', HALOBUZZ_USER_CHAT_BURST: '100', HALOBUZZ_USER_CHAT_PER_SECOND: '100' });
    t.teardown(() => server.stop());
    proxy.down();
    const host = server.client('host');
    await host.connect();
    await host.join('outage', Role.HOST);
    for (let i = 0; i < 20; i++) await host.chat('outage', `during the outage ${i}`);
    t.ok((await host.ping()).ts > 0, 'the socket core kept serving while ClickHouse was unreachable');
    await new Promise((r) => setTimeout(r, 1500));
    const metrics = await (await fetch(`${server.http}/metrics`)).text();
    t.match(metrics, /halobuzz_analytics_events_total\{outcome="failed"\} [1-9]/, 'deliveries failed and were counted');
    t.match(metrics, /halobuzz_analytics_queued [1-9]/, 'events are waiting in the queue');
    proxy.up();
    const db = createClient({ url, database });
    t.teardown(() => db.close());
    let chats = 0;
    const deadline = Date.now() + 40_000;
    while (chats < 20 && Date.now() < deadline) {
      const rows = (await (await db.query({ query: "SELECT count() AS n FROM events FINAL WHERE type = 'chat'", format: 'JSONEachRow' })).json()) as { n: string }[];
      chats = Number(rows[0]!.n);
      if (chats < 20) await new Promise((r) => setTimeout(r, 250));
    }
    t.equal(chats, 20, 'after ClickHouse returned, every chat event arrived, once');
    host.close();
  });
}
