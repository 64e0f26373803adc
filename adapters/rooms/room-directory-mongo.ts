/**
 * RoomDirectory on MongoDB (the official driver; FerretDB here), so API processes share one directory.
 * Documents use the SQLite store's column names, so a host's export reads the same on both engines.
 *
 * One live room per host, without multi-document transactions: a host's live room holds a lock document
 * keyed by the host (`live_hosts`), inserted before the room and removed after it ends, so two racing
 * creates collide on the lock. A lock whose room has ended (a process died between ending it and removing
 * the lock), or whose room never appeared within STALE_LOCK_MS (a process died between the lock and the
 * room), is stale: the next create removes it and tries again. A younger lock without its room is a
 * create in flight, and counts as the host's live room.
 */
import { MongoClient, type Collection } from 'mongodb';
import { insertOnce } from '../mongo/insert-once';
import { mongoPersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport, type PersonalTable } from '../privacy/personal-data';
import type { RoomDirectory, RoomListing } from './room-directory';

interface RoomDoc {
  _id: string; id: string; owner: string; title: string; country: string | null; locale: string | null; live: boolean;
  started_at: number; ended_at: number | null; allowed_countries: string[] | null;
}
interface HostLock { _id: string; room: string; at: number }

/** A create writes its lock and then its room within milliseconds; a lock this old without a room was left by a crash. */
const STALE_LOCK_MS = 30_000;

const PERSONAL: readonly PersonalTable[] = [{ table: 'rooms', section: 'rooms_hosted', owner: ['owner'], erase: 'delete' }];

const toListing = (d: RoomDoc): RoomListing => ({
  id: d.id, owner: d.owner, title: d.title, country: d.country ?? null, locale: d.locale ?? null, live: d.live, startedAt: d.started_at, endedAt: d.ended_at ?? null,
  allowedCountries: d.allowed_countries?.length ? [...d.allowed_countries] : null,
});

export class MongoRoomDirectory implements RoomDirectory {
  private readonly personal: PersonalData;

  private constructor(private readonly client: MongoClient, private readonly rooms: Collection<RoomDoc>, private readonly locks: Collection<HostLock>, personal: PersonalData) {
    this.personal = personal;
  }

  static async connect(url: string): Promise<MongoRoomDirectory> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const db = client.db();
    const rooms = db.collection<RoomDoc>('rooms');
    await rooms.createIndex({ live: 1, country: 1, locale: 1 });
    await rooms.createIndex({ owner: 1, live: 1 });
    return new MongoRoomDirectory(client, rooms, db.collection('live_hosts'), mongoPersonalData((name) => db.collection(name), PERSONAL));
  }

  async create(r: RoomListing): Promise<'created' | { liveRoom: string }> {
    if (r.live) {
      for (let attempt = 0; ; attempt++) {
        if (await insertOnce(this.locks, { _id: r.owner, room: r.id, at: Date.now() })) break;
        const lock = await this.locks.findOne({ _id: r.owner });
        if (!lock) continue; // ended meanwhile: try again
        const held = await this.rooms.findOne({ _id: lock.room }, { projection: { live: 1 } });
        if (held?.live) return { liveRoom: lock.room };
        if (!held && Date.now() - lock.at < STALE_LOCK_MS) return { liveRoom: lock.room };
        // Stale. Racing creates may take it first, so this insists only a few times.
        if (attempt >= 3) return { liveRoom: lock.room };
        await this.locks.deleteOne({ _id: r.owner, room: lock.room });
      }
    }
    await this.rooms.insertOne({
      _id: r.id, id: r.id, owner: r.owner, title: r.title, country: r.country, locale: r.locale, live: r.live,
      started_at: r.startedAt, ended_at: r.endedAt, allowed_countries: r.allowedCountries?.length ? [...r.allowedCountries] : null,
    });
    return 'created';
  }

  async get(id: string): Promise<RoomListing | null> {
    const d = await this.rooms.findOne({ _id: id });
    return d ? toListing(d) : null;
  }

  async end(id: string, owner: string, now: number): Promise<boolean> {
    const ended = (await this.rooms.updateOne({ _id: id, owner, live: true }, { $set: { live: false, ended_at: now } })).modifiedCount === 1;
    // Also when this end found the room already ended: a lock a crash left behind goes now.
    await this.locks.deleteOne({ _id: owner, room: id });
    return ended;
  }

  async liveRoomOf(owner: string): Promise<RoomListing | null> {
    const d = await this.rooms.findOne({ owner, live: true });
    return d ? toListing(d) : null;
  }

  async live(f: { country?: string; locale?: string }): Promise<RoomListing[]> {
    const filter: Record<string, unknown> = { live: true };
    if (f.country !== undefined) filter.country = f.country;
    if (f.locale !== undefined) filter.locale = f.locale;
    return (await this.rooms.find(filter).sort({ _id: 1 }).toArray()).map(toListing);
  }

  exportUser(user: string): Promise<PersonalExport> {
    return this.personal.exportUser(user);
  }

  async eraseUser(e: Erasure): Promise<ErasureCounts> {
    await this.locks.deleteOne({ _id: e.user });
    return this.personal.eraseUser(e);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
