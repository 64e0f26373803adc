/**
 * A room's moderation, run inside its RoomActor (the single writer): who moderates it, who is muted or
 * banned (by user, optionally by device), slow mode, followers-only chat and the filter's strictness. The
 * state is stored with the room (key `mod`, rev-guarded like the games) in the same turn as the sequenced
 * ROOM_MOD event that announces each change, so a rebuilt room, or the next cluster owner, enforces the
 * same bans. docs/moderation.md § Room roles is the contract.
 *
 * Who may do what: the host (the room's owner) and staff (role admin, or the platform through the API) do
 * everything; moderators mute, kick, ban, delete, and set slow mode and followers-only, but not against the
 * host or another moderator; nobody acts against themselves, and nobody bans or mutes the host.
 */
import type { Turn } from './actor';
import type { StoredRoomState } from '../adapters/store/realtime-store';
import { ErrorCode } from '../protocol/codes';
import type { ModAction, Strictness } from '../protocol/requests';

/** What the room's actor accepts: the protocol's MOD actions, and `regions` from the platform. */
export type RoomModAction = ModAction | 'regions';

export type ModRole = 'host' | 'staff' | 'moderator' | 'viewer';

interface Ban {
  /** ms since the epoch; 0: permanent. */
  readonly until: number;
  /** Install ids the ban also covers (docs/moderation.md § Devices). */
  readonly devices: readonly string[];
}

interface StoredModState {
  mods: string[];
  mutes: [string, number][];
  bans: [string, number, string[]][];
  slowSec: number;
  followersOnly: boolean;
  strictness: Strictness;
  /** Countries the room is shown and open in (ISO alpha-2); empty: everywhere. */
  countries?: string[];
}

/** A refusal: the protocol error to reply with. */
export interface ModRefusal {
  readonly code: ErrorCode;
  readonly message: string;
  readonly detail?: Record<string, unknown>;
}

/** What a moderation action changed: the ROOM_MOD event to sequence and the reply's extra fields. */
export interface ModChange {
  readonly action: RoomModAction;
  readonly data: Record<string, unknown>;
  /** Users whose connections must leave the room now (kick, ban). */
  readonly remove?: string;
}

export interface RoomModerationHost {
  readonly id: string;
  owner(): string | null;
  /** Install ids seen on `user`'s joins of this room (for a ban that covers devices). */
  devicesOf(user: string): readonly string[];
}

const KEY = 'mod';

export class RoomModeration {
  private readonly mods = new Set<string>();
  private readonly mutes = new Map<string, number>();
  private readonly bans = new Map<string, Ban>();
  private slowSec = 0;
  private followersOnly = false;
  private strictness: Strictness;
  /** The host's region restriction (docs/regions.md): empty, everywhere. */
  private countries: string[] = [];
  private rev = 0;
  /** Slow mode: when each user last chatted (memory only: a rebuilt room forgives one message). */
  private readonly lastChat = new Map<string, number>();

  constructor(private readonly host: RoomModerationHost, defaultStrictness: Strictness) {
    this.strictness = defaultStrictness;
  }

  restore(state: readonly StoredRoomState[]): void {
    const row = state.find((s) => s.key === KEY);
    if (!row) return;
    this.rev = row.rev;
    const s = JSON.parse(row.state) as StoredModState;
    for (const m of s.mods) this.mods.add(m);
    for (const [user, until] of s.mutes) this.mutes.set(user, until);
    for (const [user, until, devices] of s.bans) this.bans.set(user, { until, devices });
    this.slowSec = s.slowSec;
    this.followersOnly = s.followersOnly;
    this.strictness = s.strictness;
    this.countries = s.countries ?? [];
  }

  get filterStrictness(): Strictness {
    return this.strictness;
  }

  roleOf(user: string, staff: boolean): ModRole {
    if (user === this.host.owner()) return 'host';
    if (staff) return 'staff';
    return this.mods.has(user) ? 'moderator' : 'viewer';
  }

