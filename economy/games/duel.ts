/**
 * A head-to-head duel as a state machine, free of I/O, so the room actor (its single writer) drives it and
 * stores it with the room: rock-paper-scissors, best of three, against another player or the house bot.
 *
 * Nobody sees the other's move first: each round both players send a commitment, SHA-256 of
 * `move:salt`, and only once both are in do they reveal; a reveal that does not match its commitment is
 * refused. Every step has a stored deadline; a player who misses it forfeits the duel (both missing it
 * cancels the duel and refunds both stakes). Stakes are matched in the duel's escrow (`game:<duel>`); the
 * winner receives both less the rake, of which the host gets a share.
 *
 * The bot does not play rock-paper-scissors: it wins each round with a configured probability (its
 * "skill"), drawn with the provably fair draw of docs/games.md from a server seed committed before the
 * duel starts, the player's own seed and the round number; its move is then the one that beats (or loses
 * to) the player's revealed move. The commitment proves the outcome was fixed before the player moved.
 */
import { createHash } from 'node:crypto';
import type { LedgerOp } from '../../adapters/ledger/ledger';
import { newCommitment, uniformInt } from './fairness';

export const MOVES = ['rock', 'paper', 'scissors'] as const;
export type Move = (typeof MOVES)[number];
/** The opponent id of a duel against the house bot. */
export const BOT = '@bot';

export type DuelPhase = 'staking' | 'offered' | 'accepting' | 'playing' | 'settled' | 'cancelled';

export interface DuelRules {
  readonly minStake: number;
  readonly maxStake: number;
  /** The house's cut of the pot, in basis points (500: the winner gets 95% of both stakes). */
  readonly rakeBps: number;
  /** The host's share of the house margin, in basis points. */
  readonly hostShareBps: number;
  readonly acceptMs: number;
  readonly moveMs: number;
  /** The bot's chance to win a round, in basis points. */
  readonly botRoundWinBps: number;
  /** Rounds to win the duel (2: best of three). */
  readonly winsNeeded: number;
  /** A duel with this many tied rounds ends drawn (stakes returned). */
  readonly maxRounds: number;
}

export interface DuelRoundResult {
  readonly commits: Record<string, string>;
  readonly moves: Record<string, Move>;
  readonly salts: Record<string, string>;
  /** The round's winner, or null for a tie. */
  readonly winner: string | null;
}

export interface DuelData {
  readonly id: string;
  readonly room: string;
  readonly host: string;
  readonly challenger: string;
  /** The invited player, BOT, or null for an open challenge anyone in the room may accept. */
  readonly opponent: string | null;
  /** The challenge was open to anyone (an accept whose stake fails opens it again). */
  readonly open: boolean;
  /** Players whose stake the ledger took (what a cancellation refunds). */
  readonly staked: readonly string[];
  readonly stake: number;
  readonly phase: DuelPhase;
  /** The current step's deadline (accepting the challenge, committing, or revealing). */
  readonly deadline: number;
  readonly step: 'commit' | 'reveal';
  readonly commits: Record<string, string>;
  readonly reveals: Record<string, { move: Move; salt: string }>;
  readonly rounds: readonly DuelRoundResult[];
  /** Against the bot only: the committed server seed and the player's seed. */
  readonly serverSeed: string | null;
  readonly serverSeedHash: string | null;
  readonly clientSeed: string | null;
  readonly winner: string | null;
  readonly forfeitedBy: readonly string[];
}

export type DuelRefusal = 'DUEL_STATE' | 'NOT_A_PLAYER' | 'BAD_REVEAL' | 'BAD_STAKE';

/** What happened, for the room event (a phase plus what clients need); null when nothing changed. */
export interface DuelEvent {
  readonly phase: string;
  readonly data: Record<string, unknown>;
}

export function commitmentOf(move: Move, salt: string): string {
  return createHash('sha256').update(`${move}:${salt}`).digest('hex');
}

function beats(a: Move, b: Move): boolean {
  return (a === 'rock' && b === 'scissors') || (a === 'paper' && b === 'rock') || (a === 'scissors' && b === 'paper');
}

