/**
 * Load scenarios, each run against several targets back to back on the same machine. A scenario measures
 * one target and returns its numbers; `compare` runs it per target and reports ratios against the
 * baseline (and the ceiling where it applies).
 */
import { join } from 'node:path';
import { LatencyRecorder } from './latency';
import { nowMs, openMany } from './load-client';
import { Progress } from './progress';
import { connect, type BenchConn, type Deliveries } from './drivers';
import { startTarget, type Target, type TargetName } from './targets';
import type { CpuTimes } from '../tools/server-process';
import { CompiledViewers } from './loadgen';

export interface Measured {
  readonly metrics: Record<string, number>;
  readonly latency?: LatencyRecorder;
}

export interface Scenario<P> {
  readonly name: string;
  readonly defaults: P;
  readonly quick: P;
  readonly targets: readonly TargetName[];
  /** Start each target with `--expose-gc` and bench/gc-on-signal preloaded, for `settledRssBytes`. */
  readonly settlesGarbage?: boolean;
  run(target: Target, params: P): Promise<Measured>;
}

/** Connections per loopback source address, under the ephemeral port range (32768–60999). */
const PER_SOURCE = 25_000;
export const sourceAddress = (i: number) => `127.0.0.${2 + Math.floor(i / PER_SOURCE)}`;

function latencySink(latency: LatencyRecorder, counts: { chats: number; gifts: number }): Deliveries {
  return {
    onChat: (text) => {
      counts.chats++;
      latency.record(nowMs() - Number(text.slice(0, text.indexOf('|'))));
    },
    onGift: () => void counts.gifts++,
  };
}

export const quietSink: Deliveries = { onChat: () => undefined, onGift: () => undefined };

async function openViewers(target: Target, label: string, n: number, sink: (i: number) => Deliveries, room?: (i: number) => string): Promise<{ conns: BenchConn[]; perSecond: number }> {
  const progress = new Progress(`${target.name}: ${label}`, n);
  const t0 = Date.now();
  const conns = await openMany(n, 64, async (i) => {
    const c = await connect(target, `viewer${i}`, sink(i), sourceAddress(i));
    if (room) await c.join(room(i));
    return c;
  }, (done) => progress.update(done));
  const perSecond = n / ((Date.now() - t0) / 1000);
  progress.done(`${perSecond.toFixed(0)} conn/s`);
  return { conns, perSecond };
}

/** Sends `total` messages spread evenly over time from `send(k)`, in 10 ms ticks. */
export async function paced(total: number, perSecond: number, send: (k: number) => void, onTick: (sent: number) => void): Promise<void> {
  let sent = 0;
  let owed = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      owed += perSecond / 100;
      while (owed >= 1 && sent < total) {
        owed -= 1;
        send(sent++);
      }
      onTick(sent);
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
}

export async function drain(expected: () => boolean, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!expected() && Date.now() - start < ms) await new Promise((r) => setTimeout(r, 20));
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

// 1. Connect storm and idle hold.
export interface ConnectParams { connections: number; hold: number }
export const connectScenario: Scenario<ConnectParams> = {
  name: 'connect',
  defaults: { connections: 10_000, hold: 5 },
  quick: { connections: 300, hold: 1 },
  targets: ['halobuzz', 'halobuzz-ws', 'socketio'],
  async run(target, p) {
    await pause(300);
    const before = target.server.rssBytes();
    const { conns, perSecond } = await openViewers(target, 'connecting', p.connections, () => quietSink);
    await pause(p.hold * 1000);
    const after = target.server.rssBytes();
    for (const c of conns) c.close();
    return { metrics: { connectPerSecond: Math.round(perSecond), rssBefore: before, rssAfter: after, rssBytesPerConnection: Math.round((after - before) / p.connections) } };
  },
};

// 1b. Memory at scale: RSS per connection once the garbage is collected, idle and subscribed.
export interface MemoryParams { connections: number }

/** Runs a server with a collectable heap in every thread (bench/gc-on-signal) for `settledRssBytes`. */
const SETTLING_LAUNCHER = [process.execPath, '--expose-gc', '-r', join(__dirname, 'gc-on-signal.js')];

