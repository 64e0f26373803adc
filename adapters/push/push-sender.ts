/**
 * PushSender: one push provider (FCM, APNs, Expo) behind one small interface, so the dispatcher never sees
 * a provider library's types. A sender answers every message with an outcome the dispatcher acts on:
 * delivered to the provider, retry later (rate limited, provider trouble), or the token is dead
 * (unregistered or invalid: the device is removed).
 */
import type { DevicePlatform } from '../notifications/notification-store';

export interface PushMessage {
  readonly token: string;
  readonly title: string;
  readonly body: string;
  /** Replaces an earlier push with the same key on the device (Android collapse key, APNs collapse id). */
  readonly collapseKey: string;
  /** Small string data for the app (the notification's id and kind). */
  readonly data: Readonly<Record<string, string>>;
}

export type PushOutcome =
  | { readonly kind: 'sent' }
  | { readonly kind: 'retry'; readonly reason: string; readonly afterMs?: number }
  | { readonly kind: 'dead_token'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string };

export interface PushSender {
  readonly platform: DevicePlatform;
  /** One outcome per message, in order. Never throws for a provider's refusal; throws only when it cannot run at all. */
  send(messages: readonly PushMessage[]): Promise<PushOutcome[]>;
  close(): Promise<void>;
}
