/**
 * PlayStore on MongoDB (the official driver; FerretDB here), so the daily caps, freezes and
 * self-exclusions set through any API process hold on every socket node's workers. Documents use the
 * SQLite store's column names, so a player's export reads the same on both engines.
 *
 * FerretDB 1.x does not apply a conditional `$inc` atomically against a concurrent one (measured: ten
 * racing stakes of 30 under a cap of 100 returned 4 to 8 successes and kept 60 or 90), so every
 * read-modify-write here runs under a short lock per document (adapters/mongo/mongo-lock.ts, an insert
 * both engines refuse twice): a stake checks the day's sum against the cap and writes it while no other
 * process can; statistics, duel pairs and restrictions the same way (self-exclusion and disputes only
 * grow). A flag is a document keyed by its cause.
 */
import { MongoClient, type Collection } from 'mongodb';
import { insertOnce } from '../mongo/insert-once';
import { mongoPersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport, type PersonalTable } from '../privacy/personal-data';
import { MongoLock, type LockDoc } from '../mongo/mongo-lock';
import type { FlagKind, PairStats, PlayFlag, PlayRestrictions, PlayResult, PlayStore, WinStats } from './play-store';

interface DailyDoc { _id: string; user: string; day: string; staked: number }
interface UserDoc { _id: string; user: string; frozen_reason?: string | null; self_excluded_until?: number | null; disputed_at?: number | null }
interface StatsDoc { _id: string; user: string; game: string; rounds: number; wins: number; expected: number; variance: number }
interface PairDoc { _id: string; a: string; b: string; duels: number; a_wins: number; b_wins: number }
interface FlagDoc { _id: string; id: string; kind: FlagKind; user: string; detail: string; at: number }

/** Play limits, self-exclusion, results and duel pairs; anomaly flags are erased but not exported (anti-fraud). */
const PERSONAL: readonly PersonalTable[] = [
  { table: 'play_daily', section: 'game_stakes_daily', owner: ['user'], erase: 'delete' },
  { table: 'play_users', section: 'game_restrictions', owner: ['user'], erase: 'delete' },
  { table: 'play_stats', section: 'game_results', owner: ['user'], erase: 'delete' },
  { table: 'play_pairs', section: 'game_duel_pairs', owner: ['a', 'b'], erase: 'delete' },
  { table: 'play_flags', section: null, owner: ['user'], erase: 'delete', json: ['detail'] },
];


export class MongoPlayStore implements PlayStore {
  private constructor(
    private readonly client: MongoClient,
    private readonly daily: Collection<DailyDoc>,
    private readonly users: Collection<UserDoc>,
    private readonly stats: Collection<StatsDoc>,
    private readonly pairs: Collection<PairDoc>,
    private readonly flagsCol: Collection<FlagDoc>,
    private readonly lock: MongoLock,
    private readonly personal: PersonalData,
  ) {}

