/**
 * Platform moderation (docs/moderation.md): reports with a snapshot taken when they are filed, the staff
 * review queue (claim, notes, resolve with an action, appeals), platform actions (suspend, shadow-mute,
 * end a live room, room actions by staff), and the account side of ban evasion. Every staff decision and
 * every room moderator's action lands in the audit log; reports and decisions also go to analytics.
 *
 * It holds no state of its own: the ModerationStore is the record, the realtime bridge carries actions to
 * the rooms and sockets, and the accounts store ends a suspended user's sessions.
 */
import { randomUUID } from 'node:crypto';
import type { AccountStore } from '../adapters/accounts/account-store';
import type { RoomDirectory } from '../adapters/rooms/room-directory';
import type { OutboxNotification, RealtimeStore } from '../adapters/store/realtime-store';
import type { RealtimeBridge } from '../adapters/bridge/realtime-bridge';
import type { AuditEntry, ModerationStore, Report, ReportTarget, Suspension } from '../adapters/moderation/moderation-store';
import type { ChatFilter } from './chat-filter';
import type { ReportRules } from './report-rules';
import { ApiError } from '../api/errors';
import { decodeInternal } from '../common/internal-codec';
import { ServerOp } from '../protocol/codes';

/** What a user reports: a user, a room, a chat message (room + seq), or a DM they received (sender + inbox id). */
export type ReportInput =
  | { kind: 'user'; user: string }
  | { kind: 'room'; room: string }
  | { kind: 'message'; room: string; seq: number }
  | { kind: 'dm'; from: string; id: number; text?: string };

/** How staff resolve a report; each applies to some target kinds (RESOLUTION_TARGETS). */
export const RESOLUTIONS = ['dismiss', 'delete_message', 'ban_from_room', 'shadow_mute', 'suspend', 'end_room'] as const;
export type ResolutionAction = (typeof RESOLUTIONS)[number];
const RESOLUTION_TARGETS: Record<ResolutionAction, readonly ReportTarget['kind'][]> = {
  dismiss: ['user', 'room', 'message', 'dm'],
  delete_message: ['message'],
  ban_from_room: ['message'],
  shadow_mute: ['user', 'message', 'dm'],
  suspend: ['user', 'room', 'message', 'dm'],
  end_room: ['room'],
};

export interface ModerationEvent {
  readonly type: 'report' | 'report_resolved' | 'mod_action';
  readonly user: string;
  readonly action?: string;
  readonly rule?: string;
  readonly target?: string;
  readonly room?: string;
  readonly durationMs?: number;
}

export interface ModerationServiceDeps {
  readonly store: ModerationStore;
  readonly accounts: Pick<AccountStore, 'userById' | 'revokeSessions'>;
  readonly rooms: Pick<RoomDirectory, 'get'>;
  readonly realtime: Pick<RealtimeStore, 'roomEvent' | 'loadRoom' | 'loadInbox'>;
  readonly bridge: Pick<RealtimeBridge, 'moderate' | 'shadowMute' | 'endStream'>;
  /** Closes the sockets of revoked sessions and refuses their tokens (the auth service's sink). */
  readonly revoke: (sids: readonly string[]) => void;
  readonly filter: ChatFilter;
  readonly rules: ReportRules;
  readonly now: () => number;
  readonly analytics?: (e: ModerationEvent) => void;
  /** Counts report outcomes (halobuzz_moderation_reports_total). */
  readonly count?: (outcome: 'filed' | 'merged' | 'rate_limited' | 'flagged' | 'resolved') => void;
}

const SECOND = 1000;

export class ModerationService {
  constructor(private readonly d: ModerationServiceDeps) {}

  get reasons(): { id: string; label: string; priority: number }[] {
    return Object.entries(this.d.rules.data.reasons).map(([id, r]) => ({ id, label: r.label, priority: r.priority }));
  }

