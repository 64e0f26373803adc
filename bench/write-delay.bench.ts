/**
 * What the write delay (HALOBUZZ_WRITE_DELAY_MS, core/write-delay.ts) buys and costs: the same fan-out
 * (compiled viewers, one busy room) against HaloBuzz started with each delay in turn, on this machine, one
 * after another. For each delay: the server's CPU per delivery (and its ratio to no delay), p50 / p99 from
 * send to receipt, and the generator's share of its core. Prints a table, writes
 * bench/results/write-delay-<time>.json and an .svg of the latency distributions.
 */
import { fanoutScenario, type FanoutParams } from './scenarios';
import { writeResult } from './results';
import { lineChart } from './svg-chart';
import { startTarget } from './targets';
import type { LatencyRecorder } from './latency';

export interface WriteDelayParams { viewers: number; senders: number; rate: number; seconds: number; payload: number; workers: number }
export const writeDelayDefaults: WriteDelayParams = { viewers: 500, senders: 4, rate: 100, seconds: 8, payload: 64, workers: 2 };
export const writeDelayQuick: WriteDelayParams = { viewers: 50, senders: 1, rate: 50, seconds: 1, payload: 64, workers: 2 };

const DELAYS_MS = [0, 1, 2, 5, 10, 20];

export async function runWriteDelay(p: WriteDelayParams): Promise<unknown> {
  const fanout: FanoutParams = { viewers: p.viewers, senders: p.senders, rate: p.rate, seconds: p.seconds, payload: p.payload, compiled: 1 };
  const rows: Record<string, number>[] = [];
  const latencies: { name: string; latency: LatencyRecorder }[] = [];
  for (const delay of DELAYS_MS) {
    const target = await startTarget('halobuzz', { workers: p.workers, env: { HALOBUZZ_WRITE_DELAY_MS: String(delay) } });
    try {
      const measured = await fanoutScenario.run(target, fanout);
      const m = measured.metrics;
      rows.push({ delayMs: delay, deliveredPerSecond: m.deliveredPerSecond!, delivered: m.delivered!, expected: m.expected!, serverCpuUsPerDelivery: m.serverCpuMsPer1kDeliveries!, p50: m.p50!, p99: m.p99!, generatorCoreShare: m.generatorCoreShare!, generatorCpuUsPerReceived: m.generatorCpuUsPerReceived! });
      if (measured.latency) latencies.push({ name: `${delay} ms`, latency: measured.latency });
    } finally {
      await target.server.stop();
    }
  }
  const none = rows[0]!.serverCpuUsPerDelivery;
  for (const r of rows) r.cpuVsNoDelay = Math.round((r.serverCpuUsPerDelivery! / none) * 100) / 100;
  console.log(`\nwrite delay: ${p.senders * p.rate} messages/s into one room of ${p.viewers} viewers (${(p.senders * p.rate * p.viewers).toLocaleString('en')} deliveries/s offered)`);
  console.log('  delay ms  delivered/s  server µs/delivery  vs 0 ms   p50 ms   p99 ms  generator core  generator µs/msg');
  for (const r of rows) {
    console.log(`  ${String(r.delayMs).padStart(8)}  ${String(r.deliveredPerSecond).padStart(11)}  ${r.serverCpuUsPerDelivery!.toFixed(2).padStart(18)}  ${r.cpuVsNoDelay!.toFixed(2).padStart(7)}  ${r.p50!.toFixed(1).padStart(7)}  ${r.p99!.toFixed(1).padStart(7)}  ${r.generatorCoreShare!.toFixed(2).padStart(14)}  ${r.generatorCpuUsPerReceived!.toFixed(2).padStart(16)}${r.delivered! < r.expected! ? `  (${r.delivered}/${r.expected} delivered)` : ''}`);
  }
  const svg = lineChart({ title: 'write delay: send → receive latency', xLabel: 'latency (ms, log)', yLabel: '% of deliveries', logX: true, series: latencies.map((l) => ({ name: l.name, points: l.latency.cdf(200) })) });
  const result = { scenario: 'write-delay', params: p, rows };
  console.log(`results: ${writeResult('write-delay', result, svg).join(', ')}`);
  return result;
}