/** The server's RSS after full collections in every thread (a target of a scenario that `settlesGarbage`). */
export async function settledRssBytes(target: Target): Promise<number> {
  // Without the preload the signal would kill the server.
  if (target.options.launcher !== SETTLING_LAUNCHER) throw new Error(`${target.name} was not started to settle its garbage`);
  // Three rounds: a collection can only free what the finalizers of the previous one let go.
  for (let round = 0; round < 3; round++) {
    target.server.child.kill('SIGUSR2');
    await pause(500);
  }
  return target.server.rssBytes();
}

/**
 * Loopback source addresses this process has not used yet: a connection the generator closed holds its
 * port in TIME_WAIT for a minute, so back-to-back storms of 18,000 need addresses of their own.
 */
let sourcesTaken = 0;
function freshSources(n: number): number {
  const first = sourcesTaken;
  sourcesTaken += Math.ceil(n / PER_SOURCE) * PER_SOURCE;
  return first;
}

/** Settled RSS of `target` empty, then with `n` compiled viewers in `room` ('' = hello only, no join). */
async function rssPerConnection(target: Target, n: number, room: string): Promise<{ baseline: number; perConnection: number }> {
  const baseline = await settledRssBytes(target);
  const viewers = await startCompiledViewers(target, n, room, 1, freshSources(n));
  const loaded = await settledRssBytes(target);
  await viewers.stop();
  return { baseline, perConnection: Math.round((loaded - baseline) / n) };
}

export const memoryScenario: Scenario<MemoryParams> = {
  name: 'memory',
  // The fd limit here is 20,000 per process (bench/README.md § How the load generator works).
  defaults: { connections: 18_000 },
  quick: { connections: 300 },
  targets: ['halobuzz', 'socketio', 'uws-raw'],
  settlesGarbage: true,
  async run(target, p) {
    await pause(1000);
    const idle = await rssPerConnection(target, p.connections, '');
    // The subscribed count on a fresh twin: this server would reuse what the idle connections freed.
    const twin = await startTarget(target.name, target.options);
    try {
      await pause(1000);
      const subscribed = await rssPerConnection(twin, p.connections, 'memory');
      return { metrics: { connections: p.connections, baselineRssBytes: idle.baseline, idleBytesPerConnection: idle.perConnection, subscribedBytesPerConnection: subscribed.perConnection } };
    } finally {
      await twin.server.stop();
    }
  },
};

// 2. Fan-out: one room, V viewers, S senders.
export interface FanoutParams { viewers: number; senders: number; rate: number; seconds: number; payload: number; compiled: number }

/** The viewers' side of a fan-out run: who counts the chats, and what that costs. */
interface ViewerSide {
  received(): number;
  /** CPU seconds the viewers' generator has used so far. */
  cpuSeconds(): number;
  /** Closes the viewers; the latency of every chat received. */
  finish(): Promise<LatencyRecorder>;
}

/** Node viewers in this process (the generator's CPU then includes the senders'). */
async function nodeViewers(target: Target, n: number, room: string): Promise<ViewerSide> {
  const latency = new LatencyRecorder();
  const counts = { chats: 0, gifts: 0 };
  const { conns } = await openViewers(target, 'viewers', n, () => latencySink(latency, counts), () => room);
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  return { received: () => counts.chats, cpuSeconds: cpu, finish: async () => {
    for (const c of conns) c.close();
    return latency;
  } };
}

/** Where a target's load connections go: its protocol v1 endpoint, or Socket.IO's WebSocket transport. */
export function socketUrl(target: Target): string {
  return target.protocol === 'socketio' ? `ws://127.0.0.1:${target.server.port}/socket.io/?EIO=4&transport=websocket` : target.server.url;
}

/**
 * Starts `n` compiled viewers (bench/loadgen) of `target` in `room` (or, with `roomCount` above 1, spread
 * over `${room}0` … in turn), with a progress line.
 */
export async function startCompiledViewers(target: Target, n: number, room: string, roomCount = 1, firstSource = 0): Promise<CompiledViewers> {
  const progress = new Progress(`${target.name}: viewers (compiled)`, n);
  const t0 = Date.now();
  const viewers = await CompiledViewers.start({
    protocol: target.protocol, url: socketUrl(target), room, roomCount,
    tokens: Array.from({ length: n }, (_, i) => target.server.token(`viewer${i}`)),
    sources: Array.from({ length: n }, (_, i) => sourceAddress(firstSource + i)),
    onProgress: (done) => progress.update(done),
  });
  progress.done(`${(n / ((Date.now() - t0) / 1000)).toFixed(0)} conn/s`);
  return viewers;
}

