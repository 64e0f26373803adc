/**
 * The games of one room, run inside its RoomActor (the room's single writer, on the room's worker and, in a
 * cluster, on the room's owner node): the wheel's rounds and the room's duels.
 *
 * Rules this module keeps:
 * - Every state change is a sequenced room event (ROOM_GAME) and a stored write in the same turn, so resume,
 *   history and a rebuilt actor see the same game.
 * - Deadlines are stored (`locksAt`, a duel's `deadline`) and checked on the room's tick, so a rebuilt room
 *   continues where the old one stopped instead of forgetting a timer.
 * - Coins move only through ledger operations whose ids derive from the round (or duel) and the client's
 *   own id: a retried bet, a settle repeated after a crash, a refund issued twice move coins once.
 * - A rebuilt wheel takes its bets from the ledger (the round's escrow history), not from its stored copy,
 *   and after settling refunds any stake the round did not count; so no stake is lost or paid twice.
 */
import { createHash, randomBytes } from 'node:crypto';
import { eff, type CommandView } from './messages';
import type { Turn } from './actor';
import { ErrorCode } from '../protocol/codes';
import { errorFrame, replyFrame } from '../protocol/codec';
import { parsePayouts, roundAccount, userAccount, type Ledger, type LedgerEntry, type LedgerOp, type LedgerResult } from '../adapters/ledger/ledger';
import { ledgerErrorCode } from './ledger-errors';
import { WheelRound, type WheelRoundData } from '../economy/games/wheel-round';
import { Duel, type DuelData, type DuelEvent } from '../economy/games/duel';
import type { GameConfig } from '../economy/games/game-config';
import type { PlayGuard, PlayRefusal } from '../economy/games/play-guard';
import type { PlayResult } from '../adapters/games/play-store';
import type { StoredRoomState } from '../adapters/store/realtime-store';
import type { AnalyticsEvent } from '../adapters/analytics/analytics-sink';
import { rtpOf } from '../economy/games/payout-table';
import { strayStakeRefunds } from '../economy/games/escrow';

/** What the games need from their room. */
export interface GameRoom {
  readonly id: string;
  owner(): string | null;
  live(): boolean;
  isMember(conn: number, user: string, now: number): boolean;
  /** Appends a ROOM_GAME event to the room's sequence and publishes it; returns its seq. */
  sequence(turn: Turn, game: string, id: string, phase: string, data: Record<string, unknown>): number;
  track(turn: Turn, e: Partial<AnalyticsEvent> & Pick<AnalyticsEvent, 'type'>): void;
}

export interface RoomGamesDeps {
  readonly ledger: Ledger;
  /** Null: games are switched off on this server (the default; see README § Games). */
  readonly config: GameConfig | null;
  readonly guard: PlayGuard | null;
}

export const GAME_DONE = 103;
/** Async work a game started (admission + ledger), and its result. */
type Job =
  | { kind: 'bet'; conn: number; ref: number; user: string; round: string; betId: string; segment: string; coins: number; admitted: number; replayed: boolean }
  | { kind: 'duelStake'; conn: number; ref: number; user: string; duel: string; admitted: number }
  | { kind: 'wheelPaid'; round: string }
  | { kind: 'duelPaid'; duel: string };
type JobResult = LedgerResult | PlayRefusal | Error | { ok: true; refunds: number };
export type GameDone = [typeof GAME_DONE, Job, JobResult];

type GameCommand = Extract<CommandView, { kind: 'game' }>;
type Succeeded = Extract<LedgerResult, { ok: true }> | { ok: true; refunds: number };
const succeeded = (r: JobResult): r is Succeeded => !(r instanceof Error) && typeof r !== 'string' && r.ok;