/** The move that beats `m`, or the one `m` beats. */
function answer(m: Move, win: boolean): Move {
  const i = MOVES.indexOf(m);
  return MOVES[(i + (win ? 1 : 2)) % 3]!;
}

/** Whether the bot wins round `round`: the fair draw, exact to a basis point. */
export function botWinsRound(serverSeed: string, clientSeed: string, round: number, botRoundWinBps: number): boolean {
  return uniformInt(serverSeed, clientSeed, round, 10_000) < botRoundWinBps;
}

export class Duel {
  private constructor(private state: DuelData, private readonly rules: DuelRules) {}

  /** A challenge whose stake is being taken; it is offered (or, against the bot, starts) once the ledger confirms. */
  static challenge(c: { id: string; room: string; host: string; challenger: string; opponent: string | null; stake: number; clientSeed: string; now: number }, rules: DuelRules): Duel | DuelRefusal {
    if (!Number.isSafeInteger(c.stake) || c.stake < rules.minStake || c.stake > rules.maxStake) return 'BAD_STAKE';
    if (c.opponent === c.challenger) return 'NOT_A_PLAYER';
    const bot = c.opponent === BOT;
    const seed = bot ? newCommitment() : null;
    return new Duel({
      id: c.id, room: c.room, host: c.host, challenger: c.challenger, opponent: c.opponent, open: c.opponent === null, staked: [], stake: c.stake, phase: 'staking',
      deadline: c.now + rules.acceptMs, step: 'commit', commits: {}, reveals: {}, rounds: [],
      serverSeed: seed?.serverSeed ?? null, serverSeedHash: seed?.serverSeedHash ?? null, clientSeed: bot ? (c.clientSeed || c.id) : null,
      winner: null, forfeitedBy: [],
    }, rules);
  }

  static restore(data: DuelData, rules: DuelRules): Duel {
    return new Duel(data, rules);
  }

  get data(): DuelData {
    return this.state;
  }

  get againstBot(): boolean {
    return this.state.opponent === BOT;
  }

  get finished(): boolean {
    return this.state.phase === 'settled' || this.state.phase === 'cancelled';
  }

  players(): string[] {
    const s = this.state;
    return s.opponent === null ? [s.challenger] : [s.challenger, s.opponent];
  }

  /** What everyone may see: moves only once revealed, the bot's seed only once settled. */
  publicView(): Record<string, unknown> {
    const s = this.state;
    return {
      id: s.id, challenger: s.challenger, opponent: s.opponent, stake: s.stake, phase: s.phase, deadline: s.deadline, step: s.step,
      committed: Object.keys(s.commits).sort(), rounds: s.rounds, score: this.score(), serverSeedHash: s.serverSeedHash,
      winner: s.winner, forfeitedBy: s.forfeitedBy, ...(s.phase === 'settled' && s.serverSeed ? { serverSeed: s.serverSeed, clientSeed: s.clientSeed } : {}),
    };
  }

  stakeOpId(user: string): string {
    return `stake:${this.state.id}:${user}`;
  }

  stakeOp(user: string): LedgerOp {
    return { kind: 'stake', opId: this.stakeOpId(user), user, round: this.state.id, amount: this.state.stake, pick: 'duel' };
  }

  /** Someone takes up the challenge; their stake is then taken (phase `accepting`). */
  accept(user: string, now: number): DuelRefusal | null {
    const s = this.state;
    if (s.phase !== 'offered' || now >= s.deadline) return 'DUEL_STATE';
    if (user === s.challenger || (s.opponent !== null && s.opponent !== user)) return 'NOT_A_PLAYER';
    this.state = { ...s, opponent: user, phase: 'accepting' };
    return null;
  }

  /**
   * The ledger took `user`'s stake: the challenge is offered, or the duel starts. A stake confirmed after
   * the duel was cancelled is recorded too (the caller refunds it: see `refundOf`).
   */
  staked(user: string, now: number): DuelEvent | null {
    if (!this.state.staked.includes(user)) this.state = { ...this.state, staked: [...this.state.staked, user] };
    const s = this.state;
    if (s.phase === 'staking' && user === s.challenger) {
      if (this.againstBot) return this.startPlaying(now, 'started');
      this.state = { ...s, phase: 'offered', deadline: now + this.rules.acceptMs };
      return { phase: 'offered', data: this.publicView() };
    }
    if (s.phase === 'accepting' && user === s.opponent) return this.startPlaying(now, 'started');
    return null;
  }