  /** What the JOIN reply tells every member about the room's rules. */
  summary(user: string, staff: boolean, now: number): Record<string, unknown> {
    const muted = this.activeUntil(this.mutes.get(user), now);
    return { slowSec: this.slowSec, followersOnly: this.followersOnly, filter: this.strictness, modRole: this.roleOf(user, staff), mutedUntil: muted ?? 0 };
  }

  /** The moderation state in full (the `state` action; host, staff and moderators only). */
  snapshot(now: number): Record<string, unknown> {
    this.expire(now);
    return {
      moderators: [...this.mods].sort(),
      mutes: [...this.mutes].map(([user, until]) => ({ user, until })),
      bans: [...this.bans].map(([user, b]) => ({ user, until: b.until, devices: b.devices.length })),
      slowSec: this.slowSec, followersOnly: this.followersOnly, filter: this.strictness,
    };
  }

  /**
   * Whether `user` (on `device`) may join. A ban by device on another account refuses the join too and says
   * whose ban it was (`evading`), so the room can flag the account for review.
   */
  joinRefusal(user: string, device: string, country: string, now: number): (ModRefusal & { evading?: string }) | null {
    if (user === this.host.owner()) return null;
    if (this.countries.length > 0 && !this.countries.includes(country)) {
      return { code: ErrorCode.REGION_RESTRICTED, message: 'this room is not available in your region', detail: { country: country || null } };
    }
    const own = this.bans.get(user);
    if (own && this.activeUntil(own.until, now, true) !== null) {
      return { code: ErrorCode.BANNED, message: 'you are banned from this room', detail: { until: own.until } };
    }
    if (!device) return null;
    for (const [banned, b] of this.bans) {
      if (banned !== user && b.devices.includes(device) && this.activeUntil(b.until, now, true) !== null) {
        return { code: ErrorCode.BANNED, message: 'this device is banned from this room', detail: { until: b.until }, evading: banned };
      }
    }
    return null;
  }

  /**
   * The room's own chat rules for one message (mute, slow mode; followers-only is the actor's, since it
   * needs the follow store). Host, moderators and staff are exempt from slow mode.
   */
  chatRefusal(user: string, role: ModRole, now: number): ModRefusal | null {
    const muted = this.activeUntil(this.mutes.get(user), now);
    if (muted !== null) return { code: ErrorCode.MUTED, message: 'you are muted in this room', detail: { until: muted } };
    if (this.slowSec > 0 && role === 'viewer') {
      const last = this.lastChat.get(user);
      const wait = last === undefined ? 0 : last + this.slowSec * 1000 - now;
      if (wait > 0) return { code: ErrorCode.SLOW_MODE, message: `slow mode: one message every ${this.slowSec} s`, detail: { retryAfterMs: wait } };
    }
    return null;
  }

  /** Followers-only chat applies to this sender (a viewer while it is on). */
  needsFollow(role: ModRole): boolean {
    return this.followersOnly && role === 'viewer';
  }

  /** A message was accepted: slow mode counts from now. */
  chatted(user: string, now: number): void {
    if (this.slowSec > 0) this.lastChat.set(user, now);
  }

