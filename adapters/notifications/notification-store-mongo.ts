/**
 * NotificationStore on MongoDB (the official driver; FerretDB here), so every API node of a cluster shares
 * one in-app list, one set of devices and one push outbox. FerretDB 1.x has no multi-document
 * transactions, so "a notification with its pushes" is written in an order that keeps the promise where it
 * matters: an id already stored adds nothing; otherwise the pushes (each under a deterministic id) go
 * first, then the notification. A crash between the two leaves pushes without their list entry, and the
 * caller's retry (a redone fan-out chunk, a relay hand-over) writes the entry and re-inserts pushes that
 * may already have been sent: the documented at-least-once window, made harmless on the phone by the
 * collapse key. Sequence numbers for the list's cursor are unique by insert (adapters/mongo/unique-seq.ts; a
 * `$inc` counter repeats numbers on FerretDB 1.x, and a cursor between two equal ones skips one).
 */
import { mongoPersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import { MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import { UniqueSeq } from '../mongo/unique-seq';
import { BadCursorError, decodeCursor, encodeCursor } from '../social/follow-store';
import type { NotificationSettings } from '../../notify/preferences';
import type { Device, FanoutChunk, FanoutJob, NotificationPage, NotificationStore, PendingPush, StoredNotification } from './notification-store';

interface NoteDoc { _id: string; seq: number; user: string; kind: StoredNotification['kind']; data: StoredNotification['data']; createdAt: number; readAt: number | null }
interface PushDoc extends Omit<PendingPush, 'id'> { _id: string }
interface DeviceDoc extends Omit<Device, 'token'> { _id: string }
interface JobDoc extends Omit<FanoutJob, 'id'> { _id: string; leaseOwner: string; leaseUntil: number }
interface ChunkDoc { _id: string; job: string; idx: number; users: string[]; done: boolean; leaseOwner: string; leaseUntil: number }

const isDuplicate = (err: unknown) => err instanceof MongoServerError && err.code === 11000;

/** Where a user's data is (the same as the SQLite store's; settings are keyed by the user). */
const PERSONAL = [
  { table: 'notifications', section: 'notifications', owner: ['user'], erase: 'delete', json: ['data'], mentions: ['data.from', 'data.creator'] },
  { table: 'notifications', section: null, owner: ['_id'], erase: 'pseudonymise' },
  { table: 'notification_settings', section: 'notification_settings', owner: ['_id'], erase: 'delete' },
  { table: 'devices', section: 'devices', owner: ['user'], erase: 'delete' },
  { table: 'push_outbox', section: null, owner: ['user'], erase: 'delete' },
  { table: 'fanout_jobs', section: null, owner: ['creator'], erase: 'delete', json: ['data'], mentions: ['data.creator'] },
  { table: 'fanout_chunks', section: null, owner: [], erase: 'delete', json: ['users'], mentions: ['users'] },
] as const;

export class MongoNotificationStore implements NotificationStore {
  private readonly notes: Collection<NoteDoc>;
  private readonly pushes: Collection<PushDoc>;
  private readonly devicesCol: Collection<DeviceDoc>;
  private readonly jobs: Collection<JobDoc>;
  private readonly chunks: Collection<ChunkDoc>;
  private readonly settingsCol: Collection<{ _id: string; settings: NotificationSettings }>;
  private readonly seqs: UniqueSeq;

  private readonly personal: PersonalData;

  private constructor(private readonly client: MongoClient, db: Db) {
    this.personal = mongoPersonalData((name) => db.collection(name), PERSONAL);
    this.notes = db.collection('notifications');
    this.pushes = db.collection('push_outbox');
    this.devicesCol = db.collection('devices');
    this.jobs = db.collection('fanout_jobs');
    this.chunks = db.collection('fanout_chunks');
    this.settingsCol = db.collection('notification_settings');
    this.seqs = new UniqueSeq(db.collection('seqs'), 'notifications');
  }

  static async connect(url: string): Promise<MongoNotificationStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const store = new MongoNotificationStore(client, client.db());
    await store.notes.createIndex({ user: 1, seq: -1 });
    await store.pushes.createIndex({ nextAt: 1 });
    await store.pushes.createIndex({ token: 1 });
    await store.devicesCol.createIndex({ user: 1 });
    await store.devicesCol.createIndex({ sid: 1 });
    await store.jobs.createIndex({ done: 1, createdAt: 1 });
    await store.chunks.createIndex({ done: 1, job: 1, idx: 1 });
    return store;
  }

  async add(n: StoredNotification, pushes: Parameters<NotificationStore['add']>[1] = []): Promise<boolean> {
    if (await this.notes.findOne({ _id: n.id }, { projection: { _id: 1 } })) return false;
    for (const p of pushes) {
      try {
        await this.pushes.insertOne({ _id: `${n.id}>${p.token}`, notification: n.id, kind: n.kind, user: n.user, token: p.token, platform: p.platform, collapseKey: p.collapseKey, title: p.title, body: p.body, attempts: 0, nextAt: n.createdAt });
      } catch (err) {
        if (!isDuplicate(err)) throw err;
      }
    }
    const seq = await this.seqs.next();
    try {
      await this.notes.insertOne({ _id: n.id, seq, user: n.user, kind: n.kind, data: n.data, createdAt: n.createdAt, readAt: n.readAt });
      return true;
    } catch (err) {
      if (isDuplicate(err)) return false;
      throw err;
    }
  }

  async duePushes(now: number, limit: number): Promise<PendingPush[]> {
    const docs = await this.pushes.find({ nextAt: { $lte: now } }).sort({ nextAt: 1, _id: 1 }).limit(limit).toArray();
    return docs.map(({ _id, ...rest }) => ({ id: _id, ...rest }));
  }

  async removePush(id: string): Promise<void> {
    await this.pushes.deleteOne({ _id: id });
  }

  async reschedulePush(id: string, attempts: number, nextAt: number): Promise<void> {
    await this.pushes.updateOne({ _id: id }, { $set: { attempts, nextAt } });
  }

  async list(user: string, page: { limit: number; after?: string }): Promise<NotificationPage> {
    const after = decodeCursor(page.after);
    if (after === null) throw new BadCursorError();
    const docs = await this.notes.find({ user, ...(after !== undefined ? { seq: { $lt: after } } : {}) }).sort({ seq: -1 }).limit(page.limit + 1).toArray();
    const items = docs.slice(0, page.limit);
    const unread = await this.notes.countDocuments({ user, readAt: null });
    return { items: items.map(toNote), next: docs.length > page.limit ? encodeCursor(items.at(-1)!.seq) : null, unread };
  }

  async get(user: string, id: string): Promise<StoredNotification | null> {
    const doc = await this.notes.findOne({ _id: id, user });
    return doc ? toNote(doc) : null;
  }

  async markRead(user: string, now: number, ids?: readonly string[]): Promise<number> {
    const filter = { user, readAt: null, ...(ids !== undefined ? { _id: { $in: [...ids] } } : {}) };
    return (await this.notes.updateMany(filter, { $set: { readAt: now } })).modifiedCount;
  }

  async settings(user: string): Promise<NotificationSettings | null> {
    return (await this.settingsCol.findOne({ _id: user }))?.settings ?? null;
  }

  async saveSettings(user: string, settings: NotificationSettings): Promise<void> {
    await this.settingsCol.replaceOne({ _id: user }, { settings }, { upsert: true });
  }

  async registerDevice(d: Device): Promise<void> {
    const { token, ...rest } = d;
    await this.devicesCol.replaceOne({ _id: token }, rest, { upsert: true });
  }

  async removeDevice(user: string, token: string): Promise<boolean> {
    return (await this.devicesCol.deleteOne({ _id: token, user })).deletedCount === 1;
  }

  async removeTokens(tokens: readonly string[]): Promise<number> {
    if (tokens.length === 0) return 0;
    await this.pushes.deleteMany({ token: { $in: [...tokens] } });
    return (await this.devicesCol.deleteMany({ _id: { $in: [...tokens] } })).deletedCount;
  }

  async removeSessions(sids: readonly string[]): Promise<number> {
    const docs = await this.devicesCol.find({ sid: { $in: [...sids] } }, { projection: { _id: 1 } }).toArray();
    return this.removeTokens(docs.map((d) => d._id));
  }

  async devices(user: string): Promise<Device[]> {
    const docs = await this.devicesCol.find({ user }).sort({ createdAt: 1 }).toArray();
    return docs.map(({ _id, ...rest }) => ({ token: _id, ...rest }));
  }

  async addJob(job: Pick<FanoutJob, 'id' | 'creator' | 'kind' | 'data' | 'createdAt'>): Promise<boolean> {
    const { id, ...rest } = job;
    try {
      await this.jobs.insertOne({ _id: id, ...rest, cursor: null, chunks: 0, planned: false, notified: 0, done: false, leaseOwner: '', leaseUntil: 0 });
      return true;
    } catch (err) {
      if (isDuplicate(err)) return false;
      throw err;
    }
  }

  async openJobs(limit: number): Promise<FanoutJob[]> {
    const docs = await this.jobs.find({ done: false }).sort({ createdAt: 1, _id: 1 }).limit(limit).toArray();
    return docs.map(toJob);
  }

  async leaseJob(owner: string, now: number, leaseMs: number): Promise<FanoutJob | null> {
    const doc = await this.jobs.findOneAndUpdate(
      { done: false, planned: false, $or: [{ leaseUntil: { $lte: now } }, { leaseOwner: owner }] },
      { $set: { leaseOwner: owner, leaseUntil: now + leaseMs } },
      { sort: { createdAt: 1, _id: 1 }, returnDocument: 'after' },
    );
    return doc ? toJob(doc) : null;
  }

  async addChunk(job: string, index: number, users: readonly string[], cursor: string | null, planned: boolean): Promise<void> {
    try {
      await this.chunks.insertOne({ _id: `${job}#${index}`, job, idx: index, users: [...users], done: false, leaseOwner: '', leaseUntil: 0 });
    } catch (err) {
      if (!isDuplicate(err)) throw err;
    }
    await this.jobs.updateOne({ _id: job }, { $set: { cursor, chunks: index + 1, planned } });
    await this.completeIfDone(job);
  }

  async leaseChunk(owner: string, now: number, leaseMs: number): Promise<FanoutChunk | null> {
    const doc = await this.chunks.findOneAndUpdate(
      { done: false, $or: [{ leaseUntil: { $lte: now } }, { leaseOwner: owner }] },
      { $set: { leaseOwner: owner, leaseUntil: now + leaseMs } },
      { sort: { job: 1, idx: 1 }, returnDocument: 'after' },
    );
    return doc ? { id: doc._id, job: doc.job, users: doc.users } : null;
  }

  async finishChunk(id: string, notified: number): Promise<void> {
    const doc = await this.chunks.findOneAndUpdate({ _id: id, done: false }, { $set: { done: true } });
    if (!doc) return;
    await this.jobs.updateOne({ _id: doc.job }, { $inc: { notified } });
    await this.completeIfDone(doc.job);
  }

  /** A planned job whose chunks are all finished is done (its chunks are no longer needed). */
  private async completeIfDone(job: string): Promise<void> {
    if ((await this.chunks.countDocuments({ job, done: false })) > 0) return;
    if ((await this.jobs.updateOne({ _id: job, planned: true, done: false }, { $set: { done: true } })).modifiedCount === 1) await this.chunks.deleteMany({ job });
  }

  async job(id: string): Promise<FanoutJob | null> {
    const doc = await this.jobs.findOne({ _id: id });
    return doc ? toJob(doc) : null;
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

function toNote(d: NoteDoc): StoredNotification {
  return { id: d._id, user: d.user, kind: d.kind, data: d.data, createdAt: d.createdAt, readAt: d.readAt };
}

function toJob(d: JobDoc): FanoutJob {
  return { id: d._id, creator: d.creator, kind: d.kind, data: d.data, cursor: d.cursor, chunks: d.chunks, planned: d.planned, notified: d.notified, done: d.done, createdAt: d.createdAt };
}
