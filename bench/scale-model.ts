/**
 * `npm run bench -- scale`: how many socket nodes a target load needs, computed from costs measured on
 * this machine (docs/scale.md explains the model and what breaks first).
 *
 * Measured inputs, read from the newest full-size runs in bench/results/ (the defaults below are the
 * values of 2026-11-26 when a run is missing):
 * - CPU per delivery in one big room (fanout: whole server process, user + kernel);
 * - CPU per message beyond its deliveries (capacity in 1,000 rooms × 10 viewers, last good step: the
 *   per-delivery cost there minus the big room's, times the viewers per room);
 * - memory per subscribed connection and the empty server (memory);
 * - the CPU a node spends reading one copy of an event record: consuming it from Kafka through the
 *   project's bus (kafkajs fetch, record-batch decode), timed here with KAFKA_BROKERS set, plus decoding
 *   it and looking for what is the node's own, timed here always. Without Kafka only the second part is
 *   counted, and the model is optimistic where records are read many times.
 *
 * The model: messages/s = deliveries/s ÷ viewers per room; CPU = deliveries × delivery cost + messages ×
 * message cost + what each node spends on records it reads. Without interest routing every node reads
 * every room's records; with it, a record goes to the nodes holding the room's viewers: with viewers
 * placed at random, N·(1 − (1 − 1/N)^v) nodes per room; with placement (viewers of a room gathered on
 * the nodes already serving it), about one. Nodes are added until CPU (at the target utilisation) and
 * memory fit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeInternal as encode, decodeInternal as decode } from '../common/internal-codec';
import { writeResult } from './results';
import { KafkaBus } from '../adapters/bus/kafka-bus';
import { wholeBatch } from '../adapters/bus/event-bus';
import { Progress } from './progress';
import { RedisRealtimeStore } from '../adapters/store/realtime-store-redis';
import { emptyBatch } from '../adapters/store/realtime-store';
import { lineChart } from './svg-chart';

export interface ScaleParams { connections: number; rooms: number; deliveries: number; coresPerNode: number; memoryGiBPerNode: number; utilisation: number; kafkaRecords: number }
export const scaleDefaults: ScaleParams = { connections: 1_000_000, rooms: 100_000, deliveries: 10_000_000, coresPerNode: 16, memoryGiBPerNode: 32, utilisation: 0.6, kafkaRecords: 50_000 };
export const scaleQuick: ScaleParams = { ...scaleDefaults, kafkaRecords: 5_000 };

export interface MeasuredCosts {
  /** Server CPU µs per delivered message, big room. */
  readonly deliveryCpuUs: number;
  /** Server CPU µs per message on top of its deliveries (decode, filter, store, ack, analytics, routing). */
  readonly messageCpuUs: number;
  readonly bytesPerConnection: number;
  readonly emptyServerBytes: number;
  /** CPU µs a node spends reading one copy of an event record (decode and filter; not the Kafka fetch). */
  readonly recordCpuUs: number;
  /** Room-event commits one Redis master takes per second (null: REDIS_URL not set, not measured). */
  readonly redisCommitsPerSecond: number | null;
  /** Where each number came from. */
  readonly sources: Record<string, string>;
}

export type Routing = 'everyone' | 'interest-random' | 'interest-placed';

export interface Plan {
  readonly routing: Routing;
  /** null: no number of nodes fits (each node would spend all its CPU on other nodes' records). */
  readonly nodes: number | null;
  readonly cpuCores: number | null;
  readonly memoryGiB: number | null;
  readonly recordsReadPerNodePerSecond: number | null;
  readonly limitedBy: 'cpu' | 'memory' | 'does not fit';
}

/** Nodes a room's records reach: every node, the nodes its viewers sit on at random, or about one. */
export function nodesPerRoom(routing: Routing, nodes: number, viewersPerRoom: number): number {
  if (routing === 'everyone') return nodes;
  if (routing === 'interest-placed') return Math.min(nodes, Math.max(1, Math.ceil(viewersPerRoom / 50_000)));
  return nodes * (1 - (1 - 1 / nodes) ** viewersPerRoom);
}

