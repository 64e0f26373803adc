/**
 * AccountStore on MongoDB (the official driver; FerretDB here), so API processes keep nothing on local
 * disk. Documents use the SQLite store's column names, so a user's export reads the same on both engines.
 *
 * FerretDB 1.x has no multi-document transactions and does not apply a filtered update atomically
 * against a concurrent one (adapters/mongo/insert-once.ts), so every "at most once" is an insert under a
 * unique key:
 * - an email is unique by a unique index on `email` (five sign-ups racing for one email make one account);
 * - a refresh token is consumed by inserting its marker (`refresh_used`, `_id` the token hash): of five
 *   refreshes racing with it, one rotates and the others see a reuse. The new token is stored after that;
 *   a crash in between leaves the session without a current token (its owner signs in again), never two;
 * - an MFA step is used by inserting `<user>\n<step>` (`mfa_steps`), a backup code by inserting its
 *   marker before deleting it; one-time keys and blocks are documents keyed by what they are;
 * - security event ids are the time in µs, unique by insert (a collision takes the next number), so they
 *   rise with time and page by id without a counter (a `$inc` counter hands out duplicates on FerretDB).
 */
import { MongoClient, type Collection, type Db } from 'mongodb';
import { insertOnce } from '../mongo/insert-once';
import { mongoPersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport, type PersonalTable } from '../privacy/personal-data';
import type { AccountStore, LoginSession, MfaState, Profile, RotateResult, SecurityEvent, User } from './account-store';

interface UserDoc {
  _id: string; id: string; email: string; password_hash: string; display_name: string; roles: string[]; created_at: number;
  avatar_url: string | null; locale: string | null; country: string | null;
  mfa_secret: string | null; mfa_enabled: boolean; mfa_last_step: number;
  deactivated_at: number | null; erase_after: number | null; pseudonym: string | null;
}
interface SessionDoc { _id: string; sid: string; user_id: string; created_at: number; last_used_at: number; user_agent: string; ip: string; revoked_at: number | null }
interface TokenDoc { _id: string; sid: string; expires_at: number; used_at: number | null }
interface BlockDoc { _id: string; user_id: string; blocked: string; since: number }
interface BackupDoc { _id: string; user_id: string }
interface EventDoc { _id: number; id: number; ts: number; user_id: string | null; type: string; ip: string; detail: string }
interface OnceDoc { _id: string; expires_at: number }
interface UsedTokenDoc { _id: string; sid: string; at: number }
interface StepDoc { _id: string; user_id: string; at: number }

const PERSONAL: readonly PersonalTable[] = [
  { table: 'users', section: 'account', owner: ['id'], erase: 'delete', omit: ['password_hash', 'mfa_secret', 'pseudonym'] },
  { table: 'sessions', section: 'sessions', owner: ['user_id'], erase: 'delete' },
  { table: 'blocks', section: 'blocks', owner: ['user_id'], erase: 'delete' },
  // Others' blocks of an erased account protect nobody any more.
  { table: 'blocks', section: null, owner: ['blocked'], erase: 'delete' },
  { table: 'backup_codes', section: null, owner: ['user_id'], erase: 'delete' },
  { table: 'backup_codes_used', section: null, owner: ['user_id'], erase: 'delete' },
  { table: 'mfa_steps', section: null, owner: ['user_id'], erase: 'delete' },
  { table: 'security_events', section: 'security_events', owner: ['user_id'], erase: 'delete' },
];


const toUser = (d: UserDoc): User => ({
  id: d.id, email: d.email, passwordHash: d.password_hash, displayName: d.display_name, roles: [...d.roles], createdAt: d.created_at,
  avatarUrl: d.avatar_url ?? null, locale: d.locale ?? null, country: d.country ?? null,
  deactivatedAt: d.deactivated_at ?? null, eraseAfter: d.erase_after ?? null, pseudonym: d.pseudonym ?? null,
});
const toSession = (d: SessionDoc): LoginSession => ({ sid: d.sid, userId: d.user_id, createdAt: d.created_at, lastUsedAt: d.last_used_at, userAgent: d.user_agent, ip: d.ip, revokedAt: d.revoked_at ?? null });
const toEvent = (d: EventDoc): SecurityEvent => ({ id: d.id, ts: d.ts, userId: d.user_id ?? null, type: d.type, ip: d.ip, detail: d.detail });