  /**
   * Applies a moderation action by `by` (with `role`), or refuses it. The caller sequences the change, stores
   * the state (see `persist`) and removes members as told.
   */
  apply(action: RoomModAction, args: readonly unknown[], by: string, role: ModRole, now: number): ModChange | ModRefusal {
    if (role === 'viewer') return { code: ErrorCode.NOT_MODERATOR, message: 'only the host, its moderators and staff moderate this room' };
    const hostOnly = action === 'appoint' || action === 'dismiss' || action === 'filter' || action === 'regions';
    if (hostOnly && role === 'moderator') return { code: ErrorCode.NOT_MODERATOR, message: `only the host or staff may ${action === 'filter' ? 'set the filter' : `${action} moderators`}` };
    const target = typeof args[0] === 'string' ? args[0] : null;
    if (target !== null && action !== 'unban' && action !== 'unmute') {
      const refusal = this.targetRefusal(target, by, role);
      if (refusal) return refusal;
    }
    this.expire(now);
    switch (action) {
      case 'appoint':
        this.mods.add(target!);
        return { action, data: { user: target } };
      case 'dismiss':
        if (!this.mods.delete(target!)) return { code: ErrorCode.CANNOT_MODERATE, message: `${target} is not a moderator here` };
        return { action, data: { user: target } };
      case 'mute': {
        const until = now + (args[1] as number) * 1000;
        this.mutes.set(target!, until);
        return { action, data: { user: target, until } };
      }
      case 'unmute':
        if (!this.mutes.delete(target!)) return { code: ErrorCode.CANNOT_MODERATE, message: `${target} is not muted here` };
        return { action, data: { user: target } };
      case 'kick':
        return { action, data: { user: target }, remove: target! };
      case 'ban': {
        const seconds = args[1] as number;
        const until = seconds === 0 ? 0 : now + seconds * 1000;
        const devices = args[2] === true ? [...new Set([...(this.bans.get(target!)?.devices ?? []), ...this.host.devicesOf(target!)])] : [];
        this.bans.set(target!, { until, devices });
        this.mutes.delete(target!);
        this.mods.delete(target!);
        return { action, data: { user: target, until, devices: devices.length }, remove: target! };
      }
      case 'unban':
        if (!this.bans.delete(target!)) return { code: ErrorCode.CANNOT_MODERATE, message: `${target} is not banned here` };
        return { action, data: { user: target } };
      case 'slow':
        this.slowSec = args[0] as number;
        this.lastChat.clear();
        return { action, data: { seconds: this.slowSec } };
      case 'followers':
        this.followersOnly = args[0] as boolean;
        return { action, data: { on: this.followersOnly } };
      case 'filter':
        this.strictness = args[0] as Strictness;
        return { action, data: { level: this.strictness } };
      case 'regions':
        // Set by the platform when the host creates a region-restricted room (never a client's MOD).
        if (role !== 'staff') return { code: ErrorCode.NOT_MODERATOR, message: 'regions are set when the room is created' };
        this.countries = [...(args[0] as string[])];
        return { action, data: { countries: this.countries } };
      case 'delete':
      case 'state':
        // The actor handles these (they concern its history, or change nothing).
        return { action, data: {} };
    }
  }

  /** Writes the state in this turn (after `apply` changed it). */
  persist(turn: Turn): void {
    const state: StoredModState = {
      mods: [...this.mods], mutes: [...this.mutes], bans: [...this.bans].map(([u, b]) => [u, b.until, [...b.devices]]),
      slowSec: this.slowSec, followersOnly: this.followersOnly, strictness: this.strictness, countries: this.countries,
    };
    turn.writes.roomState.push({ room: this.host.id, key: KEY, rev: ++this.rev, state: JSON.stringify(state) });
  }

  private targetRefusal(target: string, by: string, role: ModRole): ModRefusal | null {
    if (target === by) return { code: ErrorCode.CANNOT_MODERATE, message: 'you cannot moderate yourself' };
    if (target === this.host.owner()) return { code: ErrorCode.CANNOT_MODERATE, message: 'the host cannot be moderated in their own room' };
    if (role === 'moderator' && this.mods.has(target)) return { code: ErrorCode.CANNOT_MODERATE, message: 'moderators cannot act against other moderators' };
    return null;
  }

  /** `until` if it is still in force (0 counts as forever where `zeroIsForever`), else null. */
  private activeUntil(until: number | undefined, now: number, zeroIsForever = false): number | null {
    if (until === undefined) return null;
    if (until === 0) return zeroIsForever ? 0 : null;
    return until > now ? until : null;
  }

  private expire(now: number): void {
    for (const [u, until] of this.mutes) if (until <= now) this.mutes.delete(u);
    for (const [u, b] of this.bans) if (b.until !== 0 && b.until <= now) this.bans.delete(u);
  }
}
