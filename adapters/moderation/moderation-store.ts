/**
 * ModerationStore: reports and their review queue, the audit log, account suspensions, shadow mutes and
 * the install ids (devices) seen on each account. SQLite (data/moderation.sqlite) or MongoDB when
 * MONGODB_URL is set; one conformance suite (moderation-store.conformance.ts) holds both to this contract:
 *
 * - `file` is atomic per target: two reports of the same target while one is open make one report (the
 *   second reporter is added, counted once per reporter); a reporter past their hourly limit is refused
 *   without a write. System reports (the filter, ban evasion) have no limit.
 * - Status moves only forward: open → claimed → resolved → (appealed → closed); each step checks the state
 *   it expects in the same write (two staff claiming at once: one wins).
 */

export type ReportTargetKind = 'user' | 'room' | 'message' | 'dm';
import type { PersonalData } from '../privacy/personal-data';

export type ReportStatus = 'open' | 'claimed' | 'resolved' | 'appealed' | 'closed';

export interface ReportTarget {
  readonly kind: ReportTargetKind;
  /** The reported user: the user, the room's owner, the message's author, the DM's sender. */
  readonly user: string | null;
  readonly room?: string;
  /** The chat message's seq (message) or the DM's inbox id (dm). */
  readonly seq?: number;
}

export interface Resolution {
  readonly action: string;
  readonly reason: string;
  readonly by: string;
  readonly at: number;
  /** Until when the action holds (suspension, shadow mute, room ban; 0: permanent), if it has an end. */
  readonly until?: number;
}

export interface Appeal {
  readonly text: string;
  readonly at: number;
  /** Staff's decision: upheld (the action stands) or overturned (undone). */
  readonly decision?: 'upheld' | 'overturned';
  readonly by?: string;
  readonly decidedAt?: number;
  readonly note?: string;
}

export interface Report {
  readonly id: string;
  /** Same target, same key: `user:<id>`, `room:<id>`, `message:<room>:<seq>`, `dm:<reporter>:<id>`. */
  readonly targetKey: string;
  readonly target: ReportTarget;
  readonly reason: string;
  /** The first reporter's words (or the filter rule's). */
  readonly text: string;
  /** What the target looked like when reported (JSON), kept even if the content is deleted later. */
  readonly snapshot: Record<string, unknown>;
  readonly reporters: readonly string[];
  /** 1 (urgent) … 3 (low); more reporters raise it. */
  readonly priority: number;
  readonly status: ReportStatus;
  readonly claimedBy: string | null;
  readonly resolution: Resolution | null;
  readonly appeal: Appeal | null;
  readonly notes: readonly { by: string; text: string; at: number }[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type NewReport = Pick<Report, 'id' | 'targetKey' | 'target' | 'reason' | 'text' | 'snapshot' | 'priority' | 'createdAt'> & { readonly reporter: string };

export type FileResult =
  | { kind: 'filed'; report: Report }
  /** An open report of the same target existed: this reporter was added to it. */
  | { kind: 'merged'; report: Report }
  | { kind: 'rate_limited' };

export interface AuditEntry {
  readonly id: string;
  readonly at: number;
  /** Who acted: a staff or room moderator's user id, or `system`. */
  readonly actor: string;
  readonly action: string;
  /** Whom or what it concerned: a user id, `room:<id>`, `report:<id>`. */
  readonly target: string;
  readonly reason: string;
  /** The action's particulars (JSON text). */
  readonly detail: string;
}

export interface Suspension {
  readonly user: string;
  /** ms; 0: permanent. */
  readonly until: number;
  readonly reason: string;
  readonly by: string;
  readonly at: number;
  /** Install ids the suspension also covers (a new account on one is flagged). */
  readonly devices: readonly string[];
}

/** Filing rules: the reporter's hourly limit (none for system reports), and how many reporters make a report one step more urgent. */
export interface FileLimits {
  readonly perHour: number;
  readonly system: boolean;
  readonly escalateAt?: number;
}

/** A merged report's priority: the most urgent of the two, one step more urgent (never above 1) once enough people reported it. */
export function mergedPriority(current: number, incoming: number, reporters: number, escalateAt = Infinity): number {
  return Math.min(current, reporters >= escalateAt ? Math.max(1, incoming - 1) : incoming);
}

export interface ModerationStore extends PersonalData {
  file(report: NewReport, limit: FileLimits): Promise<FileResult>;
  report(id: string): Promise<Report | null>;
  /** By priority, then oldest first; `after` is the last id of the previous page. */
  reports(filter: { status: ReportStatus; limit: number; after?: string }): Promise<Report[]>;
  /** Reports about `user` (as the reported user), newest first. */
  reportsAbout(user: string, limit: number): Promise<Report[]>;
  /** open → claimed by `by` (or already claimed by `by`); null when the report is elsewhere. */
  claim(id: string, by: string, now: number): Promise<Report | null>;
  /** open/claimed → resolved; null when the report was not open or claimed. */
  resolve(id: string, resolution: Resolution): Promise<Report | null>;
  addNote(id: string, note: { by: string; text: string; at: number }): Promise<Report | null>;
  /** resolved → appealed (once); null otherwise. */
  appeal(id: string, appeal: { text: string; at: number }): Promise<Report | null>;
  /** appealed → closed with the decision; null otherwise. */
  decideAppeal(id: string, decision: Required<Pick<Appeal, 'decision' | 'by' | 'decidedAt' | 'note'>>): Promise<Report | null>;

  audit(entry: AuditEntry): Promise<void>;
  /** Newest first; `before` is an `at` (ms) to page back from. */
  auditLog(filter: { target?: string; actor?: string; before?: number; limit: number }): Promise<AuditEntry[]>;

  suspend(s: Suspension): Promise<void>;
  /** Ends a suspension now; false when there was none in force. */
  lift(user: string, now: number): Promise<boolean>;
  /** The suspension in force for `user`, if any. */
  suspension(user: string, now: number): Promise<Suspension | null>;
  /** A suspension in force that covers `device`, of an account other than `user`. */
  suspensionCovering(device: string, user: string, now: number): Promise<Suspension | null>;

  /** `until` ms (0: permanent); null lifts it. */
  setShadowMute(user: string, until: number | null): Promise<void>;
  /** Shadow mutes in force (every node loads them at start). */
  shadowMutes(now: number): Promise<{ user: string; until: number }[]>;

  /** Remembers that `user` signed in with install id `device`. */
  sawDevice(user: string, device: string, now: number): Promise<void>;
  devicesOf(user: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * A report as its reporter may see it in their export: what they reported and why, and its status; the
 * text only when they wrote it (the first reporter), never the other reporters or the staff's notes.
 */
export function reportAsFiled(r: Report, reporter: string, at: number): Record<string, unknown> {
  return { report: r.id, at, target: r.target, reason: r.reason, ...(r.reporters[0] === reporter ? { text: r.text } : {}), status: r.status };
}