const REFUSALS: Record<string, ErrorCode> = {
  ROUND_CLOSED: ErrorCode.ROUND_CLOSED, UNKNOWN_SEGMENT: ErrorCode.UNKNOWN_SEGMENT, BAD_STAKE: ErrorCode.BAD_STAKE, BET_ID_REUSED: ErrorCode.OP_ID_REUSED,
  DUEL_STATE: ErrorCode.DUEL_STATE, NOT_A_PLAYER: ErrorCode.NOT_A_PLAYER, BAD_REVEAL: ErrorCode.BAD_REVEAL,
  PLAY_FROZEN: ErrorCode.PLAY_FROZEN, SELF_EXCLUDED: ErrorCode.SELF_EXCLUDED, COUNTRY_BLOCKED: ErrorCode.COUNTRY_BLOCKED,
  ACCOUNT_TOO_NEW: ErrorCode.ACCOUNT_TOO_NEW, DAILY_STAKE_LIMIT: ErrorCode.DAILY_STAKE_LIMIT,
};
const MESSAGES: Record<string, string> = {
  ROUND_CLOSED: 'betting on this round has closed', UNKNOWN_SEGMENT: 'no such segment takes bets', BAD_STAKE: 'the stake is outside this game\'s limits',
  BET_ID_REUSED: 'this betId was used for another bet', DUEL_STATE: 'the duel is not at a step that takes this', NOT_A_PLAYER: 'you are not a player of this duel',
  BAD_REVEAL: 'the move and salt do not match your commitment', PLAY_FROZEN: 'your play is frozen pending a review', SELF_EXCLUDED: 'you excluded yourself from games for now',
  COUNTRY_BLOCKED: 'games are not available in your country', ACCOUNT_TOO_NEW: 'your account is too new to play', DAILY_STAKE_LIMIT: 'this stake would pass your daily stake limit',
};
/** Payouts listed in a settled event (the proof endpoint has the rest). */
const EVENT_PAYOUTS = 100;

interface StoredWheel {
  readonly on: boolean;
  readonly nextAt: number | null;
  readonly round: WheelRoundData | null;
  /** The round's settle (or refunds) reached the ledger. */
  readonly paid: boolean;
}
interface StoredDuel {
  readonly duel: DuelData;
  readonly paid: boolean;
}
interface LiveDuel {
  duel: Duel;
  paid: boolean;
  /** A settle or refund is on its way to the ledger. */
  paying: boolean;
  /** Stakes on their way to the ledger: the duel is paid (and forgotten) only once none is. */
  pending: number;
}

export class RoomGames {
  private wheelOn = false;
  private nextAt: number | null = null;
  private round: WheelRound | null = null;
  private roundPaid = true;
  private paying = false;
  private pendingStakes = 0;
  private readonly duels = new Map<string, LiveDuel>();
  private rev = 0;

  constructor(private readonly room: GameRoom, private readonly deps: RoomGamesDeps) {}

  /** Loads the stored games of a rebuilt room. */
  restore(games: readonly StoredRoomState[]): void {
    const config = this.deps.config;
    for (const g of games) {
      this.rev = Math.max(this.rev, g.rev);
      if (!config) continue;
      if (g.key === 'wheel') {
        const w = JSON.parse(g.state) as StoredWheel;
        this.wheelOn = w.on;
        this.nextAt = w.nextAt;
        this.round = w.round ? WheelRound.restore(w.round, config.wheelRules) : null;
        this.roundPaid = w.paid;
      } else if (g.key.startsWith('duel:')) {
        const d = JSON.parse(g.state) as StoredDuel;
        this.duels.set(d.duel.id, { duel: Duel.restore(d.duel, config.data.duel), paid: d.paid, paying: false, pending: 0 });
      }
    }
  }

  /** Before a rebuilt room takes commands: an open round's bets are what its escrow holds. */
  async prepare(): Promise<void> {
    if (this.round?.data.phase === 'open') this.round.adoptLedgerBets(await this.escrowHistory(this.round.data.id));
  }

  /** True while anything runs or waits (the room must not be passivated). */
  active(): boolean {
    return this.wheelOn || (this.round !== null && !this.roundPaid) || this.duels.size > 0;
  }

