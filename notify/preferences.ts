/**
 * What a user asked to be told, and the one function that decides it. Kinds can be switched off one by
 * one, creators muted, quiet hours set in the user's own time zone, or everything switched off; security
 * notifications (new sign-in, MFA changed) cannot be turned off. Outside quiet hours a notification is
 * listed in the app and pushed; inside them it is listed only; switched off or muted, it is not made at all.
 */
export const NOTIFICATION_KINDS = ['went_live', 'dm', 'gift', 'payout', 'security'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
/** Kinds a user may switch off (security is always on). */
export const OPTIONAL_KINDS = ['went_live', 'dm', 'gift', 'payout'] as const;

export interface QuietHours {
  /** "HH:MM" in `timeZone`; a window may cross midnight (22:00 → 07:00). */
  readonly start: string;
  readonly end: string;
  /** An IANA time zone, e.g. "Asia/Kathmandu". */
  readonly timeZone: string;
}

export interface NotificationSettings {
  /** False: nothing but security notifications. */
  readonly enabled: boolean;
  readonly kinds: Readonly<Record<(typeof OPTIONAL_KINDS)[number], boolean>>;
  /** Creators whose "went live" (and gifts…) this user does not want to hear about. */
  readonly mutedCreators: readonly string[];
  readonly quietHours: QuietHours | null;
}

export const DEFAULT_SETTINGS: NotificationSettings = {
  enabled: true, kinds: { went_live: true, dm: true, gift: true, payout: true }, mutedCreators: [], quietHours: null,
};

export type Delivery = 'push' | 'inbox' | 'none';

const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** Whether `timeZone` is one this runtime knows (checked when settings are saved). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export function validQuietHours(q: QuietHours): boolean {
  return HHMM.test(q.start) && HHMM.test(q.end) && q.start !== q.end && isTimeZone(q.timeZone);
}

/** Minutes since local midnight in `timeZone` at `now`. */
export function localMinutes(now: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(now));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

export function inQuietHours(q: QuietHours, now: number): boolean {
  const at = localMinutes(now, q.timeZone);
  const toMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
  const start = toMin(q.start);
  const end = toMin(q.end);
  return start < end ? at >= start && at < end : at >= start || at < end;
}

/** How a notification of `kind` (about `creator`, when it is about one) reaches this user now. */
export function decide(settings: NotificationSettings, kind: NotificationKind, creator: string | null, now: number): Delivery {
  if (kind === 'security') return 'push';
  if (!settings.enabled || !settings.kinds[kind]) return 'none';
  if (creator !== null && settings.mutedCreators.includes(creator)) return 'none';
  if (settings.quietHours && inQuietHours(settings.quietHours, now)) return 'inbox';
  return 'push';
}