  /** The ledger refused `user`'s stake (funds, debt): the challenge is void, or open again. */
  stakeRefused(user: string): void {
    const s = this.state;
    if (s.phase === 'staking' && user === s.challenger) this.state = { ...s, phase: 'cancelled' };
    else if (s.phase === 'accepting' && user === s.opponent) this.state = { ...s, phase: 'offered', opponent: s.open ? null : s.opponent };
  }

  /** Cancels an unfinished duel (the stream ended): returns the refunds of the stakes taken. */
  cancel(): LedgerOp[] {
    if (this.finished) return [];
    this.state = { ...this.state, phase: 'cancelled' };
    return this.refundOps();
  }

  commit(user: string, hash: string, now: number): { refusal: DuelRefusal } | { event: DuelEvent | null } {
    const s = this.state;
    if (!this.players().includes(user) || user === BOT) return { refusal: 'NOT_A_PLAYER' };
    if (s.phase !== 'playing' || s.step !== 'commit' || now >= s.deadline || s.commits[user] !== undefined) return { refusal: 'DUEL_STATE' };
    const commits = { ...s.commits, [user]: hash };
    this.state = { ...s, commits };
    if (this.againstBot) {
      // The bot's move depends on the player's, so it has nothing to commit: its result is fixed by the seeds.
      this.state = { ...this.state, step: 'reveal', deadline: now + this.rules.moveMs };
      return { event: { phase: 'reveal', data: this.publicView() } };
    }
    if (Object.keys(commits).length < 2) return { event: { phase: 'committed', data: { duel: s.id, player: user, round: s.rounds.length + 1 } } };
    this.state = { ...this.state, step: 'reveal', deadline: now + this.rules.moveMs };
    return { event: { phase: 'reveal', data: this.publicView() } };
  }

  reveal(user: string, move: string, salt: string, now: number): { refusal: DuelRefusal } | { event: DuelEvent | null } {
    const s = this.state;
    if (!this.players().includes(user) || user === BOT) return { refusal: 'NOT_A_PLAYER' };
    if (s.phase !== 'playing' || s.step !== 'reveal' || now >= s.deadline || s.reveals[user] !== undefined) return { refusal: 'DUEL_STATE' };
    if (!(MOVES as readonly string[]).includes(move) || commitmentOf(move as Move, salt) !== s.commits[user]) return { refusal: 'BAD_REVEAL' };
    const reveals = { ...s.reveals, [user]: { move: move as Move, salt } };
    this.state = { ...s, reveals };
    if (this.againstBot) {
      const botWins = botWinsRound(s.serverSeed!, s.clientSeed!, s.rounds.length + 1, this.rules.botRoundWinBps);
      return { event: this.finishRound({ [user]: move as Move, [BOT]: answer(move as Move, botWins) }, now) };
    }
    if (Object.keys(reveals).length < 2) return { event: { phase: 'revealed', data: { duel: s.id, player: user, round: s.rounds.length + 1 } } };
    const [a, b] = this.players() as [string, string];
    return { event: this.finishRound({ [a]: reveals[a]!.move, [b]: reveals[b]!.move }, now) };
  }

  /** A player gives up: the other wins. */
  forfeit(user: string): { refusal: DuelRefusal } | { event: DuelEvent } {
    const s = this.state;
    if (!this.players().includes(user) || user === BOT) return { refusal: 'NOT_A_PLAYER' };
    if (s.phase !== 'playing') return { refusal: 'DUEL_STATE' };
    const other = this.players().find((p) => p !== user)!;
    this.state = { ...s, phase: 'settled', winner: other, forfeitedBy: [user] };
    return { event: { phase: 'settled', data: this.publicView() } };
  }