/** Latency samples as a recorder. */
export function recorderOf(samples: Float32Array): LatencyRecorder {
  const recorder = new LatencyRecorder();
  for (const ms of samples) recorder.record(ms);
  return recorder;
}

/** The compiled viewers, on one core of their own. */
async function compiledViewers(target: Target, n: number, room: string): Promise<ViewerSide> {
  const viewers = await startCompiledViewers(target, n, room);
  return { received: () => viewers.received(), cpuSeconds: () => viewers.cpuSeconds(), finish: async () => recorderOf((await viewers.stop()).latencies) };
}

/** `n` sender connections, sender i in `roomOf(i)` (the first of each room as its host), for the load. */
export async function openSenders(target: Target, n: number, roomOf: (i: number) => string): Promise<BenchConn[]> {
  return openMany(n, 64, async (i) => {
    const c = await connect(target, `sender${i}`, quietSink);
    await c.join(roomOf(i), i === 0 || roomOf(i) !== roomOf(i - 1));
    return c;
  }, () => undefined);
}

/** The server's CPU seconds per second while nothing is sent (timers, heartbeats), to subtract from a load window. */
export async function idleCpuPerSecond(target: Target): Promise<CpuTimes> {
  const start = target.server.cpuTimes();
  await pause(1000);
  const end = target.server.cpuTimes();
  return { user: end.user - start.user, system: end.system - start.system };
}

/** The server's CPU seconds between `before` and `after` (`seconds` apart) above its idle rate: all of it, and user space alone. */
export function cpuAboveIdle(idle: CpuTimes, before: CpuTimes, after: CpuTimes, seconds: number): { total: number; user: number } {
  const user = Math.max(0, after.user - before.user - idle.user * seconds);
  const system = Math.max(0, after.system - before.system - idle.system * seconds);
  return { total: user + system, user };
}

/** CPU seconds per delivery in µs (= ms per thousand deliveries), to 3 decimals. */
export const microsPerDelivery = (cpuSeconds: number, delivered: number) => Number(((cpuSeconds * 1e6) / Math.max(1, delivered)).toFixed(3));

export const fanoutScenario: Scenario<FanoutParams> = {
  name: 'fanout',
  defaults: { viewers: 2000, senders: 2, rate: 100, seconds: 10, payload: 64, compiled: 1 },
  quick: { viewers: 200, senders: 1, rate: 20, seconds: 2, payload: 64, compiled: 1 },
  targets: ['halobuzz', 'halobuzz-ws', 'socketio', 'uws-raw'],
  async run(target, p) {
    const room = 'fanout';
    await pause(300);
    const before = target.server.rssBytes();
    const viewers = await (p.compiled ? compiledViewers : nodeViewers)(target, p.viewers, room);
    await pause(500);
    const after = target.server.rssBytes();
    const senders = await openSenders(target, p.senders, () => room);
    const pad = 'x'.repeat(Math.max(0, p.payload - 20));
    const total = p.senders * p.rate * p.seconds;
    const idlePerSecond = await idleCpuPerSecond(target);
    const progress = new Progress(`${target.name}: fan-out`, total);
    const cpuBefore = target.server.cpuTimes();
    const generatorBefore = viewers.cpuSeconds();
    const sendersBefore = process.cpuUsage();
    const start = Date.now();
    await paced(total, p.senders * p.rate, (k) => senders[k % p.senders]!.chat(room, `${nowMs().toFixed(3)}|${pad}`), (sent) => progress.update(sent, `delivered ${viewers.received()}`));
    const expected = total * p.viewers;
    await drain(() => viewers.received() >= expected);
    const elapsed = (Date.now() - start) / 1000;
    const cpu = cpuAboveIdle(idlePerSecond, cpuBefore, target.server.cpuTimes(), elapsed);
    const generatorSeconds = viewers.cpuSeconds() - generatorBefore;
    const sendersCpu = process.cpuUsage(sendersBefore);
    const delivered = viewers.received();
    progress.done(`delivered ${delivered}/${expected}`);
    for (const c of senders) c.close();
    const latency = await viewers.finish();
    return {
      latency,
      metrics: {
        offeredPerSecond: p.senders * p.rate * p.viewers, deliveredPerSecond: Math.round(delivered / elapsed),
        delivered, expected, p50: latency.summary().p50, p99: latency.summary().p99, p999: latency.summary().p999,
        rssBytesPerConnection: Math.round((after - before) / p.viewers),
        // What the server spent, whoever set the pace, above its idle rate: CPU milliseconds per thousand
        // deliveries (= µs per delivery). /proc ticks are 10 ms: short runs are coarse.
        serverCpuMsPer1kDeliveries: microsPerDelivery(cpu.total, delivered),
        // The same in user space alone: the server's own code, without the kernel's socket writes.
        serverUserCpuUsPerDelivery: microsPerDelivery(cpu.user, delivered),
        // What the viewers' generator spent per message it received, and how much of its one core it used:
        // near 1, the generator set the pace and throughput ratios say nothing about the servers.
        generatorCpuUsPerReceived: Number(((generatorSeconds * 1e6) / Math.max(1, delivered)).toFixed(3)),
        generatorCoreShare: Number((generatorSeconds / elapsed).toFixed(3)),
        // The senders (this Node process) when the viewers are compiled; with Node viewers it is the same core.
        ...(p.compiled ? { senderCoreShare: Number(((sendersCpu.user + sendersCpu.system) / 1e6 / elapsed).toFixed(3)) } : {}),
      },
    };
  },
};

