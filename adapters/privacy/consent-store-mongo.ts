/**
 * ConsentStore on MongoDB (the official driver; FerretDB here): the history collection is append-only, the
 * current state one document per user and kind. The history record is written before the current state,
 * so a crash between the two leaves a history with one more record than the state shows, and the next
 * identical choice writes the state (and, harmlessly, its record again).
 */
import { mongoPersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { CONSENT_PERSONAL_DATA, type ConsentKind, type ConsentRecord, type ConsentStore } from './consent-store';

type CurrentDoc = Omit<ConsentRecord, 'user' | 'kind'> & { _id: string; user: string; kind: ConsentKind };
type HistoryDoc = ConsentRecord & { seq: number };

const strip = (d: CurrentDoc | HistoryDoc): ConsentRecord => ({ user: d.user, kind: d.kind, granted: d.granted, version: d.version, at: d.at, source: d.source });

export class MongoConsentStore implements ConsentStore {
  private readonly personal: PersonalData;
  private readonly currentCol: Collection<CurrentDoc>;
  private readonly historyCol: Collection<HistoryDoc>;
  private seq = 0;

  private constructor(private readonly client: MongoClient, db: Db) {
    this.personal = mongoPersonalData((name) => db.collection(name), CONSENT_PERSONAL_DATA);
    this.currentCol = db.collection('consent_current');
    this.historyCol = db.collection('consent_history');
  }

  static async connect(url: string): Promise<MongoConsentStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const store = new MongoConsentStore(client, client.db());
    await store.historyCol.createIndex({ user: 1, at: 1, seq: 1 });
    await store.currentCol.createIndex({ kind: 1, granted: 1 });
    return store;
  }

  async record(records: readonly ConsentRecord[]): Promise<void> {
    for (const r of records) {
      const id = `${r.user}\u0000${r.kind}`;
      const now = await this.currentCol.findOne({ _id: id });
      if (now && now.granted === r.granted && now.version === r.version) continue;
      // Within one process records of the same millisecond keep their order by `seq`.
      await this.historyCol.insertOne({ ...r, seq: this.seq++ });
      await this.currentCol.replaceOne({ _id: id }, { user: r.user, kind: r.kind, granted: r.granted, version: r.version, at: r.at, source: r.source }, { upsert: true });
    }
  }

  async current(user: string): Promise<ConsentRecord[]> {
    return (await this.currentCol.find({ user }).sort({ kind: 1 }).toArray()).map(strip);
  }

  async history(user: string): Promise<ConsentRecord[]> {
    return (await this.historyCol.find({ user }).sort({ at: 1, seq: 1 }).toArray()).map(strip);
  }

  async usersWith(kind: ConsentKind, granted: boolean): Promise<string[]> {
    return (await this.currentCol.find({ kind, granted }).sort({ user: 1 }).toArray()).map((d) => d.user);
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
