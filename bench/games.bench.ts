/**
 * Games: the wheel's return to player measured by simulation against its exact configured value. Each
 * round gets a fresh committed server seed and a client seed, exactly as a live round draws; a 100-coin bet
 * goes on a segment chosen uniformly among those that take bets. Reports the measured RTP overall and per
 * segment with 95% confidence intervals, whether the configured RTP lies inside, and rounds/s.
 */
import { randomBytes } from 'node:crypto';
import { newCommitment } from '../economy/games/fairness';
import { WHEEL, payoutOf, rtpOf, segmentRtps, spin } from '../economy/games/payout-table';
import { Progress } from './progress';
import { writeResult } from './results';

export interface GamesParams { rounds: number }
export const gamesDefaults: GamesParams = { rounds: 1_000_000 };
export const gamesQuick: GamesParams = { rounds: 20_000 };

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
  const result = {
    scenario: 'games', params: p, game: 'wheel', configuredRtp: configured, measured,
    configuredInsideInterval: configured >= measured.low && configured <= measured.high,
    perSegment: Object.fromEntries([...per].map(([id, t]) => [id, { configured: segmentRtps(WHEEL).get(id)!.value, ...interval(t) }])),
    roundsPerSecond: Math.round(p.rounds / seconds),
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`results: ${writeResult('games', result).join(', ')}`);
  return result;
}