// 2b. Routing: the same fan-out on one node with direct routing and through the log (the cluster's path).
export const routingScenario: Scenario<FanoutParams> = {
  ...fanoutScenario,
  name: 'routing',
  targets: ['halobuzz', 'halobuzz-log'],
};

// 3. Many rooms: R rooms × V viewers, each room with a chatting sender and a share of gifts.
export interface RoomsParams { rooms: number; viewers: number; rate: number; giftShare: number; seconds: number }
export const roomsScenario: Scenario<RoomsParams> = {
  name: 'rooms',
  defaults: { rooms: 50, viewers: 40, rate: 10, giftShare: 0.2, seconds: 10 },
  quick: { rooms: 5, viewers: 10, rate: 5, giftShare: 0.2, seconds: 2 },
  targets: ['halobuzz', 'socketio'],
  async run(target, p) {
    const latency = new LatencyRecorder();
    const counts = { chats: 0, gifts: 0 };
    const roomOf = (i: number) => `room${i % p.rooms}`;
    const { conns } = await openViewers(target, 'viewers', p.rooms * p.viewers, () => latencySink(latency, counts), roomOf);
    const hosts = await Promise.all(Array.from({ length: p.rooms }, async (_, r) => {
      const c = await connect(target, `host${r}`, quietSink);
      await c.join(`room${r}`, true);
      return c;
    }));
    // Gifts come from viewers with coins (HaloBuzz mints them through its debug route).
    const gifters = conns.slice(0, p.rooms);
    if (target.name === 'halobuzz') {
      await Promise.all(gifters.map((_, i) => fetch(`${target.server.http}/debug/mint?user=viewer${i}&coins=100000000&op=bench-mint-${i}-${Date.now()}`, { method: 'POST' })));
    }
    const total = p.rooms * p.rate * p.seconds;
    const progress = new Progress(`${target.name}: rooms`, total);
    let giftsSent = 0;
    const start = Date.now();
    await paced(total, p.rooms * p.rate, (k) => {
      const r = k % p.rooms;
      if ((k * 7919) % 100 < p.giftShare * 100) {
        gifters[r]!.gift(`room${r}`);
        giftsSent++;
      } else {
        hosts[r]!.chat(`room${r}`, `${nowMs().toFixed(3)}|evening chat`);
      }
    }, (sent) => progress.update(sent, `chats ${counts.chats} gifts ${counts.gifts}`));
    const expectedChats = (total - giftsSent) * p.viewers;
    const expectedGifts = giftsSent * p.viewers;
    await drain(() => counts.chats >= expectedChats && counts.gifts >= expectedGifts);
    const elapsed = (Date.now() - start) / 1000;
    progress.done(`chats ${counts.chats}/${expectedChats} gifts ${counts.gifts}/${expectedGifts}`);
    for (const c of [...conns, ...hosts]) c.close();
    const s = latency.summary();
    return {
      latency,
      metrics: { deliveredPerSecond: Math.round((counts.chats + counts.gifts) / elapsed), chatsDelivered: counts.chats, giftsDelivered: counts.gifts, expected: expectedChats + expectedGifts, p50: s.p50, p99: s.p99, p999: s.p999 },
    };
  },
};