  handle(c: GameCommand, turn: Turn): void {
    const fail = (code: ErrorCode, message: string) => turn.emit(eff.send(c.conn, errorFrame(c.ref, code, message)));
    const config = this.deps.config;
    if (!config) return fail(ErrorCode.GAMES_DISABLED, 'games are switched off on this server');
    if (c.action === 'list') return turn.emit(eff.send(c.conn, replyFrame(c.ref, this.list(config))));
    if (!this.room.isMember(c.conn, c.user, turn.now)) return fail(ErrorCode.NOT_IN_ROOM, 'join the room before playing');
    if (!this.room.live()) return fail(ErrorCode.ROOM_NOT_LIVE, 'games run while the room is live');
    switch (c.action) {
      case 'start':
      case 'stop':
        return this.startStop(c, c.action === 'start', turn);
      case 'bet':
        return this.bet(c, turn);
      case 'challenge':
        return this.challenge(c, turn);
      case 'accept':
      case 'commit':
      case 'reveal':
      case 'forfeit':
        return this.duelMove(c, turn);
      default:
        return fail(ErrorCode.UNKNOWN_GAME, `unknown game action ${c.action}`);
    }
  }

  /** A deferred job finished. */
  done(job: Job, result: JobResult, turn: Turn): void {
    switch (job.kind) {
      case 'bet':
        return this.betDone(job, result, turn);
      case 'duelStake':
        return this.duelStakeDone(job, result, turn);
      case 'wheelPaid':
        this.paying = false;
        if (succeeded(result) && this.round?.data.id === job.round) {
          this.roundPaid = true;
          this.store(turn, 'wheel');
        }
        return;
      case 'duelPaid': {
        const d = this.duels.get(job.duel);
        if (!d) return;
        d.paying = false;
        if (succeeded(result)) {
          const op = d.duel.data.phase === 'settled' ? d.duel.settlement().op : null;
          for (const [user, coins] of op?.kind === 'settle' ? parsePayouts(op.payouts) ?? [] : []) {
            this.room.track(turn, { type: 'game_payout', game: d.duel.againstBot ? 'duel-bot' : 'duel', round: job.duel, user, coins, id: `payout:${job.duel}:${user}` });
          }
          d.paid = true;
          this.duels.delete(job.duel);
          this.write(turn, `duel:${job.duel}`, null);
        }
        return;
      }
    }
  }

  /** Called on the room's tick: deadlines that passed, payments to retry, the next wheel round. */
  tick(turn: Turn): void {
    const config = this.deps.config;
    if (!config) return;
    const r = this.round;
    if (r && r.data.phase === 'open' && turn.now >= r.data.locksAt && this.pendingStakes === 0) this.lockAndSettle(turn);
    // Not while a stake is in flight: a refund issued before its stake commits would miss it.
    if (r && !this.roundPaid && !this.paying && r.data.phase !== 'open' && this.pendingStakes === 0) this.payRound(turn);
    for (const [id, d] of this.duels) {
      const phase = d.duel.data.phase;
      if ((phase === 'staking' || phase === 'accepting') && d.pending === 0) this.resumeStake(d, turn);
      const event = d.duel.finished ? null : d.duel.expire(turn.now);
      if (event) this.duelEvent(d.duel, event, turn);
      if (d.duel.finished && !d.paid && !d.paying && d.pending === 0) this.payDuel(id, d, turn);
    }
    if (this.wheelOn && this.roundPaid && !this.paying && this.room.live() && (this.nextAt === null || turn.now >= this.nextAt)) this.openRound(config, turn);
  }

  /** The stream ended: the wheel stops, an open round and unfinished duels are cancelled and refunded. */
  streamEnded(turn: Turn): void {
    this.wheelOn = false;
    const r = this.round;
    if (r && (r.data.phase === 'open' || r.data.phase === 'locked')) {
      r.cancel();
      this.roundPaid = false;
      this.room.sequence(turn, 'wheel', r.data.id, 'cancelled', { round: r.data.id, reason: 'stream ended', refunded: r.data.bets.length });
    }
    if (this.round) this.store(turn, 'wheel');
    for (const d of this.duels.values()) {
      if (d.duel.finished) continue;
      d.duel.cancel();
      this.duelEvent(d.duel, { phase: 'cancelled', data: { ...d.duel.publicView(), reason: 'stream ended' } }, turn);
    }
    this.tick(turn);
  }