  static async connect(url: string): Promise<MongoPlayStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const db = client.db();
    const flags = db.collection<FlagDoc>('play_flags');
    await flags.createIndex({ at: -1 });
    await flags.createIndex({ user: 1, at: -1 });
    return new MongoPlayStore(client, db.collection('play_daily'), db.collection('play_users'), db.collection('play_stats'), db.collection('play_pairs'), flags,
      new MongoLock(db.collection<LockDoc>('play_locks')), mongoPersonalData((name) => db.collection(name), PERSONAL));
  }

  async reserveStake(user: string, day: string, coins: number, cap: number | null): Promise<boolean> {
    const _id = `${user}\n${day}`;
    return this.lock.with(`daily\n${_id}`, async () => {
      const staked = (await this.daily.findOne({ _id }))?.staked ?? 0;
      if (cap !== null && staked + coins > cap) return false;
      await this.daily.replaceOne({ _id }, { user, day, staked: staked + coins }, { upsert: true });
      return true;
    });
  }

  async releaseStake(user: string, day: string, coins: number): Promise<void> {
    const _id = `${user}\n${day}`;
    await this.lock.with(`daily\n${_id}`, async () => {
      const d = await this.daily.findOne({ _id });
      if (d) await this.daily.updateOne({ _id }, { $set: { staked: Math.max(0, d.staked - coins) } });
    });
  }

  async stakedOn(user: string, day: string): Promise<number> {
    return (await this.daily.findOne({ _id: `${user}\n${day}` }))?.staked ?? 0;
  }

  async restrictions(user: string): Promise<PlayRestrictions> {
    const d = await this.users.findOne({ _id: user });
    return { frozenReason: d?.frozen_reason ?? null, selfExcludedUntil: d?.self_excluded_until ?? null, disputedAt: d?.disputed_at ?? null };
  }

  async setFrozen(user: string, reason: string | null): Promise<void> {
    await this.updateUser(user, () => ({ frozen_reason: reason }));
  }

  async setSelfExclusion(user: string, until: number): Promise<void> {
    // Self-exclusion only ever grows: a player cannot shorten it while it runs.
    await this.updateUser(user, (d) => ({ self_excluded_until: Math.max(d?.self_excluded_until ?? 0, until) }));
  }

  async noteDispute(user: string, at: number): Promise<void> {
    await this.updateUser(user, (d) => ({ disputed_at: Math.max(d?.disputed_at ?? 0, at) }));
  }

  async addResults(results: readonly PlayResult[]): Promise<WinStats[]> {
    const out = new Map<string, WinStats>();
    for (const r of results) {
      const _id = `${r.user}\n${r.game}`;
      const p = r.chanceBps / 10_000;
      const next = await this.lock.with(`stats\n${_id}`, async () => {
        const d = await this.stats.findOne({ _id });
        const after = { user: r.user, game: r.game, rounds: (d?.rounds ?? 0) + 1, wins: (d?.wins ?? 0) + (r.won ? 1 : 0), expected: (d?.expected ?? 0) + p, variance: (d?.variance ?? 0) + p * (1 - p) };
        await this.stats.replaceOne({ _id }, after, { upsert: true });
        return after;
      });
      out.set(_id, next);
    }
    return [...out.values()];
  }

  async addDuel(x: string, y: string, winner: string | null): Promise<PairStats> {
    const [a, b] = x < y ? [x, y] : [y, x];
    const _id = `${a}\n${b}`;
    return this.lock.with(`pair\n${_id}`, async () => {
      const d = await this.pairs.findOne({ _id });
      const after = { a, b, duels: (d?.duels ?? 0) + 1, a_wins: (d?.a_wins ?? 0) + (winner === a ? 1 : 0), b_wins: (d?.b_wins ?? 0) + (winner === b ? 1 : 0) };
      await this.pairs.replaceOne({ _id }, after, { upsert: true });
      return { a, b, duels: after.duels, aWins: after.a_wins, bWins: after.b_wins };
    });
  }

  /** Read, change, write one player's restrictions under their lock. */
  private async updateUser(user: string, change: (d: UserDoc | null) => Partial<UserDoc>): Promise<void> {
    await this.lock.with(`user\n${user}`, async () => {
      const d = await this.users.findOne({ _id: user });
      await this.users.replaceOne({ _id: user }, { user, frozen_reason: d?.frozen_reason ?? null, self_excluded_until: d?.self_excluded_until ?? null, disputed_at: d?.disputed_at ?? null, ...change(d) }, { upsert: true });
    });
  }

  async addFlag(flag: PlayFlag): Promise<boolean> {
    return insertOnce(this.flagsCol, { _id: flag.id, ...flag });
  }

  async flags(page: { limit: number; user?: string }): Promise<PlayFlag[]> {
    const docs = await this.flagsCol.find(page.user === undefined ? {} : { user: page.user }).sort({ at: -1, _id: 1 }).limit(page.limit).toArray();
    return docs.map((d) => ({ id: d.id, kind: d.kind, user: d.user, detail: d.detail, at: d.at }));
  }

  exportUser(user: string): Promise<PersonalExport> {
    return this.personal.exportUser(user);
  }

  eraseUser(e: Erasure): Promise<ErasureCounts> {
    return this.personal.eraseUser(e);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
