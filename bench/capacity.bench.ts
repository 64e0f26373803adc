/**
 * Capacity at a latency bound: one room (or `--rooms R` rooms, each with a host sending into it), V compiled
 * viewers, and an offered fan-out rate that rises by
 * `factor` per step until the p99 from send to receipt passes `boundMs` or fewer than 99.9% of the
 * messages arrive. Each target's last good step is its capacity (deliveries per second actually
 * delivered in that step). HaloBuzz, the Socket.IO + Redis baseline and the raw uWS ceiling run one after
 * another on this machine; the ratios compare their capacities. A step where the viewers' generator or the
 * senders used 80% of a core ends the climb early and is marked generator-bound: the capacity is then
 * "at least". Prints a table, writes bench/results/capacity-<time>.json and an .svg of p99 against the
 * offered rate.
 */
import type { BenchConn } from './drivers';
import { nowMs } from './load-client';
import { Progress } from './progress';
import { writeResult } from './results';
import { cpuAboveIdle, drain, idleCpuPerSecond, microsPerDelivery, openSenders, pause, paced, recorderOf, startCompiledViewers } from './scenarios';
import { lineChart } from './svg-chart';
import { startTarget, type Target, type TargetName } from './targets';

export interface CapacityParams {
  viewers: number;
  /** 1: one room; more: the viewers spread over this many rooms, each with a host sending into it. */
  rooms: number;
  /** Senders into the one room (with several rooms there is one per room). */
  senders: number;
  /** Offered deliveries per second at the first step (messages per second × viewers). */
  startRate: number;
  factor: number;
  seconds: number;
  boundMs: number;
  maxSteps: number;
  payload: number;
  workers: number;
}
export const capacityDefaults: CapacityParams = { viewers: 1000, rooms: 1, senders: 2, startRate: 20_000, factor: 1.5, seconds: 5, boundMs: 200, maxSteps: 14, payload: 64, workers: 2 };
export const capacityQuick: CapacityParams = { viewers: 100, rooms: 1, senders: 1, startRate: 2_000, factor: 2, seconds: 1, boundMs: 200, maxSteps: 2, payload: 64, workers: 2 };

const TARGETS: readonly TargetName[] = ['halobuzz', 'socketio', 'uws-raw'];

export interface Step {
  readonly offeredPerSecond: number;
  readonly deliveredPerSecond: number;
  readonly deliveredShare: number;
  readonly p50: number;
  readonly p99: number;
  readonly serverCpuUsPerDelivery: number;
  /** The part of it spent in user space (the server's own code, not the kernel's socket work). */
  readonly serverUserCpuUsPerDelivery: number;
  readonly generatorCoreShare: number;
  readonly senderCoreShare: number;
  /** Within the bound and (nearly) everything delivered. */
  readonly good: boolean;
}

export interface TargetCapacity {
  readonly target: TargetName;
  readonly label: string;
  readonly steps: Step[];
  /** Deliveries per second of the last good step (0 when the first step already failed). */
  readonly capacity: number;
  /** Why the climb ended. */
  readonly ended: 'latency' | 'loss' | 'generator-bound' | 'max-steps';
}

export async function runCapacity(p: CapacityParams): Promise<unknown> {
  const results: TargetCapacity[] = [];
  for (const name of TARGETS) {
    const target = await startTarget(name, { workers: p.workers });
    try {
      results.push(await climb(target, p));
    } finally {
      await target.server.stop();
    }
  }
  const of = (t: TargetName) => results.find((r) => r.target === t)?.capacity ?? 0;
  const ratio = (a: number, b: number) => (a > 0 && b > 0 ? Math.round((a / b) * 100) / 100 : NaN);
  const ratios = { capacityVsBaseline: ratio(of('halobuzz'), of('socketio')), capacityShareOfCeiling: ratio(of('halobuzz'), of('uws-raw')) };
  const generatorBound = results.filter((r) => r.ended === 'generator-bound').map((r) => `${r.label}: at least ${r.capacity}/s`);

  console.log(`\ncapacity at p99 ≤ ${p.boundMs} ms and ≥ 99.9% delivered ${JSON.stringify(p)}`);
  for (const r of results) {
    console.log(`\n${r.label}: capacity ${r.capacity.toLocaleString('en')} deliveries/s (ended by ${r.ended})`);
    console.log('  offered/s   delivered/s  share    p50 ms   p99 ms   server µs/delivery (user)  generator core  senders core');
    for (const s of r.steps) {
      console.log(`  ${String(s.offeredPerSecond).padStart(9)}  ${String(s.deliveredPerSecond).padStart(11)}  ${s.deliveredShare.toFixed(4)}  ${s.p50.toFixed(1).padStart(7)}  ${s.p99.toFixed(1).padStart(7)}  ${s.serverCpuUsPerDelivery.toFixed(2).padStart(18)} ${`(${s.serverUserCpuUsPerDelivery.toFixed(2)})`.padStart(7)}  ${s.generatorCoreShare.toFixed(2).padStart(14)}  ${s.senderCoreShare.toFixed(2).padStart(12)}${s.good ? '' : '  ✗'}`);
    }
  }
  console.log(`\nratios (HaloBuzz ÷ other): ${JSON.stringify(ratios)}`);
  if (generatorBound.length > 0) console.log(`GENERATOR-BOUND (capacity is a lower bound): ${generatorBound.join('; ')}`);
  const svg = lineChart({
    title: `p99 send → receive against the offered rate (bound ${p.boundMs} ms)`, xLabel: 'offered deliveries/s (log)', yLabel: 'p99 (ms)', logX: true,
    series: results.map((r) => ({ name: r.label, points: r.steps.map((s) => ({ x: s.offeredPerSecond, y: s.p99 })) })),
  });
  const result = { scenario: 'capacity', params: p, results, ratios, generatorBound };
  console.log(`results: ${writeResult('capacity', result, svg).join(', ')}`);
  return result;
}