  private list(config: GameConfig): Record<string, unknown> {
    const w = config.data.wheel;
    const rtp = rtpOf(config.wheelTable);
    const r = this.round;
    return {
      wheel: {
        on: this.wheelOn, windowMs: w.windowMs, pauseMs: w.pauseMs, minStake: w.minStake, maxStake: w.maxStake, rtpBps: Math.floor(rtp.value * 10_000),
        segments: w.segments.map((s) => [s.id, s.weight, s.multiplierBps]),
        round: r ? { id: r.data.id, phase: r.data.phase, serverSeedHash: r.data.serverSeedHash, locksAt: r.data.locksAt, bets: r.data.bets.length } : null,
      },
      duel: { ...config.data.duel },
      duels: [...this.duels.values()].filter((d) => !d.duel.finished).map((d) => d.duel.publicView()),
    };
  }

  // ---- wheel ----

  private startStop(c: GameCommand, start: boolean, turn: Turn): void {
    const fail = (code: ErrorCode, message: string) => turn.emit(eff.send(c.conn, errorFrame(c.ref, code, message)));
    if (c.args[0] !== 'wheel') return fail(ErrorCode.UNKNOWN_GAME, 'only the wheel is started and stopped (duels start by challenge)');
    if (c.user !== this.room.owner()) return fail(ErrorCode.NOT_ROOM_OWNER, 'only the host starts and stops the wheel');
    if (start && this.wheelOn) return fail(ErrorCode.GAME_RUNNING, 'the wheel is already running');
    this.wheelOn = start;
    if (start) this.nextAt = null;
    this.store(turn, 'wheel');
    if (start) this.tick(turn);
    turn.emit(eff.send(c.conn, replyFrame(c.ref, { game: 'wheel', on: this.wheelOn, round: this.round?.data.id ?? null })));
  }

  private openRound(config: GameConfig, turn: Turn): void {
    const owner = this.room.owner();
    if (!owner) return;
    const id = `w${turn.now.toString(36)}${randomBytes(4).toString('hex')}`;
    const r = WheelRound.open(id, this.room.id, owner, turn.now, config.data.wheel.windowMs, config.wheelRules);
    this.round = r;
    this.roundPaid = false;
    this.nextAt = null;
    this.store(turn, 'wheel');
    this.room.sequence(turn, 'wheel', id, 'open', {
      round: id, serverSeedHash: r.data.serverSeedHash, opensAt: r.data.opensAt, locksAt: r.data.locksAt,
      segments: config.data.wheel.segments.map((s) => [s.id, s.weight, s.multiplierBps]), minStake: config.data.wheel.minStake, maxStake: config.data.wheel.maxStake,
    });
  }

  private bet(c: GameCommand, turn: Turn): void {
    const fail = (code: ErrorCode, message: string) => turn.emit(eff.send(c.conn, errorFrame(c.ref, code, message)));
    const [roundId, segment, coins, betId, clientSeed] = c.args as [string, string, number, string, string];
    const r = this.round;
    if (!r || r.data.id !== roundId) return fail(ErrorCode.UNKNOWN_ROUND, 'no such wheel round in this room (it may have settled)');
    if (c.user === this.room.owner()) return fail(ErrorCode.NOT_A_PLAYER, 'the host does not bet in their own room');
    const accepted = r.bet({ user: c.user, segment, coins, betId, clientSeed }, turn.now);
    if (!accepted.ok) return fail(REFUSALS[accepted.code]!, MESSAGES[accepted.code]!);
    this.pendingStakes++;
    const job: Job = { kind: 'bet', conn: c.conn, ref: c.ref, user: c.user, round: roundId, betId, segment, coins, admitted: turn.now, replayed: accepted.replayed };
    // A retried bet was admitted the first time: it must not count against the daily cap twice.
    turn.defer(this.admitThen(c, coins, turn.now, accepted.replayed, accepted.op), (res): GameDone => [GAME_DONE, job, res as JobResult]);
  }

