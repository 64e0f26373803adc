/**
 * Games, in two parts.
 *
 * Simulated return to player, against the exact configured value: the wheel (each round a fresh committed
 * server seed and client seed, exactly as a live round draws; a 100-coin bet on a segment chosen in turn)
 * and the bot duel (each duel a fresh seed, best of three at the configured bot skill, the winner paid
 * twice the stake less the rake). Reports measured RTP with 95% confidence intervals and whether the
 * configured RTP lies inside, and rounds/s.
 *
 * Live: a running server (games on, SQLite ledger), `bettors` viewers in one room; during each of `liveRounds`
 * wheel rounds every bettor bets in a closed loop (one bet in flight, a new bet id each time) until betting
 * closes. Reports bets accepted per second while the window is open, bet→ack latency percentiles, and the
 * settle time (betting closed → the `settled` event at the host), and checks the ledger is conserved.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newCommitment } from '../economy/games/fairness';
import { WHEEL, payoutOf, rtpOf, segmentRtps, spin } from '../economy/games/payout-table';
import { botWinsRound } from '../economy/games/duel';
import { ClientOp, Role, ServerOp } from '../protocol/codes';
import { startServer } from '../tools/server-process';
import { gamesEnv } from '../tools/games-env';
import { LatencyRecorder } from './latency';
import { LoadConnection, nowMs, openMany } from './load-client';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface GamesParams { rounds: number; bettors: number; liveRounds: number; windowMs: number; workers: number }
export const gamesDefaults: GamesParams = { rounds: 1_000_000, bettors: 1000, liveRounds: 3, windowMs: 5000, workers: 2 };
export const gamesQuick: GamesParams = { rounds: 20_000, bettors: 50, liveRounds: 1, windowMs: 2000, workers: 2 };
/** The shipped duel: the bot wins a round half the time; the winner gets 2 × stake less 5%. */
const BOT_ROUND_WIN_BPS = 5000;
const DUEL_PAYOUT = 1.9;

interface Tally { n: number; sum: number; sumSq: number }
const add = (t: Tally, r: number) => {
  t.n++;
  t.sum += r;
  t.sumSq += r * r;
};
/** Mean and its 95% confidence interval (normal approximation; n is large). */
function interval(t: Tally): { rtp: number; low: number; high: number; rounds: number } {
  const mean = t.sum / t.n;
  const sd = Math.sqrt(Math.max(0, t.sumSq / t.n - mean * mean));
  const half = (1.96 * sd) / Math.sqrt(t.n);
  const r = (x: number) => Math.round(x * 1e5) / 1e5;
  return { rtp: r(mean), low: r(mean - half), high: r(mean + half), rounds: t.n };
}

/** One bot duel (best of three) from a fresh seed: what a 1-coin stake returns. */
function botDuel(): number {
  const { serverSeed } = newCommitment();
  const clientSeed = randomBytes(8).toString('hex');
  let player = 0;
  let bot = 0;
  for (let round = 1; player < 2 && bot < 2; round++) {
    if (botWinsRound(serverSeed, clientSeed, round, BOT_ROUND_WIN_BPS)) bot++;
    else player++;
  }
  return player === 2 ? DUEL_PAYOUT : 0;
}