  /**
   * Applies a passed deadline: an unaccepted challenge is withdrawn, a player who did not commit or reveal
   * in time forfeits; both missing it cancels the duel. Returns the event, or null when nothing was due.
   */
  expire(now: number): DuelEvent | null {
    const s = this.state;
    if (now < s.deadline) return null;
    if (s.phase === 'offered') {
      this.state = { ...s, phase: 'cancelled' };
      return { phase: 'cancelled', data: { ...this.publicView(), reason: 'not accepted' } };
    }
    if (s.phase !== 'playing') return null;
    const done = s.step === 'commit' ? s.commits : s.reveals;
    const late = this.players().filter((p) => p !== BOT && done[p] === undefined);
    if (late.length === 0) return null;
    const onTime = this.players().filter((p) => !late.includes(p));
    if (onTime.length === 0) {
      this.state = { ...s, phase: 'cancelled', forfeitedBy: late };
      return { phase: 'cancelled', data: { ...this.publicView(), reason: 'no moves' } };
    }
    this.state = { ...s, phase: 'settled', winner: onTime[0]!, forfeitedBy: late };
    return { phase: 'settled', data: this.publicView() };
  }

  /** The ledger op that pays the winner (or returns both stakes after a drawn duel), and the proof. */
  settlement(): { op: LedgerOp; proof: Record<string, unknown> } {
    const s = this.state;
    if (s.phase !== 'settled') throw new Error(`duel ${s.id} is not settled`);
    const humans = this.players().filter((p) => p !== BOT);
    const stakes = s.stake * humans.length;
    let payouts: [string, number][];
    if (s.winner === null) payouts = humans.map((p) => [p, s.stake]);
    else if (s.winner === BOT) payouts = [];
    else payouts = [[s.winner, Math.floor((2 * s.stake * (10_000 - this.rules.rakeBps)) / 10_000)]];
    payouts.sort(([a], [b]) => (a < b ? -1 : 1));
    const proof = { game: 'duel', rounds: s.rounds, serverSeed: s.serverSeed, serverSeedHash: s.serverSeedHash, clientSeed: s.clientSeed, winner: s.winner, forfeitedBy: s.forfeitedBy };
    return {
      op: { kind: 'settle', opId: `settle:${s.id}`, round: s.id, stakes, payouts: payouts.map(([u, c]) => `${u}=${c}`).join(';'), host: s.host, hostShareBps: this.rules.hostShareBps, game: 'duel', proof: JSON.stringify(proof) },
      proof,
    };
  }

  /** Refunds for a cancelled duel: every stake the ledger took, once (op ids make repeats harmless). */
  refundOps(): LedgerOp[] {
    return this.state.staked.map((u) => this.refundOf(u));
  }

  refundOf(user: string): LedgerOp {
    return { kind: 'refund', opId: `refund:${this.state.id}:${user}`, refundOf: this.stakeOpId(user), reason: 'duel cancelled' };
  }

  private startPlaying(now: number, phase: string): DuelEvent {
    this.state = { ...this.state, phase: 'playing', step: 'commit', deadline: now + this.rules.moveMs, commits: {}, reveals: {} };
    return { phase, data: this.publicView() };
  }

  private score(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.players()) out[p] = 0;
    for (const r of this.state.rounds) if (r.winner) out[r.winner] = (out[r.winner] ?? 0) + 1;
    return out;
  }

  private finishRound(moves: Record<string, Move>, now: number): DuelEvent {
    const [a, b] = this.players() as [string, string];
    const winner = beats(moves[a]!, moves[b]!) ? a : beats(moves[b]!, moves[a]!) ? b : null;
    const salts: Record<string, string> = {};
    for (const [p, r] of Object.entries(this.state.reveals)) salts[p] = r.salt;
    const rounds = [...this.state.rounds, { commits: this.state.commits, moves, salts, winner }];
    this.state = { ...this.state, rounds, commits: {}, reveals: {}, step: 'commit', deadline: now + this.rules.moveMs };
    const score = this.score();
    const champion = Object.entries(score).find(([, wins]) => wins >= this.rules.winsNeeded)?.[0];
    if (champion !== undefined) {
      this.state = { ...this.state, phase: 'settled', winner: champion };
      return { phase: 'settled', data: this.publicView() };
    }
    if (rounds.length >= this.rules.maxRounds) {
      this.state = { ...this.state, phase: 'settled', winner: null };
      return { phase: 'settled', data: { ...this.publicView(), reason: 'drawn' } };
    }
    return { phase: 'round', data: this.publicView() };
  }
}