  private betDone(job: Extract<Job, { kind: 'bet' }>, result: JobResult, turn: Turn): void {
    this.pendingStakes--;
    const r = this.round;
    const ok = succeeded(result);
    if (!ok && r?.data.id === job.round && !job.replayed && (r.data.phase === 'open' || r.data.phase === 'cancelled')) {
      r.dropBet(job.user, job.betId);
      if (r.data.phase === 'cancelled') this.store(turn, 'wheel');
    }
    if (!ok) return this.refuse(job.conn, job.ref, result, turn, () => this.deps.guard?.release(job.user, job.coins, job.admitted));
    const res = result as Extract<LedgerResult, { ok: true }>;
    if (!res.replayed) this.room.track(turn, { type: 'game_bet', user: job.user, coins: job.coins, game: 'wheel', round: job.round, id: `bet:${job.round}:${job.user}:${job.betId}` });
    turn.emit(eff.send(job.conn, replyFrame(job.ref, {
      round: job.round, betId: job.betId, segment: job.segment, coins: job.coins, balance: res.balances[userAccount(job.user)] ?? 0, replayed: res.replayed || job.replayed,
    })));
    this.tick(turn);
  }

  private lockAndSettle(turn: Turn): void {
    const r = this.round!;
    const config = this.deps.config!;
    r.lock();
    const bySegment: Record<string, number> = {};
    for (const b of r.data.bets) bySegment[b.segment] = (bySegment[b.segment] ?? 0) + b.coins;
    const stakes = r.data.bets.reduce((n, b) => n + b.coins, 0);
    this.room.sequence(turn, 'wheel', r.data.id, 'locked', { round: r.data.id, clientSeed: r.data.clientSeed, bets: r.data.bets.length, stakes, bySegment });
    const s = r.settle();
    const paid = s.payouts.reduce((n, [, c]) => n + c, 0);
    const payouts = [...s.payouts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, EVENT_PAYOUTS);
    this.room.sequence(turn, 'wheel', r.data.id, 'settled', { round: r.data.id, ...s.proof, stakes, paid, winners: s.payouts.length, payouts });
    this.nextAt = turn.now + config.data.wheel.pauseMs;
    this.store(turn, 'wheel');
    this.room.track(turn, { type: 'game_round', game: 'wheel', round: r.data.id, coins: stakes, paid, count: r.data.bets.length, id: `round:${r.data.id}` });
    for (const [user, coins] of s.payouts) this.room.track(turn, { type: 'game_payout', game: 'wheel', round: r.data.id, user, coins, id: `payout:${r.data.id}:${user}` });
    // Anomaly statistics: each bet is one result with its segment's chance.
    const total = config.wheelTable.segments.reduce((n, x) => n + x.weight, 0);
    const results: PlayResult[] = r.data.bets.map((b) => ({
      user: b.user, game: 'wheel', won: b.segment === s.landed.id,
      chanceBps: Math.round((config.wheelTable.segments.find((x) => x.id === b.segment)!.weight * 10_000) / total),
    }));
    if (this.deps.guard && results.length > 0) void this.deps.guard.results(results, turn.now).catch(() => undefined);
  }

  /** Settles (or refunds) the current round in the ledger, then refunds stray stakes; repeated until it lands. */
  private payRound(turn: Turn): void {
    const r = this.round!;
    const config = this.deps.config!;
    this.paying = true;
    const ledger = this.deps.ledger;
    const work = async (): Promise<JobResult> => {
      const ops: LedgerOp[] = r.data.phase === 'cancelled' ? WheelRound.restore(r.data, config.wheelRules).cancel() : [WheelRound.restore(r.data, config.wheelRules).settle().op];
      for (const op of ops) {
        const res = await ledger.apply(op);
        if (!res.ok && !(op.kind === 'refund' && res.code === 'NOT_REFUNDABLE')) return res;
      }
      let refunds = 0;
      for (const op of r.strayStakeRefunds(await this.escrowHistory(r.data.id))) {
        const res = await ledger.apply(op);
        if (res.ok) refunds++;
      }
      return { ok: true, refunds };
    };
    turn.defer(work(), (res): GameDone => [GAME_DONE, { kind: 'wheelPaid', round: r.data.id }, res as JobResult]);
  }

