/**
 * Export jobs and archives on MongoDB (the official driver; FerretDB here), shared by every API process:
 * any of them serves any link, and a job left by a process that died is resumed by another.
 *
 * FerretDB 1.x applies a conditional update as read-modify-write, so nothing here rests on one: the
 * one-request-per-window check and insert run under a per-user lock, a job is run under a per-job lock
 * (adapters/mongo/mongo-lock.ts: both are inserted documents), and each job then has one writer.
 * Archives are stored in chunks of 4 MiB (`export_archives`, `<id>:<n>`), under the 16 MiB document limit.
 */
import { Binary, MongoClient, type Collection, type Db } from 'mongodb';
import { MongoLock, type LockDoc } from '../mongo/mongo-lock';
import type { ExportJob, ExportStore } from './export-store';

type JobDoc = Omit<ExportJob, 'id' | 'done'> & { _id: string; done: string[] };
interface ChunkDoc { _id: string; job: string; n: number; data: Binary }

const CHUNK = 4 * 2 ** 20;
/** A run lock older than this was left by a process that died mid-job (a build takes seconds). */
const RUN_STALE_MS = 10 * 60_000;

const toJob = (d: JobDoc): ExportJob => ({
  id: d._id, user: d.user, status: d.status, createdAt: d.createdAt, done: d.done, readyAt: d.readyAt, expiresAt: d.expiresAt, bytes: d.bytes, error: d.error,
});

export class MongoExportStore implements ExportStore {
  private readonly jobs: Collection<JobDoc>;
  private readonly chunks: Collection<ChunkDoc>;
  private readonly userLock: MongoLock;
  private readonly runLock: MongoLock;

  private constructor(private readonly client: MongoClient, db: Db) {
    this.jobs = db.collection('export_jobs');
    this.chunks = db.collection('export_archives');
    const locks = db.collection<LockDoc>('export_locks');
    this.userLock = new MongoLock(locks);
    this.runLock = new MongoLock(locks, { staleMs: RUN_STALE_MS, waitMs: 0 });
  }

  static async connect(url: string): Promise<MongoExportStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const store = new MongoExportStore(client, client.db());
    await store.jobs.createIndex({ user: 1, createdAt: -1 });
    await store.jobs.createIndex({ status: 1, expiresAt: 1 });
    await store.chunks.createIndex({ job: 1, n: 1 });
    return store;
  }

  async create(job: Pick<ExportJob, 'id' | 'user' | 'createdAt'>, since: number): Promise<{ created: true } | { created: false; existing: ExportJob }> {
    return this.userLock.with(`user:${job.user}`, async () => {
      const last = await this.jobs.findOne({ user: job.user, createdAt: { $gt: since }, status: { $ne: 'failed' } }, { sort: { createdAt: -1 } });
      if (last) return { created: false as const, existing: toJob(last) };
      await this.jobs.insertOne({ _id: job.id, user: job.user, status: 'pending', createdAt: job.createdAt, done: [], readyAt: null, expiresAt: null, bytes: null, error: null });
      return { created: true as const };
    });
  }

  async get(id: string): Promise<ExportJob | null> {
    const d = await this.jobs.findOne({ _id: id });
    return d ? toJob(d) : null;
  }

  async ofUser(user: string, limit: number): Promise<ExportJob[]> {
    return (await this.jobs.find({ user }).sort({ createdAt: -1 }).limit(limit).toArray()).map(toJob);
  }

  async pending(): Promise<ExportJob[]> {
    return (await this.jobs.find({ status: 'pending' }).sort({ createdAt: 1 }).toArray()).map(toJob);
  }

  async markDone(id: string, store: string): Promise<void> {
    const d = await this.jobs.findOne({ _id: id });
    if (!d || d.done.includes(store)) return;
    await this.jobs.updateOne({ _id: id }, { $set: { done: [...d.done, store] } });
  }

  async finish(id: string, outcome: { readyAt: number; expiresAt: number; bytes: number } | { error: string }): Promise<void> {
    await this.jobs.updateOne({ _id: id }, { $set: 'error' in outcome ? { status: 'failed', error: outcome.error } : { status: 'ready', ...outcome } });
  }

  async expired(now: number): Promise<ExportJob[]> {
    return (await this.jobs.find({ status: 'ready', expiresAt: { $lte: now } }).toArray()).map(toJob);
  }

  async markExpired(id: string): Promise<void> {
    await this.jobs.updateOne({ _id: id, status: 'ready' }, { $set: { status: 'expired' } });
  }

  exclusive<T>(id: string, work: () => Promise<T>): Promise<T | null> {
    return this.runLock.tryWith(`run:${id}`, work);
  }

  async putArchive(id: string, zip: Uint8Array): Promise<void> {
    // A rebuilt archive replaces the old one whole (a runner taking over a dead one's job may rebuild it).
    await this.chunks.deleteMany({ job: id });
    const docs: ChunkDoc[] = [];
    for (let n = 0, at = 0; at < zip.byteLength || n === 0; n++, at += CHUNK) {
      docs.push({ _id: `${id}:${n}`, job: id, n, data: new Binary(Buffer.from(zip.buffer, zip.byteOffset + at, Math.min(CHUNK, zip.byteLength - at))) });
    }
    for (const d of docs) await this.chunks.insertOne(d);
  }

  async archive(id: string): Promise<Uint8Array | null> {
    const parts = await this.chunks.find({ job: id }).sort({ n: 1 }).toArray();
    if (parts.length === 0) return null;
    return Buffer.concat(parts.map((p) => Buffer.from(p.data.buffer)));
  }

  async deleteArchive(id: string): Promise<void> {
    await this.chunks.deleteMany({ job: id });
  }

  async eraseUser(user: string): Promise<string[]> {
    const ids = (await this.jobs.find({ user }, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
    await this.jobs.deleteMany({ user });
    return ids;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