  /** A user's report: the target is snapshotted now; a repeat of an open report joins it. */
  async report(reporter: string, input: ReportInput, reason: string, text: string): Promise<{ report: Report; merged: boolean }> {
    if (!this.d.rules.data.reasons[reason]) throw new ApiError('HB_API_VALIDATION', `reason must be one of ${this.d.rules.reasons.join(', ')}`);
    const { target, key, snapshot } = await this.snapshot(reporter, input);
    if (target.user === reporter) throw new ApiError('HB_API_VALIDATION', 'you cannot report yourself');
    const now = this.d.now();
    const result = await this.d.store.file({ id: `rep_${randomUUID()}`, targetKey: key, target, reason, text, snapshot, priority: this.d.rules.priority(reason), createdAt: now, reporter },
      { perHour: this.d.rules.data.perHour, system: false, escalateAt: this.d.rules.data.escalateAtReporters });
    this.d.count?.(result.kind);
    if (result.kind === 'rate_limited') throw new ApiError('HB_API_REPORT_LIMIT', `at most ${this.d.rules.data.perHour} reports an hour`, { 'retry-after': '3600' });
    this.d.analytics?.({ type: 'report', user: reporter, rule: reason, ...(target.user ? { target: target.user } : {}), ...(target.room ? { room: target.room } : {}) });
    return { report: result.report, merged: result.kind === 'merged' };
  }

  /** A report the platform files (the filter flagged a message, an account on a banned device…). */
  async systemReport(target: ReportTarget, key: string, reason: string, text: string, snapshot: Record<string, unknown>): Promise<Report> {
    const result = await this.d.store.file({ id: `rep_${randomUUID()}`, targetKey: key, target, reason, text, snapshot, priority: this.d.rules.priority(reason), createdAt: this.d.now(), reporter: 'system' },
      { perHour: 0, system: true });
    this.d.count?.('flagged');
    if (result.kind === 'rate_limited') throw new Error('system reports are never rate limited');
    return result.report;
  }

  /** From the realtime outbox: a filter flag or a ban evasion in a room (kind `mod_flag`). */
  async flagged(n: OutboxNotification): Promise<void> {
    const d = n.data;
    if (d.reason === 'ban_evasion') {
      await this.systemReport({ kind: 'user', user: n.user, room: String(d.room) }, `user:${n.user}`, 'ban_evasion',
        `joined ${String(d.room)} from a device banned with ${String(d.banned)}`, { room: d.room, device: d.device, bannedAccount: d.banned, at: n.at });
      return;
    }
    await this.systemReport({ kind: 'message', user: n.user, room: String(d.room), seq: Number(d.seq) }, `message:${String(d.room)}:${Number(d.seq)}`, `filter:${String(d.reason)}`,
      `the chat filter flagged it (${String(d.reason)})`, { from: n.user, text: d.text, room: d.room, seq: d.seq, ts: n.at });
  }

  /** From the realtime outbox: a room moderator's action (kind `mod_action`), for the audit log. */
  async roomAction(n: OutboxNotification): Promise<void> {
    const d = n.data;
    await this.d.store.audit({ id: n.id, at: n.at, actor: n.user, action: `room_${String(d.action)}`, target: d.target ? String(d.target) : `room:${String(d.room)}`,
      reason: '', detail: JSON.stringify({ room: d.room, ...(JSON.parse(String(d.detail ?? '{}')) as object) }) });
  }

  async claim(staff: string, id: string): Promise<Report> {
    const r = await this.d.store.claim(id, staff, this.d.now());
    if (!r) throw await this.stateError(id);
    await this.audit(staff, 'report_claim', `report:${id}`, '', {});
    return r;
  }

  async note(staff: string, id: string, text: string): Promise<Report> {
    const r = await this.d.store.addNote(id, { by: staff, text, at: this.d.now() });
    if (!r) throw new ApiError('HB_API_NOT_FOUND', 'no such report');
    return r;
  }