  // ---- duels ----

  private challenge(c: GameCommand, turn: Turn): void {
    const fail = (code: ErrorCode, message: string) => turn.emit(eff.send(c.conn, errorFrame(c.ref, code, message)));
    const config = this.deps.config!;
    const [clientId, stake, opponent, clientSeed] = c.args as [string, number, string, string];
    const id = duelIdOf(this.room.id, c.user, clientId);
    const existing = this.duels.get(id);
    if (existing) {
      if (existing.duel.data.challenger !== c.user) return fail(ErrorCode.DUEL_STATE, 'that duel id is taken');
      return turn.emit(eff.send(c.conn, replyFrame(c.ref, { duel: existing.duel.publicView(), replayed: true })));
    }
    if (c.user === this.room.owner() || opponent === this.room.owner()) return fail(ErrorCode.NOT_A_PLAYER, 'the host does not duel in their own room');
    const duel = Duel.challenge({ id, room: this.room.id, host: this.room.owner()!, challenger: c.user, opponent: opponent === '' ? null : opponent, stake, clientSeed, now: turn.now }, config.data.duel);
    if (typeof duel === 'string') return fail(REFUSALS[duel]!, MESSAGES[duel]!);
    const live: LiveDuel = { duel, paid: false, paying: false, pending: 1 };
    this.duels.set(id, live);
    this.store(turn, `duel:${id}`);
    const job: Job = { kind: 'duelStake', conn: c.conn, ref: c.ref, user: c.user, duel: id, admitted: turn.now };
    turn.defer(this.admitThen(c, stake, turn.now, false, duel.stakeOp(c.user)), (res): GameDone => [GAME_DONE, job, res as JobResult]);
  }

  private duelMove(c: GameCommand, turn: Turn): void {
    const fail = (code: ErrorCode, message: string) => turn.emit(eff.send(c.conn, errorFrame(c.ref, code, message)));
    const d = this.duels.get(c.args[0] as string);
    if (!d) return fail(ErrorCode.UNKNOWN_DUEL, 'no such duel in this room');
    const duel = d.duel;
    if (c.action === 'accept') {
      if (c.user === this.room.owner()) return fail(ErrorCode.NOT_A_PLAYER, 'the host does not duel in their own room');
      const refusal = duel.accept(c.user, turn.now);
      if (refusal) return fail(REFUSALS[refusal]!, MESSAGES[refusal]!);
      this.store(turn, `duel:${duel.data.id}`);
      d.pending++;
      const job: Job = { kind: 'duelStake', conn: c.conn, ref: c.ref, user: c.user, duel: duel.data.id, admitted: turn.now };
      turn.defer(this.admitThen(c, duel.data.stake, turn.now, false, duel.stakeOp(c.user)), (res): GameDone => [GAME_DONE, job, res as JobResult]);
      return;
    }
    const outcome = c.action === 'commit' ? duel.commit(c.user, c.args[1] as string, turn.now)
      : c.action === 'reveal' ? duel.reveal(c.user, c.args[1] as string, c.args[2] as string, turn.now)
      : duel.forfeit(c.user);
    if ('refusal' in outcome) return fail(REFUSALS[outcome.refusal]!, MESSAGES[outcome.refusal]!);
    const seq = outcome.event ? this.duelEvent(duel, outcome.event, turn) : 0;
    turn.emit(eff.send(c.conn, replyFrame(c.ref, { duel: duel.publicView(), seq })));
    if (duel.finished) this.tick(turn);
  }