/** The live part: bets per second in one room, bet→ack latency, settle time. */
async function live(p: GamesParams): Promise<{ result: Record<string, unknown>; latency: LatencyRecorder }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-bench-games-'));
  const server = await startServer({
    ...gamesEnv({ windowMs: p.windowMs, pauseMs: 1000 }), HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_WORKERS: String(p.workers),
    HALOBUZZ_GIFT_PER_SECOND: '100000', HALOBUZZ_GIFT_BURST: '100000', HALOBUZZ_FRAMES_PER_SECOND: '100000', HALOBUZZ_FRAMES_BURST: '100000',
    HALOBUZZ_JOIN_PER_SECOND: '100000', HALOBUZZ_JOIN_BURST: '100000',
  }, dataDir);
  try {
    const room = 'games-bench';
    const opened: { id: string; locksAt: number }[] = [];
    const settledAt = new Map<string, number>();
    const host = await LoadConnection.open(server.url, (f) => {
      if (f[0] !== ServerOp.ROOM_GAME) return;
      const data = f[7] as { locksAt?: number };
      if (f[6] === 'open') opened.push({ id: f[5] as string, locksAt: data.locksAt! });
      if (f[6] === 'settled') settledAt.set(f[5] as string, Date.now());
    });
    await host.hello(server.token('bench-host'));
    await host.request(ClientOp.JOIN, room, Role.HOST);
    const ramp = new Progress('games: connecting bettors', p.bettors);
    const bettors = await openMany(p.bettors, 16, async (i) => {
      const user = `bettor${i}`;
      const mint = await fetch(`${server.http}/debug/mint?user=${user}&coins=100000000&op=mint-${randomUUID()}`, { method: 'POST' });
      if (!((await mint.json()) as { ok: boolean }).ok) throw new Error('mint failed');
      const c = await LoadConnection.open(server.url);
      await c.hello(server.token(user));
      await c.request(ClientOp.JOIN, room, Role.VIEWER);
      return c;
    }, (n) => ramp.update(n));
    ramp.done();
    const latency = new LatencyRecorder();
    let accepted = 0;
    let openMs = 0;
    const settle: number[] = [];
    await host.request(ClientOp.GAME_START, room, 'wheel');
    const progress = new Progress('games: live wheel rounds', p.liveRounds);
    for (let r = 0; r < p.liveRounds; r++) {
      while (opened.length <= r) await new Promise((res) => setTimeout(res, 20));
      const round = opened[r]!;
      const start = Date.now();
      let last = start;
      await Promise.all(bettors.map(async (c, i) => {
        for (let n = 0; Date.now() < round.locksAt; n++) {
          const t0 = nowMs();
          try {
            await c.request(ClientOp.BET, room, round.id, WHEEL.segments[(i + n) % 4]!.id, 1 + (n % 5), `b${i}x${n}x${r}`.padEnd(8, '0'));
          } catch {
            break; // betting closed
          }
          latency.record(nowMs() - t0);
          accepted++;
          last = Math.max(last, Date.now());
        }
      }));
      openMs += last - start;
      while (!settledAt.has(round.id)) await new Promise((res) => setTimeout(res, 10));
      settle.push(settledAt.get(round.id)! - round.locksAt);
      progress.update(r + 1);
    }
    progress.done();
    await host.request(ClientOp.GAME_STOP, room, 'wheel');
    for (const c of [host, ...bettors]) c.close();
    await new Promise((res) => setTimeout(res, 500));
    const totals = await (await fetch(`${server.http}/debug/ledger/totals`)).json() as { held: number; issued: number };
    return {
      latency,
      result: {
        bettors: p.bettors, rounds: p.liveRounds, betsAccepted: accepted, betsPerSecond: Math.round(accepted / (openMs / 1000)),
        betToAckMs: latency.summary(), settleMs: { values: settle, max: Math.max(...settle) }, conserved: totals.held === totals.issued,
      },
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runGames(p: GamesParams): Promise<unknown> {
  const bettable = WHEEL.segments.filter((s) => s.multiplierBps > 0);
  const overall: Tally = { n: 0, sum: 0, sumSq: 0 };
  const per = new Map(bettable.map((s) => [s.id, { n: 0, sum: 0, sumSq: 0 } as Tally]));
  const progress = new Progress('games: wheel rounds', p.rounds);
  const t0 = performance.now();
  for (let i = 0; i < p.rounds; i++) {
    const { serverSeed } = newCommitment();
    const clientSeed = randomBytes(8).toString('hex');
    const landed = spin(WHEEL, serverSeed, clientSeed, 1);
    const bet = bettable[i % bettable.length]!;
    const r = payoutOf(100, bet, landed) / 100;
    add(overall, r);
    add(per.get(bet.id)!, r);
    if (i % 50_000 === 0) progress.update(i);
  }
  const seconds = (performance.now() - t0) / 1000;
  progress.done();
  const configured = rtpOf(WHEEL).value;
  const measured = interval(overall);

  const duels: Tally = { n: 0, sum: 0, sumSq: 0 };
  const duelProgress = new Progress('games: bot duels', p.rounds);
  const d0 = performance.now();
  for (let i = 0; i < p.rounds; i++) {
    add(duels, botDuel());
    if (i % 50_000 === 0) duelProgress.update(i);
  }
  const duelSeconds = (performance.now() - d0) / 1000;
  duelProgress.done();
  const duelMeasured = interval(duels);
  const duelConfigured = 0.95;

  const { result: liveResult, latency } = await live(p);
  const result = {
    scenario: 'games', params: p,
    wheel: {
      configuredRtp: configured, measured, configuredInsideInterval: configured >= measured.low && configured <= measured.high,
      perSegment: Object.fromEntries([...per].map(([id, t]) => [id, { configured: segmentRtps(WHEEL).get(id)!.value, ...interval(t) }])),
      roundsPerSecond: Math.round(p.rounds / seconds),
    },
    botDuel: {
      configuredRtp: duelConfigured, measured: duelMeasured, configuredInsideInterval: duelConfigured >= duelMeasured.low && duelConfigured <= duelMeasured.high,
      duelsPerSecond: Math.round(p.rounds / duelSeconds),
    },
    live: liveResult,
  };
  const svg = lineChart({
    title: `wheel bet→ack latency, ${p.bettors} bettors in one room`, xLabel: 'latency (ms, log)', yLabel: '% of bets', logX: true,
    series: [{ name: 'bet→ack', points: latency.cdf(200) }],
  });
  console.log(JSON.stringify(result, null, 2));
  console.log(`results: ${writeResult('games', result, svg).join(', ')}`);
  return result;
}
