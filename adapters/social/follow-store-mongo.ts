/**
 * FollowStore on MongoDB (the official driver; FerretDB here). Sequence numbers are unique by insert
 * (adapters/mongo/unique-seq.ts: a `$inc` counter repeats numbers on FerretDB); the pair as `_id` makes a
 * repeated follow a no-op. Counts are counted from the indexed follows, so they never drift (no multi-document transaction
 * is needed, which FerretDB 1.x does not offer).
 */
import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import type { Erasure, ErasureCounts, PersonalExport } from '../privacy/personal-data';
import { UniqueSeq } from '../mongo/unique-seq';
import { BadCursorError, decodeCursor, encodeCursor, type FollowCounts, type FollowPage, type FollowStore } from './follow-store';

interface FollowDoc { _id: string; seq: number; follower: string; creator: string; since: number }

export class MongoFollowStore implements FollowStore {
  private readonly seqs: UniqueSeq;

  private constructor(private readonly client: MongoClient, private readonly follows: Collection<FollowDoc>, taken: Collection<{ _id: string }>) {
    this.seqs = new UniqueSeq(taken, 'follows');
  }

  static async connect(url: string): Promise<MongoFollowStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const db = client.db();
    const follows = db.collection<FollowDoc>('follows');
    await follows.createIndex({ creator: 1, seq: -1 });
    await follows.createIndex({ follower: 1, seq: -1 });
    return new MongoFollowStore(client, follows, db.collection('seqs'));
  }

  async follow(follower: string, creator: string, now: number): Promise<boolean> {
    // The pair is the document id: a second follow collides instead of duplicating.
    const id = `${follower}\n${creator}`;
    if (await this.follows.findOne({ _id: id }, { projection: { _id: 1 } })) return false;
    const seq = await this.seqs.next();
    try {
      await this.follows.insertOne({ _id: id, seq, follower, creator, since: now });
      return true;
    } catch (err) {
      if (err instanceof MongoServerError && err.code === 11000) return false;
      throw err;
    }
  }

  async unfollow(follower: string, creator: string): Promise<boolean> {
    return (await this.follows.deleteOne({ _id: `${follower}\n${creator}` })).deletedCount === 1;
  }

  async unlink(a: string, b: string): Promise<void> {
    await this.follows.deleteMany({ _id: { $in: [`${a}\n${b}`, `${b}\n${a}`] } });
  }

  async isFollowing(follower: string, creator: string): Promise<boolean> {
    return (await this.follows.findOne({ _id: `${follower}\n${creator}` }, { projection: { _id: 1 } })) !== null;
  }

  async followers(creator: string, page: { limit: number; after?: string }): Promise<FollowPage> {
    return this.page({ creator }, 'follower', page);
  }

  async following(user: string, page: { limit: number; after?: string }): Promise<FollowPage> {
    return this.page({ follower: user }, 'creator', page);
  }

  async counts(user: string): Promise<FollowCounts> {
    const [followers, following] = await Promise.all([this.follows.countDocuments({ creator: user }), this.follows.countDocuments({ follower: user })]);
    return { followers, following };
  }

  async exportUser(user: string): Promise<PersonalExport> {
    const [following, followers] = await Promise.all([
      this.follows.find({ follower: user }).sort({ seq: 1 }).toArray(),
      this.follows.find({ creator: user }).sort({ seq: 1 }).toArray(),
    ]);
    return { following: following.map((f) => ({ user: f.creator, since: f.since })), followers: followers.map((f) => ({ user: f.follower, since: f.since })) };
  }

  /** Counts are counted from the follows, so deleting them is the whole erasure. */
  async eraseUser(e: Erasure): Promise<ErasureCounts> {
    const n = (await this.follows.deleteMany({ $or: [{ follower: e.user }, { creator: e.user }] })).deletedCount;
    return n > 0 ? { follows: n } : {};
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async page(filter: { creator: string } | { follower: string }, other: 'creator' | 'follower', page: { limit: number; after?: string }): Promise<FollowPage> {
    const after = decodeCursor(page.after);
    if (after === null) throw new BadCursorError();
    const docs = await this.follows.find({ ...filter, ...(after !== undefined ? { seq: { $lt: after } } : {}) }).sort({ seq: -1 }).limit(page.limit + 1).toArray();
    const items = docs.slice(0, page.limit);
    return { items: items.map((d) => ({ user: d[other], since: d.since })), next: docs.length > page.limit ? encodeCursor(items.at(-1)!.seq) : null };
  }
}