// 4. Slow consumers: a share of viewers stop reading; the others' latency must not suffer.
export interface SlowParams { viewers: number; slowShare: number; rate: number; seconds: number; payload: number }
export const slowScenario: Scenario<SlowParams> = {
  name: 'slow',
  defaults: { viewers: 1000, slowShare: 0.1, rate: 200, seconds: 10, payload: 400 },
  quick: { viewers: 100, slowShare: 0.1, rate: 50, seconds: 2, payload: 200 },
  targets: ['halobuzz', 'socketio'],
  async run(target, p) {
    const room = 'slow';
    const latency = new LatencyRecorder();
    const counts = { chats: 0, gifts: 0 };
    const slowCount = Math.round(p.viewers * p.slowShare);
    const { conns } = await openViewers(target, 'viewers', p.viewers, (i) => (i < slowCount ? quietSink : latencySink(latency, counts)), () => room);
    for (const c of conns.slice(0, slowCount)) c.pause();
    const sender = await connect(target, 'sender', quietSink);
    await sender.join(room, true);
    const pad = 'x'.repeat(Math.max(0, p.payload - 20));
    const total = p.rate * p.seconds;
    const progress = new Progress(`${target.name}: slow consumers`, total);
    await paced(total, p.rate, () => sender.chat(room, `${nowMs().toFixed(3)}|${pad}`), (sent) => progress.update(sent, `healthy got ${counts.chats}`));
    const expected = total * (p.viewers - slowCount);
    await drain(() => counts.chats >= expected);
    progress.done(`healthy got ${counts.chats}/${expected}`);
    const slowClosed = conns.slice(0, slowCount).filter((c) => c.closedCode() !== null).length;
    for (const c of [...conns, sender]) c.close();
    const s = latency.summary();
    return { latency, metrics: { healthyDelivered: counts.chats, expected, p50: s.p50, p99: s.p99, p999: s.p999, slowViewers: slowCount, slowDisconnected: slowClosed } };
  },
};

export const scenarios = { connect: connectScenario, memory: memoryScenario, fanout: fanoutScenario, routing: routingScenario, rooms: roomsScenario, slow: slowScenario } as const;

export interface Comparison {
  readonly scenario: string;
  readonly params: unknown;
  readonly results: { target: TargetName; label: string; metrics: Record<string, number> }[];
  readonly ratios: Record<string, number>;
  readonly latencies: { name: string; latency: LatencyRecorder }[];
  /**
   * Why throughput ratios of this run say nothing about the servers, if they do not: the generator used
   * most of its core for some target, or the raw uWS ceiling did not beat HaloBuzz (so neither was the limit).
   * CPU per delivery stays valid either way: it does not depend on who set the pace.
   */
  readonly generatorBound: string[];
}