export class MongoAccountStore implements AccountStore {
  private readonly users: Collection<UserDoc>;
  private readonly sessions: Collection<SessionDoc>;
  private readonly tokens: Collection<TokenDoc>;
  private readonly blocksCol: Collection<BlockDoc>;
  private readonly backupCodes: Collection<BackupDoc>;
  private readonly eventsCol: Collection<EventDoc>;
  private readonly once: Collection<OnceDoc>;
  private readonly usedTokens: Collection<UsedTokenDoc>;
  private readonly steps: Collection<StepDoc>;
  private readonly usedCodes: Collection<StepDoc>;
  private readonly personal: PersonalData;
  private lastEventId = 0;

  private constructor(private readonly client: MongoClient, db: Db) {
    this.users = db.collection('users');
    this.sessions = db.collection('sessions');
    this.tokens = db.collection('refresh_tokens');
    this.blocksCol = db.collection('blocks');
    this.backupCodes = db.collection('backup_codes');
    this.eventsCol = db.collection('security_events');
    this.once = db.collection('used_once');
    this.usedTokens = db.collection('refresh_used');
    this.steps = db.collection('mfa_steps');
    this.usedCodes = db.collection('backup_codes_used');
    this.personal = mongoPersonalData((name) => db.collection(name), PERSONAL);
  }

