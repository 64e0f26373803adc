/**
 * Moderation: what the chat filter costs. First the filter alone, in this process, over the labelled
 * samples and ordinary chat (checks per second, microseconds per check). Then two servers side by side, one
 * with the shipped rules and one with none (the same config with every rule removed), each taking the same
 * chat load from many senders in one room with viewers: acknowledged chats per second and the time from
 * send to the viewers' receipt. The ratio (filtered ÷ unfiltered) is the price of filtering before
 * sequencing. Prints a table, writes bench/results/moderation-<time>.json and an .svg of both latency CDFs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatFilter } from '../moderation/chat-filter';
import { Role } from '../protocol/codes';
import { startServer } from '../tools/server-process';
import { LatencyRecorder } from './latency';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface ModerationParams { checks: number; senders: number; messagesPerSender: number; viewers: number; ratePerSender: number }
export const moderationDefaults: ModerationParams = { checks: 200_000, senders: 50, messagesPerSender: 200, viewers: 100, ratePerSender: 20 };
export const moderationQuick: ModerationParams = { checks: 20_000, senders: 5, messagesPerSender: 10, viewers: 10, ratePerSender: 5 };

const root = join(__dirname, '..', '..');
const CHAT = [
  'hello everyone, love this song', 'where are you streaming from?', 'haha that was great', 'can you play it again please',
  'greetings from Kathmandu 🙏', 'wow 🔥🔥🔥', 'what a load of shit', 'eres un pendejo', 'add me +977 980 123 4567', 'nice outfit today',
];

export async function runModeration(p: ModerationParams): Promise<unknown> {
  const configFile = join(root, 'config', 'moderation.json');
  const filter = ChatFilter.fromFile(configFile);
  const samples = [...(JSON.parse(readFileSync(join(root, 'config', 'moderation', 'samples.json'), 'utf8')) as { samples: { text: string }[] }).samples.map((s) => s.text), ...CHAT];
  const perCheck = new LatencyRecorder();
  const t0 = performance.now();
  for (let i = 0; i < p.checks; i++) {
    const start = performance.now();
    filter.check(samples[i % samples.length]!, 'standard');
    if (i % 10 === 0) perCheck.record((performance.now() - start) * 1000);
  }
  const checksPerSecond = Math.round(p.checks / ((performance.now() - t0) / 1000));
  const micro = perCheck.summary();
  console.log(`filter alone: ${checksPerSecond} checks/s, p50 ${micro.p50.toFixed(1)} µs, p99 ${micro.p99.toFixed(1)} µs`);

  const dir = mkdtempSync(join(tmpdir(), 'hb-bench-moderation-'));
  const bare = JSON.parse(readFileSync(configFile, 'utf8')) as { filter: { rules: unknown[]; repeat: { actions: Record<string, string> } } };
  bare.filter.rules = [];
  bare.filter.repeat.actions = { relaxed: 'allow', standard: 'allow', strict: 'allow' };
  const bareFile = join(dir, 'moderation-bare.json');
  writeFileSync(bareFile, JSON.stringify(bare));

  const runs: { label: string; chatsPerSecond: number; refused: number; ack: ReturnType<LatencyRecorder['summary']>; delivery: LatencyRecorder }[] = [];
  for (const [label, file] of [['unfiltered', bareFile], ['filtered', configFile]] as const) {
    const server = await startServer({
      HALOBUZZ_MODERATION_FILE: file, HALOBUZZ_CHAT_PER_SECOND: '1000', HALOBUZZ_CHAT_BURST: '1000', HALOBUZZ_USER_CHAT_PER_SECOND: '1000',
      HALOBUZZ_USER_CHAT_BURST: '1000', HALOBUZZ_ABUSE_ERROR_LIMIT: '100000', HALOBUZZ_ANALYTICS: 'off',
    });
    try {
      const room = 'bench-moderation';
      const host = server.client('bench-host', { reconnect: false });
      await host.connect();
      await host.join(room, Role.HOST);
      const delivery = new LatencyRecorder();
      const sentAt = new Map<string, number>();
      const viewers = [];
      for (let v = 0; v < p.viewers; v++) {
        const c = server.client(`bench-viewer-${v}`, { reconnect: false });
        await c.connect();
        await c.join(room);
        if (v === 0) c.on('chat', (e) => {
          const at = sentAt.get(`${e.from}:${e.seq}`);
          if (at !== undefined) delivery.record(performance.now() - at);
        });
        viewers.push(c);
      }
      const senders = [];
      for (let s = 0; s < p.senders; s++) {
        const c = server.client(`bench-sender-${s}`, { reconnect: false });
        await c.connect();
        await c.join(room);
        senders.push(c);
      }
      const ack = new LatencyRecorder();
      const progress = new Progress(`moderation: ${label} chat`, p.senders * p.messagesPerSender);
      let done = 0;
      let refused = 0;
      const start = performance.now();
      await Promise.all(senders.map(async (c, s) => {
        for (let m = 0; m < p.messagesPerSender; m++) {
          const due = start + (m * 1000) / p.ratePerSender;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const t = performance.now();
          // Distinct texts (the repeat rule would refuse the third copy), some of them filtered.
          const text = `${CHAT[(s + m) % CHAT.length]} #${m}`;
          try {
            const r = await c.chat(room, text);
            ack.record(performance.now() - t);
            sentAt.set(`bench-sender-${s}:${r.seq}`, t);
          } catch {
            refused++;
          }
          if (++done % 50 === 0) progress.update(done);
        }
      }));
      const seconds = (performance.now() - start) / 1000;
      progress.done();
      await new Promise((r) => setTimeout(r, 300));
      runs.push({ label, chatsPerSecond: Math.round((done - refused) / seconds), refused, ack: ack.summary(), delivery });
      for (const c of [host, ...viewers, ...senders]) c.close();
    } finally {
      await server.stop();
    }
  }
  const [bareRun, filtered] = runs as [typeof runs[0], typeof runs[0]];
  const result = {
    scenario: 'moderation', params: p,
    filterAlone: { checksPerSecond, microseconds: micro },
    servers: runs.map((r) => ({ label: r.label, chatsPerSecond: r.chatsPerSecond, refused: r.refused, ackMs: r.ack, deliveryMs: r.delivery.summary() })),
    ratios: {
      chatsPerSecond: +(filtered.chatsPerSecond / Math.max(1, bareRun.chatsPerSecond)).toFixed(3),
      ackP99: +(filtered.ack.p99 / Math.max(0.001, bareRun.ack.p99)).toFixed(3),
      deliveryP99: +(filtered.delivery.summary().p99 / Math.max(0.001, bareRun.delivery.summary().p99)).toFixed(3),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  const svg = lineChart({ title: 'moderation: chat send → viewer receipt, with and without the filter', xLabel: 'latency (ms, log)', yLabel: '% of messages', logX: true,
    series: runs.map((r) => ({ name: r.label, points: r.delivery.cdf(200) })) });
  console.log(`results: ${writeResult('moderation', result, svg).join(', ')}`);
  // Refusals are expected only for the filtered run's blocked texts; none would mean the rules did not apply.
  if (bareRun.refused > 0) throw new Error('moderation bench: the unfiltered server refused chats');
  return result;
}