/** The smallest node count whose CPU (at the target utilisation) and memory hold the load. */
export function plan(p: ScaleParams, c: MeasuredCosts, routing: Routing, maxNodes = 100_000): Plan {
  const viewersPerRoom = p.connections / p.rooms;
  const messages = p.deliveries / viewersPerRoom;
  const bytesNeeded = (n: number) => p.connections * c.bytesPerConnection + n * c.emptyServerBytes;
  const cpuNeeded = (n: number) => {
    // The measured message cost includes reading its record once; every further node that reads it pays
    // the record cost again (its deliveries are already counted).
    const extraReads = messages * (nodesPerRoom(routing, n, viewersPerRoom) - 1);
    return (p.deliveries * c.deliveryCpuUs + messages * c.messageCpuUs + extraReads * c.recordCpuUs) / 1e6;
  };
  for (let n = 1; n <= maxNodes; n = n < 64 ? n + 1 : Math.ceil(n * 1.02)) {
    const cpu = cpuNeeded(n);
    const memory = bytesNeeded(n) / 2 ** 30;
    if (cpu <= n * p.coresPerNode * p.utilisation && memory <= n * p.memoryGiBPerNode * 0.8) {
      const cpuBound = Math.ceil(cpu / (p.coresPerNode * p.utilisation));
      return { routing, nodes: n, cpuCores: cpu, memoryGiB: memory, recordsReadPerNodePerSecond: (messages * nodesPerRoom(routing, n, viewersPerRoom)) / n, limitedBy: cpuBound >= n ? 'cpu' : 'memory' };
    }
  }
  return { routing, nodes: null, cpuCores: null, memoryGiB: null, recordsReadPerNodePerSecond: null, limitedBy: 'does not fit' };
}

/** The newest run of a scenario at its default size, if any. */
function newest(dir: string, scenario: string, params: Record<string, number>): { results: { target: string; metrics?: Record<string, number>; steps?: Record<string, number | boolean>[] }[] } | null {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.startsWith(`${scenario}-`) && f.endsWith('.json')).sort().reverse();
  } catch {
    return null;
  }
  for (const f of files) {
    const run = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { params: Record<string, number>; results: never };
    if (Object.entries(params).every(([k, v]) => run.params[k] === v)) return run;
  }
  return null;
}

/** Decode one typical event record and find nothing in it for this node, many times: µs per record. */
export function timeRecordRead(iterations = 200_000): number {
  const frame = new Uint8Array(80).fill(7);
  const record = encode([1, [[2, 'room-12345', frame, [3, 7]], [1, 3 * 2 ** 32 + 17, frame]], [3, 7]]);
  const me = 5;
  let found = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const r = decode(record) as [number, unknown[][], number[]];
    if (r[2].includes(me)) found++;
  }
  const us = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  if (found !== 0) throw new Error('the record was for this node');
  return us;
}

/**
 * CPU µs this process spends consuming one ~120-byte record through the bus's Kafka consumer: a topic is
 * filled first, then read by a fresh consumer group while process CPU is measured.
 */
export async function timeKafkaRecordRead(brokers: string, records: number, progress?: Progress): Promise<number> {
  const bus = await KafkaBus.connect({ brokers: brokers.split(','), clientId: `scale-model-${process.pid}` });
  try {
    const topic = `scale-model-${process.pid}-${Date.now()}`;
    await bus.ensureTopics([topic], 1);
    const value = new Uint8Array(120).fill(5);
    for (let sent = 0; sent < records; sent += 1000) {
      await bus.publish([{ topic, records: Array.from({ length: Math.min(1000, records - sent) }, () => ({ partition: 0, value })) }]);
    }
    let seen = 0;
    let cpuStart: NodeJS.CpuUsage | null = null;
    const sub = await bus.consumeShared(`${topic}-group`, [topic], {
      onAssignment: () => undefined,
      onBatch: (b) => {
        // From the first batch on: the group join before it is not per-record work.
        cpuStart ??= process.cpuUsage();
        seen += b.records.length;
        progress?.update(seen);
        return wholeBatch(Promise.resolve());
      },
    });
    for (const start = Date.now(); seen < records; await new Promise((r) => setTimeout(r, 5))) {
      if (Date.now() - start > 120_000) throw new Error(`read ${seen} of ${records} records in 2 min`);
    }
    const used = process.cpuUsage(cpuStart ?? undefined);
    await sub.stop();
    return (used.user + used.system) / records;
  } finally {
    await bus.close();
  }
}

