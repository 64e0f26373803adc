/**
 * NotificationStore: each user's in-app notifications (newest first, read or not), their notification
 * settings, and their registered push devices. What reaches a phone goes through the push outbox (later
 * steps of #19); this is what the app lists and what preferences are read from.
 */
import type { NotificationKind, NotificationSettings } from '../../notify/preferences';

import type { PersonalData } from '../privacy/personal-data';

export interface StoredNotification {
  /** Stable per cause (`live:<stream>:<user>`, `dm:<user>:<inboxId>`…): adding one twice keeps one. */
  readonly id: string;
  readonly user: string;
  readonly kind: NotificationKind;
  /** What the templates fill in (creator, room, amounts…). */
  readonly data: Record<string, string | number>;
  readonly createdAt: number;
  readonly readAt: number | null;
}

export interface NotificationPage {
  readonly items: readonly StoredNotification[];
  readonly next: string | null;
  readonly unread: number;
}

export type DevicePlatform = 'fcm' | 'apns' | 'expo' | 'webpush';

export interface Device {
  readonly token: string;
  readonly user: string;
  /** The auth session that registered it: signing that session out removes the device. */
  readonly sid: string;
  readonly platform: DevicePlatform;
  readonly appVersion: string;
  readonly locale: string;
  readonly createdAt: number;
}

/** A push waiting for its provider: one per device of the notification's user, written with the notification. */
export interface PendingPush {
  readonly id: string;
  readonly notification: string;
  readonly kind: NotificationKind;
  readonly user: string;
  readonly token: string;
  readonly platform: DevicePlatform;
  /** Repeated pushes with one key replace each other on the phone (a creator going live again). */
  readonly collapseKey: string;
  readonly title: string;
  readonly body: string;
  readonly attempts: number;
  readonly nextAt: number;
}

/**
 * A fan-out of one event to a creator's followers. One node at a time (holding the job's lease) plans it:
 * pages the followers by cursor and enqueues each page as a chunk; any node works chunks. `cursor` and
 * `chunks` say how far planning got; `planned` that it is complete; `done` that every chunk is worked.
 */
export interface FanoutJob {
  /** The event (`live:<room>`): one job per event, however often it is enqueued. */
  readonly id: string;
  readonly creator: string;
  readonly kind: 'went_live';
  readonly data: Record<string, string | number>;
  readonly cursor: string | null;
  readonly chunks: number;
  readonly planned: boolean;
  readonly notified: number;
  readonly done: boolean;
  readonly createdAt: number;
}

/** A page of a job's followers: the unit of work any node may take (by lease) and finish once. */
export interface FanoutChunk {
  readonly id: string;
  readonly job: string;
  readonly users: readonly string[];
}

export interface NotificationStore extends PersonalData {
  /** Adds a fan-out job; false when one with its id exists. */
  addJob(job: Pick<FanoutJob, 'id' | 'creator' | 'kind' | 'data' | 'createdAt'>): Promise<boolean>;
  /** Unfinished jobs, oldest first. */
  openJobs(limit: number): Promise<FanoutJob[]>;
  job(id: string): Promise<FanoutJob | null>;
  /** Takes (or renews) the planning lease of the oldest unplanned job whose lease is free or already `owner`'s. */
  leaseJob(owner: string, now: number, leaseMs: number): Promise<FanoutJob | null>;
  /** Enqueues chunk number `index` of a job (once per index) and records the cursor after it and whether planning ended. */
  addChunk(job: string, index: number, users: readonly string[], cursor: string | null, planned: boolean): Promise<void>;
  /** Takes the oldest unfinished chunk whose lease is free (or `owner`'s). */
  leaseChunk(owner: string, now: number, leaseMs: number): Promise<FanoutChunk | null>;
  /** Finishes a chunk once (a repeat changes nothing), adding `notified` to its job; the job is done when planned and every chunk is. */
  finishChunk(id: string, notified: number): Promise<void>;
  /**
   * Adds a notification and, in the same transaction, a pending push for each given device (none while
   * quiet hours hold it to the in-app list); false when one with its id exists (nothing is added).
   */
  add(n: StoredNotification, pushes?: readonly Omit<PendingPush, 'attempts' | 'nextAt' | 'id' | 'notification' | 'user' | 'kind'>[]): Promise<boolean>;
  /** Pushes due at `now`, oldest first (what the senders take). */
  duePushes(now: number, limit: number): Promise<PendingPush[]>;
  /** A push reached its provider, or will never be sent: it leaves the outbox. */
  removePush(id: string): Promise<void>;
  /** A push to try again at `nextAt` (`attempts` counts the failed tries). */
  reschedulePush(id: string, attempts: number, nextAt: number): Promise<void>;
  list(user: string, page: { limit: number; after?: string }): Promise<NotificationPage>;
  get(user: string, id: string): Promise<StoredNotification | null>;
  /** Marks the given ids (or every notification when `ids` is omitted) read; returns how many changed. */
  markRead(user: string, now: number, ids?: readonly string[]): Promise<number>;
  settings(user: string): Promise<NotificationSettings | null>;
  saveSettings(user: string, settings: NotificationSettings): Promise<void>;
  /** One device per token: registering a token again (even by another user) replaces its record. */
  registerDevice(d: Device): Promise<void>;
  removeDevice(user: string, token: string): Promise<boolean>;
  /** Tokens the provider reported dead, and devices of signed-out sessions. */
  removeTokens(tokens: readonly string[]): Promise<number>;
  removeSessions(sids: readonly string[]): Promise<number>;
  devices(user: string): Promise<Device[]>;
  close(): Promise<void>;
}