  /** Resolves a report with an action, applies the action, and audits both. */
  async resolve(staff: string, id: string, action: ResolutionAction, reason: string, opts: { durationSec?: number; devices?: boolean }): Promise<Report> {
    const report = await this.d.store.report(id);
    if (!report) throw new ApiError('HB_API_NOT_FOUND', 'no such report');
    if (!RESOLUTION_TARGETS[action].includes(report.target.kind)) {
      throw new ApiError('HB_API_VALIDATION', `${action} does not apply to a ${report.target.kind} report (use ${RESOLUTIONS.filter((a) => RESOLUTION_TARGETS[a].includes(report.target.kind)).join(', ')})`);
    }
    const now = this.d.now();
    const until = opts.durationSec ? now + opts.durationSec * SECOND : 0;
    const resolved = await this.d.store.resolve(id, { action, reason, by: staff, at: now, ...(action !== 'dismiss' && action !== 'delete_message' && action !== 'end_room' ? { until } : {}) });
    if (!resolved) throw await this.stateError(id);
    const t = report.target;
    switch (action) {
      case 'dismiss':
        break;
      case 'delete_message':
        await this.d.bridge.moderate(t.room!, staff, 'delete', [t.seq!]);
        break;
      case 'ban_from_room':
        await this.d.bridge.moderate(t.room!, staff, 'ban', [t.user!, opts.durationSec ?? 0, opts.devices === true]);
        break;
      case 'shadow_mute':
        await this.shadowMute(staff, t.user!, reason, opts.durationSec ?? null);
        break;
      case 'suspend':
        await this.suspend(staff, t.user!, reason, opts.durationSec ?? null, opts.devices === true);
        break;
      case 'end_room':
        await this.endRoom(staff, t.room!, reason);
        break;
    }
    await this.audit(staff, 'report_resolve', `report:${id}`, reason, { action, target: t, ...(opts.durationSec ? { durationSec: opts.durationSec } : {}) });
    this.d.count?.('resolved');
    this.d.analytics?.({ type: 'report_resolved', user: staff, action, rule: report.reason, durationMs: now - report.createdAt, ...(t.user ? { target: t.user } : {}) });
    return resolved;
  }

  /** The reported user appeals a decision against them (once, after it was resolved with an action). */
  async appeal(user: string, id: string, text: string): Promise<Report> {
    const report = await this.d.store.report(id);
    if (!report || report.target.user !== user) throw new ApiError('HB_API_NOT_FOUND', 'no such decision about you');
    if (report.resolution?.action === 'dismiss') throw new ApiError('HB_API_REPORT_STATE', 'this report was dismissed: nothing to appeal');
    const r = await this.d.store.appeal(id, { text, at: this.d.now() });
    if (!r) throw await this.stateError(id);
    await this.audit(user, 'appeal', `report:${id}`, text, {});
    return r;
  }

  /** Staff decide an appeal: upheld (the action stands) or overturned (what can be undone is undone). */
  async decideAppeal(staff: string, id: string, uphold: boolean, note: string): Promise<Report> {
    const r = await this.d.store.decideAppeal(id, { decision: uphold ? 'upheld' : 'overturned', by: staff, decidedAt: this.d.now(), note });
    if (!r) throw await this.stateError(id);
    if (!uphold) {
      const t = r.target;
      switch (r.resolution?.action) {
        case 'suspend':
          await this.lift(staff, t.user!, `appeal of ${id} overturned`);
          break;
        case 'shadow_mute':
          await this.unshadowMute(staff, t.user!, `appeal of ${id} overturned`);
          break;
        case 'ban_from_room':
          await this.d.bridge.moderate(t.room!, staff, 'unban', [t.user!]);
          break;
        default:
          // A deleted message or an ended stream cannot be brought back.
          break;
      }
    }
    await this.audit(staff, uphold ? 'appeal_uphold' : 'appeal_overturn', `report:${id}`, note, {});
    return r;
  }

  /** Suspends an account: its sessions end now (sockets close 4005), sign-in is refused until `durationSec` passes. */
  async suspend(staff: string, user: string, reason: string, durationSec: number | null, devices: boolean): Promise<Suspension> {
    if (!(await this.d.accounts.userById(user))) throw new ApiError('HB_API_NOT_FOUND', 'no such user');
    const now = this.d.now();
    const s: Suspension = { user, until: durationSec ? now + durationSec * SECOND : 0, reason, by: staff, at: now, devices: devices ? await this.d.store.devicesOf(user) : [] };
    await this.d.store.suspend(s);
    const sids = await this.d.accounts.revokeSessions({ userId: user }, now);
    this.d.revoke(sids);
    await this.audit(staff, 'suspend', user, reason, { until: s.until, devices: s.devices.length, sessions: sids.length });
    return s;
  }