/** Room-event commits per second into one Redis: batches of 50 rooms with one event each, as workers commit. */
export async function timeRedisCommits(url: string, rooms: number): Promise<number> {
  const store = await RedisRealtimeStore.connect(url, { prefix: `scale-model-${process.pid}:`, roomTtlMs: 60_000 });
  try {
    const frame = new Uint8Array(80).fill(3);
    const start = process.hrtime.bigint();
    for (let done = 0; done < rooms; done += 50) {
      const batch = emptyBatch();
      for (let i = 0; i < 50; i++) batch.roomEvents.push({ room: `r${(done + i) % 5000}`, seq: 1 + Math.floor((done + i) / 5000), ts: 1, sender: 'u', frame });
      await store.commit(batch);
    }
    return rooms / (Number(process.hrtime.bigint() - start) / 1e9);
  } finally {
    await store.close();
  }
}

export async function measuredCosts(resultsDir: string, p: ScaleParams): Promise<MeasuredCosts> {
  const sources: Record<string, string> = {};
  let deliveryCpuUs = 2.18;
  sources.deliveryCpuUs = 'default (fanout 2026-11-26)';
  const fanout = newest(resultsDir, 'fanout', { viewers: 2000 });
  const fm = fanout?.results.find((r) => r.target === 'halobuzz')?.metrics;
  if (fm?.serverCpuMsPer1kDeliveries) {
    deliveryCpuUs = fm.serverCpuMsPer1kDeliveries;
    sources.deliveryCpuUs = 'bench/results fanout (2,000 viewers)';
  }
  let messageCpuUs = (21.2 - 2.18) * 10;
  sources.messageCpuUs = 'default (capacity 1,000 rooms x 10, 2026-11-26)';
  const capacity = newest(resultsDir, 'capacity', { rooms: 1000, viewers: 10_000 });
  const steps = capacity?.results.find((r) => r.target === 'halobuzz')?.steps?.filter((s) => s.good === true);
  const lastGood = steps?.at(-1);
  if (lastGood && typeof lastGood.serverCpuUsPerDelivery === 'number') {
    messageCpuUs = Math.max(0, (lastGood.serverCpuUsPerDelivery - deliveryCpuUs) * 10);
    sources.messageCpuUs = 'bench/results capacity (1,000 rooms x 10 viewers, last good step)';
  }
  let bytesPerConnection = 1306;
  let emptyServerBytes = 290_222_080;
  sources.memory = 'default (memory 2026-11-26)';
  const memory = newest(resultsDir, 'memory', {});
  const mm = memory?.results.find((r) => r.target === 'halobuzz')?.metrics;
  if (mm?.subscribedBytesPerConnection && mm.baselineRssBytes) {
    bytesPerConnection = mm.subscribedBytesPerConnection;
    emptyServerBytes = mm.baselineRssBytes;
    sources.memory = 'bench/results memory (18,000 connections, after collection)';
  }
  let recordCpuUs = timeRecordRead();
  sources.recordCpuUs = 'timed now: decode + filter only (no KAFKA_BROKERS: the Kafka fetch is not counted)';
  const brokers = process.env.KAFKA_BROKERS;
  if (brokers) {
    const progress = new Progress('consuming records from Kafka', p.kafkaRecords);
    const kafka = await timeKafkaRecordRead(brokers, p.kafkaRecords, progress);
    progress.done();
    sources.recordCpuUs = `timed now: ${kafka.toFixed(2)} µs consuming from Kafka (${p.kafkaRecords.toLocaleString('en-US')} records) + ${recordCpuUs.toFixed(2)} µs decode and filter`;
    recordCpuUs += kafka;
  }
  let redisCommitsPerSecond: number | null = null;
  sources.redis = 'not measured (REDIS_URL not set)';
  if (process.env.REDIS_URL && !process.env.REDIS_URL.startsWith('redis-cluster://')) {
    redisCommitsPerSecond = await timeRedisCommits(process.env.REDIS_URL, p.kafkaRecords);
    sources.redis = `timed now: ${p.kafkaRecords.toLocaleString('en-US')} room-event commits into one Redis`;
  }
  return { deliveryCpuUs, messageCpuUs, bytesPerConnection, emptyServerBytes, recordCpuUs, redisCommitsPerSecond, sources };
}