  private duelStakeDone(job: Extract<Job, { kind: 'duelStake' }>, result: JobResult, turn: Turn): void {
    const d = this.duels.get(job.duel);
    const ok = succeeded(result);
    if (!d) return;
    d.pending--;
    const duel = d.duel;
    if (!ok) {
      duel.stakeRefused(job.user);
      if (duel.data.phase === 'cancelled' && duel.data.staked.length === 0 && d.pending === 0) {
        this.duels.delete(job.duel);
        this.write(turn, `duel:${job.duel}`, null);
      } else {
        this.store(turn, `duel:${job.duel}`);
      }
      return this.refuse(job.conn, job.ref, result, turn, () => this.deps.guard?.release(job.user, duel.data.stake, job.admitted));
    }
    const event = duel.staked(job.user, turn.now);
    if (!(result as Extract<LedgerResult, { ok: true }>).replayed) this.room.track(turn, { type: 'game_bet', user: job.user, coins: duel.data.stake, game: duel.againstBot ? 'duel-bot' : 'duel', round: job.duel, id: `bet:${job.duel}:${job.user}` });
    const seq = event ? this.duelEvent(duel, event, turn) : 0;
    if (!event) this.store(turn, `duel:${job.duel}`);
    if (job.ref) turn.emit(eff.send(job.conn, replyFrame(job.ref, { duel: duel.publicView(), seq, balance: (result as Extract<LedgerResult, { ok: true }>).balances[userAccount(job.user)] ?? 0 })));
    // A stake confirmed after the duel was cancelled (the stream ended meanwhile) goes back with the others.
    if (duel.finished) this.tick(turn);
  }

  /**
   * A rebuilt room found a duel waiting for a stake whose answer died with the old worker or node: the
   * stake is applied again (the ledger replays it if it had committed) and the duel goes on from the answer.
   */
  private resumeStake(d: LiveDuel, turn: Turn): void {
    const s = d.duel.data;
    const user = s.phase === 'staking' ? s.challenger : s.opponent!;
    d.pending++;
    const job: Job = { kind: 'duelStake', conn: 0, ref: 0, user, duel: s.id, admitted: turn.now };
    turn.defer(this.deps.ledger.apply(d.duel.stakeOp(user)), (res): GameDone => [GAME_DONE, job, res as JobResult]);
  }

  private duelEvent(duel: Duel, event: DuelEvent, turn: Turn): number {
    const id = duel.data.id;
    this.store(turn, `duel:${id}`);
    const seq = this.room.sequence(turn, duel.againstBot ? 'duel-bot' : 'duel', id, event.phase, event.data);
    if (duel.data.phase === 'settled' && event.phase === 'settled') this.duelSettled(duel, turn);
    return seq;
  }

  private duelSettled(duel: Duel, turn: Turn): void {
    const s = duel.data;
    const game = duel.againstBot ? 'duel-bot' : 'duel';
    const payout = duel.settlement().op;
    const paid = payout.kind === 'settle' ? (parsePayouts(payout.payouts) ?? []).reduce((n, [, c]) => n + c, 0) : 0;
    this.room.track(turn, { type: 'game_round', game, round: s.id, coins: s.stake * s.staked.length, paid, count: s.staked.length, id: `round:${s.id}` });
    const guard = this.deps.guard;
    if (!guard) return;
    const players = duel.players();
    if (duel.againstBot) {
      const won = s.winner === s.challenger;
      const chanceBps = Math.round(matchWinChance(10_000 - this.deps.config!.data.duel.botRoundWinBps, this.deps.config!.data.duel.winsNeeded) * 10_000);
      void guard.results([{ user: s.challenger, game, won, chanceBps }], turn.now).catch(() => undefined);
    } else if (players.length === 2) {
      // Forfeits count too: dumping by forfeit is the cheapest kind.
      void guard.duel(players[0]!, players[1]!, s.winner, turn.now).catch(() => undefined);
    }
  }