  async lift(staff: string, user: string, reason: string): Promise<void> {
    if (!(await this.d.store.lift(user, this.d.now()))) throw new ApiError('HB_API_NOT_FOUND', 'no suspension in force');
    await this.audit(staff, 'unsuspend', user, reason, {});
  }

  /** The user's chat reaches only themselves until `durationSec` passes (null: until lifted). */
  async shadowMute(staff: string, user: string, reason: string, durationSec: number | null): Promise<number> {
    const until = durationSec ? this.d.now() + durationSec * SECOND : 0;
    await this.d.store.setShadowMute(user, until);
    await this.d.bridge.shadowMute(user, until === 0 ? Number.MAX_SAFE_INTEGER : until);
    await this.audit(staff, 'shadow_mute', user, reason, { until });
    return until;
  }

  async unshadowMute(staff: string, user: string, reason: string): Promise<void> {
    await this.d.store.setShadowMute(user, null);
    await this.d.bridge.shadowMute(user, null);
    await this.audit(staff, 'shadow_unmute', user, reason, {});
  }

  /** Every node learns the shadow mutes in force (at API start). */
  async loadShadowMutes(): Promise<number> {
    const list = await this.d.store.shadowMutes(this.d.now());
    for (const m of list) await this.d.bridge.shadowMute(m.user, m.until === 0 ? Number.MAX_SAFE_INTEGER : m.until);
    return list.length;
  }

  /** Staff end a live room (its stream ends for everyone, as if the host ended it). */
  async endRoom(staff: string, room: string, reason: string): Promise<void> {
    const listing = await this.d.rooms.get(room);
    if (!listing) throw new ApiError('HB_API_NOT_FOUND', 'no such room');
    await this.d.bridge.endStream(room, listing.owner);
    await this.audit(staff, 'end_room', `room:${room}`, reason, { owner: listing.owner });
  }

  /** A staff action in a room (mute, kick, ban… as a moderator would), applied by the room's actor. */
  async roomModerate(staff: string, room: string, action: string, args: unknown[], reason: string): Promise<void> {
    await this.d.bridge.moderate(room, staff, action, args);
    await this.audit(staff, `room_${action}`, typeof args[0] === 'string' ? args[0] : `room:${room}`, reason, { room, args });
  }

  /**
   * Before any sign-in (register, login, MFA): a suspended account is refused; the install id (X-Device-Id)
   * is remembered, and an account signing in on a device a suspension covers is reported for review.
   */
  async beforeSession(user: string, device: string | null, isNew: boolean): Promise<void> {
    const now = this.d.now();
    const s = await this.d.store.suspension(user, now);
    if (s) throw new ApiError('HB_API_ACCOUNT_SUSPENDED', s.until === 0 ? 'this account is suspended' : `this account is suspended until ${new Date(s.until).toISOString()}`, {}, { until: s.until, reason: s.reason });
    if (!device) return;
    await this.d.store.sawDevice(user, device, now);
    const covering = await this.d.store.suspensionCovering(device, user, now);
    if (covering) {
      await this.systemReport({ kind: 'user', user }, `user:${user}`, 'ban_evasion', `signed in on a device of suspended account ${covering.user}`,
        { device, suspendedAccount: covering.user, newAccount: isNew, at: now });
    }
  }

  /**
   * A display name through the filter at the configured strictness: refused when a rule would block or mask
   * it (a masked name is no name), accepted and reported when a rule flags it.
   */
  displayName(name: string): { ok: true; flagged: string | null } | { ok: false; rule: string } {
    const v = this.d.filter.check(name, this.d.filter.config.displayNameStrictness);
    if (v.action === 'block' || v.action === 'mask') return { ok: false, rule: v.rule ?? 'filter' };
    return { ok: true, flagged: v.action === 'flag' ? v.rule : null };
  }

