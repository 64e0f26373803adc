/**
 * The Notifier turns an event for one user into what that user asked for (notify/preferences.ts): nothing;
 * an in-app notification; or an in-app notification plus, in the same store transaction, a pending push to
 * each of the user's devices in the device's own locale. Ids are stable per cause, so repeating an event
 * (a retried fan-out chunk, a replayed webhook) notifies once. Users online also get it on their socket, in
 * their saved locale.
 */
import type { Device, NotificationStore, StoredNotification } from '../adapters/notifications/notification-store';
import { DEFAULT_SETTINGS, decide, type Delivery, type NotificationKind, type NotificationSettings } from './preferences';
import type { Templates } from './templates';

export interface NotifyInput {
  readonly id: string;
  readonly user: string;
  readonly kind: NotificationKind;
  readonly data: Record<string, string | number>;
  /** The creator it is about (mutes apply), if any. */
  readonly creator?: string;
  /** Pushes with the same key replace each other on the phone; defaults to the kind. */
  readonly collapseKey?: string;
}

export interface NotifierDeps {
  readonly store: NotificationStore;
  readonly templates: Templates;
  readonly now: () => number;
  /** Delivers a new in-app notification to the user's open sockets (best effort). */
  readonly online?: (user: string, n: StoredNotification & { title: string; body: string }) => void;
  /** The user's saved locale (their profile), for the socket copy's texts; English without it. */
  readonly localeOf?: (user: string) => Promise<string | null>;
}

export class Notifier {
  constructor(private readonly deps: NotifierDeps) {}

  get templates(): Templates {
    return this.deps.templates;
  }

  /** Returns how it was delivered, or 'none' (also when this id was already delivered). */
  notify(input: NotifyInput): Promise<Delivery> {
    return this.deliver(input, this.readerFor());
  }

  /**
   * Several notifications at once (a relay's batch): each user's settings, devices and locale are read
   * once for all of theirs (a busy creator's gifts are hundreds a second, all to the same user). The
   * writes go one after another, in order: the MongoDB store numbers each notification with a counter
   * that FerretDB cannot increment atomically under concurrent writers.
   */
  async notifyAll(inputs: readonly NotifyInput[]): Promise<Delivery[]> {
    const reader = this.readerFor();
    const out: Delivery[] = [];
    for (const input of inputs) out.push(await this.deliver(input, reader));
    return out;
  }

  private async deliver(input: NotifyInput, read: UserReader): Promise<Delivery> {
    const { store, templates } = this.deps;
    const now = this.deps.now();
    const settings = (await read.settings(input.user)) ?? DEFAULT_SETTINGS;
    const delivery = decide(settings, input.kind, input.creator ?? null, now);
    if (delivery === 'none') return 'none';
    const n: StoredNotification = { id: input.id, user: input.user, kind: input.kind, data: input.data, createdAt: now, readAt: null };
    const devices = delivery === 'push' ? await read.devices(input.user) : [];
    const pushes = devices.map((d) => ({ token: d.token, platform: d.platform, collapseKey: input.collapseKey ?? input.kind, ...templates.render(input.kind, input.data, d.locale) }));
    if (!(await store.add(n, pushes))) return 'none';
    if (this.deps.online) {
      // The devices' locale when they were read anyway (a fan-out reads no account per follower), else the profile's.
      const locale = devices[0]?.locale ?? (await read.locale(input.user)) ?? 'en';
      this.deps.online(input.user, { ...n, ...templates.render(input.kind, input.data, locale) });
    }
    return delivery;
  }

  /** Reads of one user's settings, devices and locale, each made once for as long as the reader lives. */
  private readerFor(): UserReader {
    const { store, localeOf } = this.deps;
    const once = <T>(read: (user: string) => Promise<T>) => {
      const seen = new Map<string, Promise<T>>();
      return (user: string) => {
        let p = seen.get(user);
        if (!p) seen.set(user, (p = read(user)));
        return p;
      };
    };
    return {
      settings: once((u) => store.settings(u)),
      devices: once((u) => store.devices(u)),
      locale: once((u) => (localeOf ? localeOf(u).catch(() => null) : Promise.resolve(null))),
    };
  }
}

interface UserReader {
  settings(user: string): Promise<NotificationSettings | null>;
  devices(user: string): Promise<Device[]>;
  locale(user: string): Promise<string | null>;
}