  private payDuel(id: string, d: LiveDuel, turn: Turn): void {
    d.paying = true;
    const ledger = this.deps.ledger;
    const duel = d.duel;
    const work = async (): Promise<JobResult> => {
      if (duel.data.phase === 'cancelled') {
        for (const op of duel.refundOps()) {
          const res = await ledger.apply(op);
          if (!res.ok && res.code !== 'NOT_REFUNDABLE') return res;
        }
      } else {
        const res = await ledger.apply(duel.settlement().op);
        if (!res.ok) return res;
      }
      const counted = new Set(duel.data.staked.map((u) => duel.stakeOpId(u)));
      let refunds = 0;
      for (const op of strayStakeRefunds(await this.escrowHistory(id), counted, 'stake arrived after the duel ended')) {
        if ((await ledger.apply(op)).ok) refunds++;
      }
      return { ok: true, refunds };
    };
    turn.defer(work(), (res): GameDone => [GAME_DONE, { kind: 'duelPaid', duel: id }, res as JobResult]);
  }

  // ---- shared ----

  /** Admission (limits, freezes) then the stake; a refusal comes back as its code. */
  private admitThen(c: GameCommand, coins: number, now: number, replayed: boolean, op: LedgerOp): Promise<LedgerResult | PlayRefusal> {
    const guard = this.deps.guard;
    const [country, since] = c.ctx;
    const admit = replayed || !guard ? Promise.resolve(null) : guard.admit(c.user, coins, { country: country || null, accountSince: since || null }, now);
    return admit.then((refusal): Promise<LedgerResult | PlayRefusal> => (refusal ? Promise.resolve(refusal) : this.deps.ledger.apply(op)));
  }

  private refuse(conn: number, ref: number, result: JobResult, turn: Turn, release: () => Promise<void> | undefined): void {
    if (!ref) return; // a resumed stake (no request waits, and it was admitted before the crash)
    if (typeof result === 'string') return turn.emit(eff.send(conn, errorFrame(ref, REFUSALS[result]!, MESSAGES[result]!)));
    // The ledger refused or did not answer after admission: the coins no longer count against the cap.
    void release()?.catch(() => undefined);
    if (result instanceof Error) return turn.emit(eff.send(conn, errorFrame(ref, ErrorCode.LEDGER_UNAVAILABLE, 'the ledger did not answer; retry with the same id')));
    if (!result.ok) turn.emit(eff.send(conn, errorFrame(ref, ledgerErrorCode(result.code), result.message)));
  }

  private async escrowHistory(round: string): Promise<LedgerEntry[]> {
    const out: LedgerEntry[] = [];
    let before: { ts: number; opId: string } | undefined;
    for (;;) {
      const page = await this.deps.ledger.history(roundAccount(round), { limit: 1000, ...(before ? { before } : {}) });
      out.push(...page);
      if (page.length < 1000) return out.reverse();
      const last = page.at(-1)!;
      before = { ts: last.ts, opId: last.opId };
    }
  }

  private store(turn: Turn, key: string): void {
    if (key === 'wheel') {
      const w: StoredWheel = { on: this.wheelOn, nextAt: this.nextAt, round: this.round?.data ?? null, paid: this.roundPaid };
      return this.write(turn, key, JSON.stringify(w));
    }
    const d = this.duels.get(key.slice('duel:'.length));
    if (d) this.write(turn, key, JSON.stringify({ duel: d.duel.data, paid: d.paid } satisfies StoredDuel));
  }

  private write(turn: Turn, key: string, state: string | null): void {
    turn.writes.roomState.push({ room: this.room.id, key, rev: ++this.rev, state });
  }
}

/** A duel id from the room, the challenger and their own id for the challenge (a retry finds the same duel). */
export function duelIdOf(room: string, challenger: string, clientId: string): string {
  return `d${createHash('sha256').update(`${room}\n${challenger}\n${clientId}`).digest('base64url').slice(0, 20).replace(/[^A-Za-z0-9]/g, 'x')}`;
}

/** The chance to win a first-to-`need` match when each round is won with chance `p` (no ties). */
export function matchWinChance(pBps: number, need: number): number {
  const p = pBps / 10_000;
  let total = 0;
  // Win the last round after exactly k lost rounds: C(need - 1 + k, k) p^need (1 - p)^k.
  let binom = 1;
  for (let k = 0; k < need; k++) {
    if (k > 0) binom = (binom * (need - 1 + k)) / k;
    total += binom * p ** need * (1 - p) ** k;
  }
  return total;
}