  async flagName(user: string, name: string, rule: string): Promise<void> {
    await this.systemReport({ kind: 'user', user }, `user:${user}`, `filter:${rule}`, `display name flagged (${rule})`, { displayName: name });
  }

  /** What a user may know about decisions against them: the suspension in force and reports resolved about them. */
  async about(user: string): Promise<{ suspension: Suspension | null; decisions: Report[] }> {
    const [suspension, reports] = await Promise.all([this.d.store.suspension(user, this.d.now()), this.d.store.reportsAbout(user, 50)]);
    return { suspension, decisions: reports.filter((r) => r.resolution !== null && r.resolution.action !== 'dismiss') };
  }

  private async snapshot(reporter: string, input: ReportInput): Promise<{ target: ReportTarget; key: string; snapshot: Record<string, unknown> }> {
    switch (input.kind) {
      case 'user': {
        const u = await this.d.accounts.userById(input.user);
        if (!u) throw new ApiError('HB_API_NOT_FOUND', 'no such user');
        return { target: { kind: 'user', user: u.id }, key: `user:${u.id}`, snapshot: { displayName: u.displayName, avatarUrl: u.avatarUrl ?? null, createdAt: u.createdAt } };
      }
      case 'room': {
        const [listing, state] = await Promise.all([this.d.rooms.get(input.room), this.d.realtime.loadRoom(input.room, 20)]);
        if (!listing && state.seq === 0) throw new ApiError('HB_API_NOT_FOUND', 'no such room');
        const recentChat = state.history.map((h) => decodeInternal(h.frame) as unknown[]).filter((f) => f[0] === ServerOp.ROOM_CHAT).map((f) => ({ seq: f[2], from: f[4], text: f[5] }));
        const owner = listing?.owner ?? state.owner;
        return { target: { kind: 'room', user: owner, room: input.room }, key: `room:${input.room}`, snapshot: { title: listing?.title ?? null, owner, live: state.stream !== null, recentChat } };
      }
      case 'message': {
        const event = await this.d.realtime.roomEvent(input.room, input.seq);
        const frame = event ? decodeInternal(event.frame) as unknown[] : null;
        if (!frame || frame[0] !== ServerOp.ROOM_CHAT) throw new ApiError('HB_API_NOT_FOUND', 'no such chat message (it may have been removed already)');
        const from = frame[4] as string;
        return { target: { kind: 'message', user: from, room: input.room, seq: input.seq }, key: `message:${input.room}:${input.seq}`,
          snapshot: { room: input.room, seq: input.seq, ts: frame[3], from, text: frame[5] } };
      }
      case 'dm': {
        // Unacknowledged DMs are still in the inbox and are snapshotted from there; an acknowledged one is
        // gone from the server, so the reporter's copy is kept, marked unverified.
        const inbox = await this.d.realtime.loadInbox(reporter, 10_000);
        const m = inbox.pending.find((p) => p.seq === input.id && p.from === input.from);
        if (!m && !input.text) throw new ApiError('HB_API_NOT_FOUND', 'that message is no longer on the server: send its text with the report');
        return { target: { kind: 'dm', user: input.from, seq: input.id }, key: `dm:${reporter}:${input.id}`,
          snapshot: m ? { from: m.from, text: m.text, ts: m.ts, verified: true } : { from: input.from, text: input.text, verified: false } };
      }
    }
  }

  private async stateError(id: string): Promise<ApiError> {
    const r = await this.d.store.report(id);
    return r ? new ApiError('HB_API_REPORT_STATE', `the report is ${r.status}${r.claimedBy ? ` (claimed by ${r.claimedBy})` : ''}`) : new ApiError('HB_API_NOT_FOUND', 'no such report');
  }

  private async audit(actor: string, action: string, target: string, reason: string, detail: Record<string, unknown>): Promise<void> {
    const entry: AuditEntry = { id: `${action}:${randomUUID()}`, at: this.d.now(), actor, action, target, reason, detail: JSON.stringify(detail) };
    await this.d.store.audit(entry);
    this.d.analytics?.({ type: 'mod_action', user: actor, action, target });
  }
}