async function climb(target: Target, p: CapacityParams): Promise<TargetCapacity> {
  // One room, or `rooms` rooms with the viewers spread evenly and one host sending into each.
  const many = p.rooms > 1;
  const roomOf = (i: number) => (many ? `capacity${i % p.rooms}` : 'capacity');
  const perRoom = many ? Math.floor(p.viewers / p.rooms) : p.viewers;
  const viewers = await startCompiledViewers(target, many ? perRoom * p.rooms : p.viewers, 'capacity', p.rooms);
  let senders: BenchConn[] = [];
  try {
    senders = await openSenders(target, many ? p.rooms : p.senders, many ? roomOf : () => 'capacity');
    const pad = 'x'.repeat(Math.max(0, p.payload - 20));
    const idlePerSecond = await idleCpuPerSecond(target);
    const steps: Step[] = [];
    let ended: TargetCapacity['ended'] = 'max-steps';
    let rate = p.startRate;
    for (let i = 0; i < p.maxSteps; i++, rate = Math.round(rate * p.factor)) {
      // Every message reaches the viewers of its room: `perRoom` deliveries each.
      const messagesPerSecond = Math.max(1, Math.round(rate / perRoom));
      const total = messagesPerSecond * p.seconds;
      const expected = total * perRoom;
      const receivedBefore = viewers.received();
      const generatorBefore = viewers.cpuSeconds();
      const serverBefore = target.server.cpuTimes();
      const sendersBefore = process.cpuUsage();
      const sending = new Progress(`${target.name}: step ${i + 1}, ${(messagesPerSecond * perRoom).toLocaleString('en')}/s offered`, total);
      const start = Date.now();
      await paced(total, messagesPerSecond, (k) => senders[k % senders.length]!.chat(roomOf(k % senders.length), `${nowMs().toFixed(3)}|${pad}`), (sent) => sending.update(sent));
      const sendSeconds = (Date.now() - start) / 1000;
      // What arrives within the bound after the last send counts; a backlog beyond it is loss at this rate.
      await drain(() => viewers.received() - receivedBefore >= expected, Math.max(1000, p.boundMs * 5));
      const elapsed = (Date.now() - start) / 1000;
      const cut = await viewers.cut();
      const delivered = cut.received - receivedBefore;
      const { p50, p99 } = recorderOf(cut.latencies).summary();
      const serverCpu = cpuAboveIdle(idlePerSecond, serverBefore, target.server.cpuTimes(), elapsed);
      const senderCpu = process.cpuUsage(sendersBefore);
      const step: Step = {
        offeredPerSecond: messagesPerSecond * perRoom,
        deliveredPerSecond: Math.round(delivered / sendSeconds),
        deliveredShare: Number((delivered / expected).toFixed(4)),
        p50, p99,
        serverCpuUsPerDelivery: microsPerDelivery(serverCpu.total, delivered),
        serverUserCpuUsPerDelivery: microsPerDelivery(serverCpu.user, delivered),
        generatorCoreShare: Number(((cut.cpuSeconds - generatorBefore) / elapsed).toFixed(3)),
        senderCoreShare: Number(((senderCpu.user + senderCpu.system) / 1e6 / elapsed).toFixed(3)),
        good: p99 <= p.boundMs && delivered >= expected * 0.999,
      };
      steps.push(step);
      sending.done(`delivered ${delivered}/${expected}, p99 ${p99} ms${step.good ? '' : ' ✗'}`);
      if (!step.good) {
        ended = p99 > p.boundMs ? 'latency' : 'loss';
        break;
      }
      if (step.generatorCoreShare >= 0.8 || step.senderCoreShare >= 0.8) {
        ended = 'generator-bound';
        break;
      }
      // Let anything still queued drain before the next step.
      await pause(1000);
    }
    const good = steps.filter((s) => s.good);
    return { target: target.name, label: target.label, steps, capacity: good.length > 0 ? good[good.length - 1]!.deliveredPerSecond : 0, ended };
  } finally {
    for (const c of senders) c.close();
    await viewers.stop();
  }
}