  static async connect(url: string): Promise<MongoAccountStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const db = client.db();
    const store = new MongoAccountStore(client, db);
    await store.users.createIndex({ email: 1 }, { unique: true });
    await store.users.createIndex({ erase_after: 1 });
    await store.sessions.createIndex({ user_id: 1, created_at: -1 });
    await store.sessions.createIndex({ revoked_at: 1 });
    await store.tokens.createIndex({ sid: 1 });
    await store.usedTokens.createIndex({ sid: 1 });
    await store.steps.createIndex({ user_id: 1, at: 1 });
    await store.blocksCol.createIndex({ user_id: 1, since: -1 });
    await store.blocksCol.createIndex({ blocked: 1 });
    await store.eventsCol.createIndex({ user_id: 1, _id: -1 });
    return store;
  }

  async createUser(u: User): Promise<'created' | 'email_taken'> {
    const created = await insertOnce(this.users, {
      _id: u.id, id: u.id, email: u.email, password_hash: u.passwordHash, display_name: u.displayName, roles: [...u.roles], created_at: u.createdAt,
      avatar_url: u.avatarUrl ?? null, locale: u.locale ?? null, country: u.country ?? null,
      mfa_secret: null, mfa_enabled: false, mfa_last_step: 0, deactivated_at: null, erase_after: null, pseudonym: null,
    });
    return created ? 'created' : 'email_taken';
  }

  async userByEmail(email: string): Promise<User | null> {
    const d = await this.users.findOne({ email });
    return d ? toUser(d) : null;
  }

  async userById(id: string): Promise<User | null> {
    const d = await this.users.findOne({ _id: id });
    return d ? toUser(d) : null;
  }

  async createSession(s: LoginSession, refreshHash: string, refreshExpiresAt: number): Promise<void> {
    // The session first: a token never points at a session that is not there.
    await this.sessions.insertOne({ _id: s.sid, sid: s.sid, user_id: s.userId, created_at: s.createdAt, last_used_at: s.lastUsedAt, user_agent: s.userAgent, ip: s.ip, revoked_at: null });
    await this.tokens.insertOne({ _id: refreshHash, sid: s.sid, expires_at: refreshExpiresAt, used_at: null });
  }

  async rotateRefresh(oldHash: string, newHash: string, newExpiresAt: number, now: number): Promise<RotateResult> {
    const token = await this.tokens.findOne({ _id: oldHash });
    if (!token) return { kind: 'unknown' };
    const doc = await this.sessions.findOne({ _id: token.sid });
    if (!doc) return { kind: 'unknown' };
    const session = toSession(doc);
    if (token.used_at !== null || (await this.usedTokens.findOne({ _id: oldHash }, { projection: { _id: 1 } }))) return { kind: 'reused', session };
    if (session.revokedAt !== null) return { kind: 'revoked', session };
    if (token.expires_at <= now) return { kind: 'expired' };
    if (!(await insertOnce(this.usedTokens, { _id: oldHash, sid: token.sid, at: now }))) return { kind: 'reused', session };
    await this.tokens.updateOne({ _id: oldHash }, { $set: { used_at: now } });
    await this.tokens.insertOne({ _id: newHash, sid: token.sid, expires_at: newExpiresAt, used_at: null });
    await this.sessions.updateOne({ _id: token.sid }, { $set: { last_used_at: now } });
    return { kind: 'rotated', session: { ...session, lastUsedAt: now } };
  }

  async session(sid: string): Promise<LoginSession | null> {
    const d = await this.sessions.findOne({ _id: sid });
    return d ? toSession(d) : null;
  }

  async sessionsOf(userId: string): Promise<LoginSession[]> {
    return (await this.sessions.find({ user_id: userId, revoked_at: null }).sort({ created_at: -1 }).toArray()).map(toSession);
  }

  async revokeSessions(filter: { sid: string } | { userId: string }, now: number): Promise<string[]> {
    const live = await this.sessions.find({ ...('sid' in filter ? { _id: filter.sid } : { user_id: filter.userId }), revoked_at: null }, { projection: { _id: 1 } }).toArray();
    const revoked: string[] = [];
    // One conditional update each: a session revoked by a racing call is reported by that call only.
    for (const { _id } of live) {
      if ((await this.sessions.updateOne({ _id, revoked_at: null }, { $set: { revoked_at: now } })).modifiedCount === 1) revoked.push(_id);
    }
    return revoked;
  }

  async revokedSince(sinceMs: number): Promise<string[]> {
    return (await this.sessions.find({ revoked_at: { $gte: sinceMs } }, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
  }

  async updateProfile(userId: string, p: Profile): Promise<User | null> {
    const set: Partial<UserDoc> = {};
    if (p.displayName !== undefined) set.display_name = p.displayName;
    if (p.avatarUrl !== undefined) set.avatar_url = p.avatarUrl;
    if (p.locale !== undefined) set.locale = p.locale;
    if (p.country !== undefined) set.country = p.country;
    if (Object.keys(set).length > 0) await this.users.updateOne({ _id: userId }, { $set: set });
    return this.userById(userId);
  }

  async setRoles(userId: string, roles: readonly string[]): Promise<void> {
    await this.users.updateOne({ _id: userId }, { $set: { roles: [...roles] } });
  }

  async block(userId: string, blocked: string, now: number): Promise<void> {
    await insertOnce(this.blocksCol, { _id: `${userId}\n${blocked}`, user_id: userId, blocked, since: now });
  }

  async unblock(userId: string, blocked: string): Promise<boolean> {
    return (await this.blocksCol.deleteOne({ _id: `${userId}\n${blocked}` })).deletedCount === 1;
  }

  async blocks(userId: string): Promise<{ userId: string; since: number }[]> {
    return (await this.blocksCol.find({ user_id: userId }).sort({ since: -1 }).toArray()).map((d) => ({ userId: d.blocked, since: d.since }));
  }

  async isBlocked(userId: string, by: string): Promise<boolean> {
    return (await this.blocksCol.findOne({ _id: `${by}\n${userId}` }, { projection: { _id: 1 } })) !== null;
  }

  async mfa(userId: string): Promise<MfaState> {
    const d = await this.users.findOne({ _id: userId }, { projection: { mfa_secret: 1, mfa_enabled: 1, mfa_last_step: 1 } });
    return { secret: d?.mfa_secret ?? null, enabled: d?.mfa_enabled === true, lastStep: d?.mfa_last_step ?? 0 };
  }

  async setMfa(userId: string, state: MfaState, backupCodeHashes?: readonly string[]): Promise<void> {
    await this.users.updateOne({ _id: userId }, { $set: { mfa_secret: state.secret, mfa_enabled: state.enabled, mfa_last_step: state.lastStep } });
    if (backupCodeHashes) {
      await this.backupCodes.deleteMany({ user_id: userId });
      // A new set may repeat an old code's hash only by chance; its used marker must not refuse it.
      await this.usedCodes.deleteMany({ user_id: userId });
      if (backupCodeHashes.length > 0) await this.backupCodes.insertMany(backupCodeHashes.map((h) => ({ _id: `${userId}\n${h}`, user_id: userId })));
    }
  }

  async useMfaStep(userId: string, step: number): Promise<boolean> {
    const user = await this.users.findOne({ _id: userId }, { projection: { mfa_last_step: 1 } });
    if (!user || user.mfa_last_step >= step) return false;
    // The marker decides between racing sign-ins with the same code; markers older than an hour (far past
    // any TOTP window) go, the last step on the user refuses older codes.
    if (!(await insertOnce(this.steps, { _id: `${userId}\n${step}`, user_id: userId, at: Date.now() }))) return false;
    await this.users.updateOne({ _id: userId }, { $max: { mfa_last_step: step } });
    await this.steps.deleteMany({ user_id: userId, at: { $lt: Date.now() - 3_600_000 } });
    return true;
  }

  async useBackupCode(userId: string, hash: string): Promise<boolean> {
    const _id = `${userId}\n${hash}`;
    if (!(await this.backupCodes.findOne({ _id }, { projection: { _id: 1 } }))) return false;
    if (!(await insertOnce(this.usedCodes, { _id, user_id: userId, at: Date.now() }))) return false;
    await this.backupCodes.deleteOne({ _id });
    return true;
  }

  async useOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    await this.once.deleteMany({ expires_at: { $lt: now } });
    return insertOnce(this.once, { _id: key, expires_at: expiresAt });
  }

  async usedOnce(key: string): Promise<boolean> {
    return (await this.once.findOne({ _id: key }, { projection: { _id: 1 } })) !== null;
  }

  async signedInFrom(userId: string, ip: string, sinceMs: number): Promise<boolean> {
    return (await this.sessions.findOne({ user_id: userId, ip, created_at: { $gte: sinceMs } }, { projection: { _id: 1 } })) !== null;
  }

  async logEvent(e: Omit<SecurityEvent, 'id'>): Promise<void> {
    let id = Math.max(Date.now() * 1000, this.lastEventId + 1);
    while (!(await insertOnce(this.eventsCol, { _id: id, id, ts: e.ts, user_id: e.userId, type: e.type, ip: e.ip, detail: e.detail }))) id++;
    this.lastEventId = id;
  }

  async events(f: { userId?: string; type?: string; before?: number; limit: number }): Promise<SecurityEvent[]> {
    const filter: Record<string, unknown> = { _id: { $lt: f.before ?? Number.MAX_SAFE_INTEGER } };
    if (f.userId !== undefined) filter.user_id = f.userId;
    if (f.type !== undefined) filter.type = f.type;
    return (await this.eventsCol.find(filter).sort({ _id: -1 }).limit(f.limit).toArray()).map(toEvent);
  }

  async deactivate(userId: string, at: number, eraseAfter: number, pseudonym: string): Promise<boolean> {
    return (await this.users.updateOne({ _id: userId, deactivated_at: null }, { $set: { deactivated_at: at, erase_after: eraseAfter, pseudonym } })).modifiedCount === 1;
  }

  async reactivate(userId: string): Promise<boolean> {
    return (await this.users.updateOne({ _id: userId, deactivated_at: { $ne: null } }, { $set: { deactivated_at: null, erase_after: null, pseudonym: null } })).modifiedCount === 1;
  }

  async dueErasures(now: number, limit: number): Promise<User[]> {
    return (await this.users.find({ erase_after: { $ne: null, $lte: now } }).sort({ erase_after: 1 }).limit(limit).toArray()).map(toUser);
  }

  async deactivatedAmong(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const docs = await this.users.find({ _id: { $in: [...ids] }, deactivated_at: { $ne: null } }, { projection: { _id: 1 } }).toArray();
    return new Set(docs.map((d) => d._id));
  }

  exportUser(user: string): Promise<PersonalExport> {
    return this.personal.exportUser(user);
  }

  /** Refresh tokens go with their sessions; failed sign-ins recorded under the email (no user id) go too. */
  async eraseUser(e: Erasure): Promise<ErasureCounts> {
    const sids = (await this.sessions.find({ user_id: e.user }, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
    const tokens = sids.length === 0 ? 0 : (await this.tokens.deleteMany({ sid: { $in: sids } })).deletedCount;
    if (sids.length > 0) await this.usedTokens.deleteMany({ sid: { $in: sids } });
    const byEmail = e.aliases.length === 0 ? 0 : (await this.eventsCol.deleteMany({ user_id: null, detail: { $in: [...e.aliases] } })).deletedCount;
    const counts = await this.personal.eraseUser(e);
    if (tokens > 0) counts.refresh_tokens = tokens;
    if (byEmail > 0) counts.security_events = (counts.security_events ?? 0) + byEmail;
    return counts;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
