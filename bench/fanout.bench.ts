/**
 * Fan-out: one room, V viewers, S senders each chatting at R messages/s for D seconds. Reports delivered
 * messages/s, send-to-receive latency percentiles (the sender's timestamp rides in the text), and server
 * RSS per connection. Writes bench/results/fanout-<time>.json and a latency CDF as .svg.
 */
import { ClientOp, Role, ServerOp } from '../core/protocol/codes';
import { startServer } from '../tools/server-process';
import { LatencyRecorder } from './latency';
import { LoadConnection, nowMs, openMany } from './load-client';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface FanoutParams {
  viewers: number;
  senders: number;
  rate: number;
  seconds: number;
  payload: number;
  workers: number;
}

export const fanoutDefaults: FanoutParams = { viewers: 2000, senders: 2, rate: 50, seconds: 10, payload: 64, workers: 2 };
export const fanoutQuick: FanoutParams = { viewers: 200, senders: 1, rate: 20, seconds: 2, payload: 64, workers: 2 };

const UNLIMITED = '100000';

export async function runFanout(p: FanoutParams): Promise<Record<string, unknown>> {
  const server = await startServer({
    HALOBUZZ_WORKERS: String(p.workers),
    HALOBUZZ_CHAT_PER_SECOND: UNLIMITED, HALOBUZZ_CHAT_BURST: UNLIMITED,
    HALOBUZZ_USER_CHAT_PER_SECOND: UNLIMITED, HALOBUZZ_USER_CHAT_BURST: UNLIMITED,
    HALOBUZZ_FRAMES_PER_SECOND: UNLIMITED, HALOBUZZ_FRAMES_BURST: UNLIMITED,
    HALOBUZZ_JOIN_PER_SECOND: UNLIMITED, HALOBUZZ_JOIN_BURST: UNLIMITED,
    HALOBUZZ_MAILBOX_CAPACITY: '100000',
  });
  try {
    const room = 'bench-room';
    await new Promise((r) => setTimeout(r, 300));
    const rssBefore = server.rssBytes();
    const latency = new LatencyRecorder();
    let received = 0;
    const onPush = (f: unknown[]) => {
      if (f[0] !== ServerOp.ROOM_CHAT) return;
      received++;
      const text = f[5] as string;
      latency.record(nowMs() - Number(text.slice(0, text.indexOf('|'))));
    };
    const ramp = new Progress('connecting viewers', p.viewers);
    const t0 = Date.now();
    const viewers = await openMany(p.viewers, 64, async (i) => {
      const c = await LoadConnection.open(server.url, onPush);
      await c.hello(server.token(`viewer${i}`));
      await c.request(ClientOp.JOIN, room, Role.VIEWER);
      return c;
    }, (n) => ramp.update(n));
    const connectSeconds = (Date.now() - t0) / 1000;
    ramp.done(`${(p.viewers / connectSeconds).toFixed(0)} conn/s`);
    await new Promise((r) => setTimeout(r, 1000));
    const rssAfter = server.rssBytes();

    const senders = await Promise.all(Array.from({ length: p.senders }, async (_, i) => {
      const c = await LoadConnection.open(server.url);
      await c.hello(server.token(`sender${i}`));
      await c.request(ClientOp.JOIN, room, i === 0 ? Role.HOST : Role.VIEWER);
      return c;
    }));
    const pad = 'x'.repeat(Math.max(0, p.payload - 20));
    let sent = 0;
    const total = p.senders * p.rate * p.seconds;
    const run = new Progress('fan-out', total);
    const start = Date.now();
    // Send in 10 ms ticks so the rate holds without bursts.
    await new Promise<void>((resolve) => {
      const perTick = (p.rate * p.senders) / 100;
      let owed = 0;
      const timer = setInterval(() => {
        owed += perTick;
        while (owed >= 1 && sent < total) {
          owed -= 1;
          senders[sent % p.senders]!.fire(ClientOp.CHAT, room, `${nowMs().toFixed(3)}|${pad}`);
          sent++;
        }
        run.update(sent, `delivered ${received}`);
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    const expected = sent * p.viewers;
    const drainStart = Date.now();
    while (received < expected && Date.now() - drainStart < 10_000) await new Promise((r) => setTimeout(r, 20));
    const elapsed = (Date.now() - start) / 1000;
    run.done(`delivered ${received}/${expected}`);
    const lat = latency.summary();
    const result = {
      scenario: 'fanout',
      params: p,
      sent,
      delivered: received,
      expected,
      deliveredPerSecond: Math.round(received / elapsed),
      latencyMs: lat,
      connectPerSecond: Math.round(p.viewers / connectSeconds),
      serverRssBytes: { before: rssBefore, after: rssAfter },
      rssBytesPerConnection: Math.round((rssAfter - rssBefore) / p.viewers),
    };
    for (const c of [...viewers, ...senders]) c.close();
    const svg = lineChart({ title: `fan-out: ${p.viewers} viewers, ${p.senders}×${p.rate} msg/s`, xLabel: 'latency (ms, log)', yLabel: '% of deliveries', logX: true, series: [{ name: 'HaloBuzz', points: latency.cdf(200) }] });
    const files = writeResult('fanout', result, svg);
    console.log(JSON.stringify(result, null, 2));
    console.log(`results: ${files.join(', ')}`);
    return result;
  } finally {
    await server.stop();
  }
}