/** Runs one scenario against each of its targets, one after another, and computes the ratios. */
export async function compare<P>(scenario: Scenario<P>, params: P, workers: number): Promise<Comparison> {
  const results: Comparison['results'] = [];
  const latencies: Comparison['latencies'] = [];
  for (const name of scenario.targets) {
    const target = await startTarget(name, { workers, ...(scenario.settlesGarbage ? { launcher: SETTLING_LAUNCHER } : {}) });
    try {
      const measured = await scenario.run(target, params);
      results.push({ target: name, label: target.label, metrics: measured.metrics });
      if (measured.latency) latencies.push({ name: target.label, latency: measured.latency });
    } finally {
      await target.server.stop();
    }
  }
  const of = (t: TargetName) => results.find((r) => r.target === t)?.metrics;
  const base = of('socketio');
  const ceiling = of('uws-raw');
  const ratios: Record<string, number> = {};
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? Math.round((a / b) * 100) / 100 : NaN);
  const versus = (prefix: string, ours: Record<string, number> | undefined, other: Record<string, number> | undefined, suffix: string) => {
    if (!ours || !other) return;
    if (ours.deliveredPerSecond) ratios[`${prefix}throughputVs${suffix}`] = ratio(ours.deliveredPerSecond, other.deliveredPerSecond);
    if (ours.p99 !== undefined) ratios[`${prefix}p99Vs${suffix}`] = ratio(ours.p99, other.p99);
    if (ours.rssBytesPerConnection) ratios[`${prefix}memoryPerConnectionVs${suffix}`] = ratio(ours.rssBytesPerConnection, other.rssBytesPerConnection);
    if (ours.connectPerSecond) ratios[`${prefix}connectRateVs${suffix}`] = ratio(ours.connectPerSecond, other.connectPerSecond);
  };
  // HaloBuzz on its default transport, and on ws, against the baseline; then what the default buys over ws.
  versus('', of('halobuzz'), base, 'Baseline');
  versus('ws.', of('halobuzz-ws'), base, 'Baseline');
  versus('', of('halobuzz'), of('halobuzz-ws'), 'Ws');
  versus('', of('halobuzz'), of('halobuzz-log'), 'Log');
  const direct = of('halobuzz');
  const logged = of('halobuzz-log');
  if (direct?.serverCpuMsPer1kDeliveries && logged?.serverCpuMsPer1kDeliveries) ratios.cpuPerDeliveryLogVsDirect = ratio(logged.serverCpuMsPer1kDeliveries, direct.serverCpuMsPer1kDeliveries);
  const ours = of('halobuzz');
  if (ours && ceiling && ours.deliveredPerSecond) ratios.shareOfCeiling = ratio(ours.deliveredPerSecond, ceiling.deliveredPerSecond);
  if (ours?.serverCpuMsPer1kDeliveries) {
    if (base?.serverCpuMsPer1kDeliveries) ratios.cpuPerDeliveryVsBaseline = ratio(ours.serverCpuMsPer1kDeliveries, base.serverCpuMsPer1kDeliveries);
    if (ceiling?.serverCpuMsPer1kDeliveries) ratios.cpuPerDeliveryVsCeiling = ratio(ours.serverCpuMsPer1kDeliveries, ceiling.serverCpuMsPer1kDeliveries);
  }
  if (ours?.serverUserCpuUsPerDelivery) {
    if (base?.serverUserCpuUsPerDelivery) ratios.userCpuPerDeliveryVsBaseline = ratio(ours.serverUserCpuUsPerDelivery, base.serverUserCpuUsPerDelivery);
    if (ceiling?.serverUserCpuUsPerDelivery) ratios.userCpuPerDeliveryVsCeiling = ratio(ours.serverUserCpuUsPerDelivery, ceiling.serverUserCpuUsPerDelivery);
  }
  for (const kind of ['idle', 'subscribed'] as const) {
    const perConnection = (m: Record<string, number> | undefined) => m?.[`${kind}BytesPerConnection`];
    if (!perConnection(ours)) continue;
    if (perConnection(base)) ratios[`${kind}MemoryVsBaseline`] = ratio(perConnection(ours), perConnection(base));
    if (perConnection(ceiling)) ratios[`${kind}MemoryVsCeiling`] = ratio(perConnection(ours), perConnection(ceiling));
  }
  const generatorBound: string[] = [];
  for (const r of results) {
    if ((r.metrics.generatorCoreShare ?? 0) >= 0.8) generatorBound.push(`the viewers' generator used ${Math.round(r.metrics.generatorCoreShare! * 100)}% of its core against ${r.label}`);
    if ((r.metrics.senderCoreShare ?? 0) >= 0.8) generatorBound.push(`the senders used ${Math.round(r.metrics.senderCoreShare! * 100)}% of their core against ${r.label}`);
  }
  if (ratios.shareOfCeiling >= 1) generatorBound.push(`the raw uWS ceiling did not beat HaloBuzz (${ratios.shareOfCeiling}×)`);
  return { scenario: scenario.name, params, results, ratios, latencies, generatorBound };
}
