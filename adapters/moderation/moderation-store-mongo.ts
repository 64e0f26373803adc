/**
 * ModerationStore on MongoDB (the official driver; FerretDB here), shared by every API node. One open report
 * per target is kept by a lock document (`open_reports`, `_id` the target key) inserted before the report:
 * a second reporter's insert fails on the duplicate key and joins the open report instead. Each state change
 * first takes a step marker (`report_steps`, `_id` `<report>:<step>`): an insert, the one write FerretDB 1.x
 * (whose SQLite backend does not make a filtered update atomic against a concurrent one; measured: three
 * concurrent `findOneAndUpdate({status: 'open'})` often all succeed) and MongoDB both refuse twice. So two
 * staff claiming at once cannot both win, and a report is resolved once. The step's owner may redo the
 * update after a crash between the marker and the report. Merging reporters is one `$addToSet`: atomic on
 * MongoDB; on FerretDB two reporters joining in the same instant may count as one.
 * The hourly report limit counts filings first and writes after (no multi-document transaction on
 * FerretDB 1.x): two reports sent in the same instant may both pass the last free slot.
 */
import { MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import { escapeRegex, mongoPersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import { mergedPriority, reportAsFiled, type Appeal, type AuditEntry, type FileLimits, type FileResult, type ModerationStore, type NewReport, type Report, type ReportStatus, type Resolution, type Suspension } from './moderation-store';

type ReportDoc = Omit<Report, 'id'> & { _id: string; open: boolean };
type AuditDoc = Omit<AuditEntry, 'id'> & { _id: string };
interface SuspensionDoc { _id: string; until: number; reason: string; by: string; at: number; devices: string[]; liftedAt: number | null }

const HOUR = 3_600_000;
const isDuplicate = (err: unknown) => err instanceof MongoServerError && err.code === 11000;
const toReport = (d: ReportDoc): Report => {
  const { _id, open: _open, ...rest } = d;
  return { id: _id, ...rest };
};
const inForce = (until: number, now: number) => until === 0 || until > now;

/** Where a user's data is (as in the SQLite store: see there for what erasure keeps and why). */
const PERSONAL = [
  { table: 'reports', section: null, owner: ['target.user'], erase: 'delete', json: ['reporters', 'notes', 'claimedBy', 'resolution'], mentions: ['reporters', 'notes.by', 'claimedBy', 'resolution.by'] },
  { table: 'report_filings', section: null, owner: ['reporter'], erase: 'delete' },
  { table: 'audit_log', section: 'moderation_log', owner: ['actor', 'target'], erase: 'pseudonymise', json: ['detail'] },
  { table: 'suspensions', section: 'suspensions', owner: ['_id'], erase: 'delete' },
  { table: 'shadow_mutes', section: null, owner: ['_id'], erase: 'delete' },
  { table: 'user_devices', section: 'devices_seen', owner: ['user'], erase: 'delete' },
] as const;

export class MongoModerationStore implements ModerationStore {
  private readonly reportsCol: Collection<ReportDoc>;
  private readonly openLocks: Collection<{ _id: string; report: string }>;
  private readonly filings: Collection<{ reporter: string; at: number; report: string }>;
  private readonly auditCol: Collection<AuditDoc>;
  private readonly suspensions: Collection<SuspensionDoc>;
  private readonly shadow: Collection<{ _id: string; until: number }>;
  private readonly devices: Collection<{ _id: string; user: string; device: string; firstAt: number; lastAt: number }>;
  private readonly steps: Collection<{ _id: string; by: string }>;
  private readonly personal: PersonalData;

  private constructor(private readonly client: MongoClient, db: Db) {
    this.personal = mongoPersonalData((name) => db.collection(name), PERSONAL);
    this.reportsCol = db.collection('reports');
    this.openLocks = db.collection('open_reports');
    this.filings = db.collection('report_filings');
    this.auditCol = db.collection('audit_log');
    this.suspensions = db.collection('suspensions');
    this.shadow = db.collection('shadow_mutes');
    this.devices = db.collection('user_devices');
    this.steps = db.collection('report_steps');
  }

  /** Takes step `step` of report `id` for `by`: true when it is (or already was) theirs. */
  private async takeStep(id: string, step: string, by: string): Promise<boolean> {
    try {
      await this.steps.insertOne({ _id: `${id}:${step}`, by });
      return true;
    } catch (err) {
      if (!isDuplicate(err)) throw err;
      return (await this.steps.findOne({ _id: `${id}:${step}` }))?.by === by;
    }
  }

  static async connect(url: string): Promise<MongoModerationStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const store = new MongoModerationStore(client, client.db());
    await store.reportsCol.createIndex({ status: 1, priority: 1, createdAt: 1, _id: 1 });
    await store.reportsCol.createIndex({ 'target.user': 1, createdAt: -1 });
    await store.filings.createIndex({ reporter: 1, at: 1 });
    await store.auditCol.createIndex({ at: -1 });
    await store.auditCol.createIndex({ target: 1, at: -1 });
    await store.suspensions.createIndex({ devices: 1 });
    await store.devices.createIndex({ user: 1, lastAt: -1 });
    return store;
  }

  async file(r: NewReport, limit: FileLimits): Promise<FileResult> {
    if (!limit.system && (await this.filings.countDocuments({ reporter: r.reporter, at: { $gt: r.createdAt - HOUR } })) >= limit.perHour) return { kind: 'rate_limited' };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.openLocks.insertOne({ _id: r.targetKey, report: r.id });
      } catch (err) {
        if (!isDuplicate(err)) throw err;
        const lock = await this.openLocks.findOne({ _id: r.targetKey });
        const open = lock && await this.reportsCol.findOne({ _id: lock.report, open: true });
        if (!open) {
          // A lock whose report is no longer open (a crash between the two writes, or a resolve racing us).
          if (lock) await this.openLocks.deleteOne({ _id: r.targetKey, report: lock.report });
          continue;
        }
        if (open.reporters.includes(r.reporter)) return { kind: 'merged', report: toReport(open) };
        const priority = mergedPriority(open.priority, r.priority, open.reporters.length + 1, limit.escalateAt);
        const merged = await this.reportsCol.findOneAndUpdate({ _id: open._id, open: true },
          { $addToSet: { reporters: r.reporter }, $min: { priority }, $set: { updatedAt: r.createdAt } }, { returnDocument: 'after' });
        if (!merged) continue;
        if (!limit.system) await this.filings.insertOne({ reporter: r.reporter, at: r.createdAt, report: merged._id });
        return { kind: 'merged', report: toReport(merged) };
      }
      const doc: ReportDoc = {
        _id: r.id, targetKey: r.targetKey, target: r.target, reason: r.reason, text: r.text, snapshot: r.snapshot, reporters: [r.reporter], priority: r.priority,
        status: 'open', open: true, claimedBy: null, resolution: null, appeal: null, notes: [], createdAt: r.createdAt, updatedAt: r.createdAt,
      };
      await this.reportsCol.insertOne(doc);
      if (!limit.system) await this.filings.insertOne({ reporter: r.reporter, at: r.createdAt, report: r.id });
      return { kind: 'filed', report: toReport(doc) };
    }
    throw new Error(`could not file a report on ${r.targetKey}: its open report kept changing`);
  }

  async report(id: string): Promise<Report | null> {
    const d = await this.reportsCol.findOne({ _id: id });
    return d ? toReport(d) : null;
  }

  async reports(filter: { status: ReportStatus; limit: number; after?: string }): Promise<Report[]> {
    const after = filter.after ? await this.reportsCol.findOne({ _id: filter.after }) : null;
    const position = after ? {
      $or: [
        { priority: { $gt: after.priority } },
        { priority: after.priority, createdAt: { $gt: after.createdAt } },
        { priority: after.priority, createdAt: after.createdAt, _id: { $gt: after._id } },
      ],
    } : {};
    const docs = await this.reportsCol.find({ status: filter.status, ...position }).sort({ priority: 1, createdAt: 1, _id: 1 }).limit(filter.limit).toArray();
    return docs.map(toReport);
  }

  async reportsAbout(user: string, limit: number): Promise<Report[]> {
    return (await this.reportsCol.find({ 'target.user': user }).sort({ createdAt: -1 }).limit(limit).toArray()).map(toReport);
  }

  async claim(id: string, by: string, now: number): Promise<Report | null> {
    const current = await this.reportsCol.findOne({ _id: id });
    if (!current || (current.status !== 'open' && current.status !== 'claimed')) return null;
    if (!(await this.takeStep(id, 'claim', by))) return null;
    const d = await this.reportsCol.findOneAndUpdate({ _id: id, open: true }, { $set: { status: 'claimed', claimedBy: by, updatedAt: now } }, { returnDocument: 'after' });
    return d ? toReport(d) : null;
  }

  async resolve(id: string, resolution: Resolution): Promise<Report | null> {
    const current = await this.reportsCol.findOne({ _id: id, open: true });
    if (!current || !(await this.takeStep(id, 'resolve', resolution.by))) return null;
    const d = await this.reportsCol.findOneAndUpdate({ _id: id, open: true },
      { $set: { status: 'resolved', open: false, claimedBy: current.claimedBy ?? resolution.by, resolution, updatedAt: resolution.at } }, { returnDocument: 'after' });
    if (!d) return null;
    await this.openLocks.deleteOne({ _id: d.targetKey, report: id });
    return toReport(d);
  }

  async addNote(id: string, note: { by: string; text: string; at: number }): Promise<Report | null> {
    const d = await this.reportsCol.findOneAndUpdate({ _id: id }, { $push: { notes: note }, $set: { updatedAt: note.at } }, { returnDocument: 'after' });
    return d ? toReport(d) : null;
  }

  async appeal(id: string, appeal: { text: string; at: number }): Promise<Report | null> {
    const current = await this.reportsCol.findOne({ _id: id, status: 'resolved', appeal: null });
    if (!current || !(await this.takeStep(id, 'appeal', 'reported-user'))) return null;
    const d = await this.reportsCol.findOneAndUpdate({ _id: id, status: 'resolved' }, { $set: { status: 'appealed', appeal, updatedAt: appeal.at } }, { returnDocument: 'after' });
    return d ? toReport(d) : null;
  }

  async decideAppeal(id: string, decision: Required<Pick<Appeal, 'decision' | 'by' | 'decidedAt' | 'note'>>): Promise<Report | null> {
    const current = await this.reportsCol.findOne({ _id: id, status: 'appealed' });
    if (!current || !(await this.takeStep(id, 'decide', decision.by))) return null;
    const d = await this.reportsCol.findOneAndUpdate({ _id: id, status: 'appealed' }, {
      $set: { status: 'closed', 'appeal.decision': decision.decision, 'appeal.by': decision.by, 'appeal.decidedAt': decision.decidedAt, 'appeal.note': decision.note, updatedAt: decision.decidedAt },
    }, { returnDocument: 'after' });
    return d ? toReport(d) : null;
  }

  async audit(e: AuditEntry): Promise<void> {
    const { id, ...rest } = e;
    try {
      await this.auditCol.insertOne({ _id: id, ...rest });
    } catch (err) {
      if (!isDuplicate(err)) throw err;
    }
  }

  async auditLog(filter: { target?: string; actor?: string; before?: number; limit: number }): Promise<AuditEntry[]> {
    const q = { ...(filter.target ? { target: filter.target } : {}), ...(filter.actor ? { actor: filter.actor } : {}), ...(filter.before !== undefined ? { at: { $lt: filter.before } } : {}) };
    return (await this.auditCol.find(q).sort({ at: -1, _id: -1 }).limit(filter.limit).toArray()).map(({ _id, ...rest }) => ({ id: _id, ...rest }));
  }

  async suspend(s: Suspension): Promise<void> {
    await this.suspensions.replaceOne({ _id: s.user }, { until: s.until, reason: s.reason, by: s.by, at: s.at, devices: [...s.devices], liftedAt: null }, { upsert: true });
  }

  async lift(user: string, now: number): Promise<boolean> {
    const current = await this.suspensions.findOne({ _id: user, liftedAt: null });
    if (!current || !inForce(current.until, now)) return false;
    return (await this.suspensions.updateOne({ _id: user, liftedAt: null }, { $set: { liftedAt: now } })).modifiedCount > 0;
  }

  async suspension(user: string, now: number): Promise<Suspension | null> {
    const d = await this.suspensions.findOne({ _id: user, liftedAt: null });
    return d && inForce(d.until, now) ? { user: d._id, until: d.until, reason: d.reason, by: d.by, at: d.at, devices: d.devices } : null;
  }

  async suspensionCovering(device: string, user: string, now: number): Promise<Suspension | null> {
    for (const d of await this.suspensions.find({ devices: device, liftedAt: null, _id: { $ne: user } }).toArray()) {
      if (inForce(d.until, now)) return { user: d._id, until: d.until, reason: d.reason, by: d.by, at: d.at, devices: d.devices };
    }
    return null;
  }

  async setShadowMute(user: string, until: number | null): Promise<void> {
    if (until === null) await this.shadow.deleteOne({ _id: user });
    else await this.shadow.replaceOne({ _id: user }, { until }, { upsert: true });
  }

  async shadowMutes(now: number): Promise<{ user: string; until: number }[]> {
    return (await this.shadow.find({ $or: [{ until: 0 }, { until: { $gt: now } }] }).sort({ _id: 1 }).toArray()).map((d) => ({ user: d._id, until: d.until }));
  }

  async sawDevice(user: string, device: string, now: number): Promise<void> {
    await this.devices.updateOne({ _id: `${user}\u0000${device}` }, { $set: { user, device, lastAt: now }, $setOnInsert: { firstAt: now } }, { upsert: true });
  }

  async devicesOf(user: string): Promise<string[]> {
    return (await this.devices.find({ user }).sort({ lastAt: -1 }).limit(50).toArray()).map((d) => d.device);
  }

  async exportUser(user: string): Promise<PersonalExport> {
    const out = await this.personal.exportUser(user);
    const filed = await this.filings.find({ reporter: user }).sort({ at: 1 }).toArray();
    const reports = new Map((await this.reportsCol.find({ _id: { $in: filed.map((f) => f.report) } }).toArray()).map((d) => [d._id, toReport(d)]));
    out.reports_filed = filed.flatMap((f) => (reports.has(f.report) ? [reportAsFiled(reports.get(f.report)!, user, f.at)] : []));
    return out;
  }

  /** Also the open-report locks keyed by a target that names the user. */
  async eraseUser(e: Erasure): Promise<ErasureCounts> {
    const counts = await this.personal.eraseUser(e);
    const locks = (await this.openLocks.deleteMany({ _id: { $regex: escapeRegex(e.user) } })).deletedCount;
    if (locks > 0) counts.open_reports = locks;
    return counts;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