const ROUTINGS: readonly Routing[] = ['everyone', 'interest-random', 'interest-placed'];

export async function runScale(p: ScaleParams): Promise<unknown> {
  const costs = await measuredCosts(join(__dirname, '..', '..', 'bench', 'results'), p);
  console.log(`costs: ${costs.deliveryCpuUs.toFixed(2)} µs per delivery, ${costs.messageCpuUs.toFixed(0)} µs per message, ${(costs.bytesPerConnection / 1024).toFixed(2)} KB per connection, ${(costs.emptyServerBytes / 2 ** 20).toFixed(0)} MB per empty node, ${costs.recordCpuUs.toFixed(2)} µs per record read`);
  for (const [what, from] of Object.entries(costs.sources)) console.log(`  ${what}: ${from}`);
  const plans = ROUTINGS.map((r) => plan(p, costs, r));
  console.log(`load: ${p.connections.toLocaleString('en-US')} connections in ${p.rooms.toLocaleString('en-US')} rooms, ${p.deliveries.toLocaleString('en-US')} deliveries/s (${(p.deliveries / (p.connections / p.rooms)).toLocaleString('en-US')} messages/s); nodes of ${p.coresPerNode} cores at ${p.utilisation * 100} % and ${p.memoryGiBPerNode} GiB`);
  console.table(plans.map((x) => ({
    routing: x.routing, nodes: x.nodes ?? 'does not fit', 'CPU cores': x.cpuCores?.toFixed(0) ?? '-', 'memory GiB': x.memoryGiB?.toFixed(0) ?? '-',
    'records read per node /s': x.recordsReadPerNodePerSecond?.toFixed(0) ?? '-', 'limited by': x.limitedBy,
  })));
  // Nodes needed as the load grows (deliveries and messages scale together), per routing.
  const scales = [0.05, 0.1, 0.2, 0.5, 1, 2];
  const svg = lineChart({
    title: 'socket nodes needed as the load grows (x: share of the target load)', xLabel: 'share of the target load', yLabel: 'nodes', logX: true,
    series: ROUTINGS.map((r) => ({
      name: r,
      points: scales.flatMap((k) => {
        const x = plan({ ...p, connections: p.connections * k, rooms: p.rooms * k, deliveries: p.deliveries * k }, costs, r);
        return x.nodes === null ? [] : [{ x: k, y: x.nodes }];
      }),
    })),
  });
  const messages = p.deliveries / (p.connections / p.rooms);
  const redisMasters = costs.redisCommitsPerSecond === null ? null : Math.ceil(messages / (costs.redisCommitsPerSecond * p.utilisation));
  if (redisMasters !== null) console.log(`Redis: ${Math.round(costs.redisCommitsPerSecond!).toLocaleString('en-US')} room commits/s per master measured here: ${redisMasters} masters for ${messages.toLocaleString('en-US')} messages/s at ${p.utilisation * 100} %`);
  const result = { scenario: 'scale', params: p, costs, plans, redisMasters };
  console.log(`results: ${writeResult('scale', result, svg).join(', ')}`);
  return result;
}
