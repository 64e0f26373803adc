/**
 * Web Push (browsers) through the maintained `web-push` library: VAPID-signed, payload encrypted for the
 * subscription (RFC 8291). A web device's token is its subscription as JSON ({endpoint, keys: {p256dh,
 * auth}}); the endpoint is the browser vendor's push service (a local fake in tests).
 */
import { Agent } from 'node:https';
import webpush from 'web-push';
import type { PushMessage, PushOutcome, PushSender } from './push-sender';

export interface WebPushSettings {
  /** A mailto: or https: contact the push services may use (VAPID `sub`). */
  readonly subject: string;
  readonly publicKey: string;
  readonly privateKey: string;
  /** Extra CA to trust (the local fake's, in tests). */
  readonly ca: string | null;
}

export class WebPushSender implements PushSender {
  readonly platform = 'webpush' as const;
  private readonly agent: Agent | undefined;

  constructor(private readonly settings: WebPushSettings) {
    this.agent = settings.ca ? new Agent({ ca: settings.ca, keepAlive: true }) : undefined;
  }

  async send(messages: readonly PushMessage[]): Promise<PushOutcome[]> {
    return Promise.all(messages.map(async (m): Promise<PushOutcome> => {
      let subscription: webpush.PushSubscription;
      try {
        subscription = JSON.parse(m.token) as webpush.PushSubscription;
        if (typeof subscription.endpoint !== 'string' || !subscription.keys?.p256dh || !subscription.keys.auth) throw new Error('not a subscription');
      } catch {
        return { kind: 'dead_token', reason: 'not a push subscription' };
      }
      try {
        await webpush.sendNotification(subscription, JSON.stringify({ title: m.title, body: m.body, data: m.data }), {
          vapidDetails: { subject: this.settings.subject, publicKey: this.settings.publicKey, privateKey: this.settings.privateKey },
          topic: m.collapseKey.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32), TTL: 3600, ...(this.agent ? { agent: this.agent } : {}),
        });
        return { kind: 'sent' };
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode ?? 0;
        // 404 and 410: the subscription expired or was revoked by the user.
        if (status === 404 || status === 410) return { kind: 'dead_token', reason: String(status) };
        if (status === 429 || status >= 500 || status === 0) return { kind: 'retry', reason: String(status || (err as Error).message) };
        return { kind: 'failed', reason: String(status) };
      }
    }));
  }

  async close(): Promise<void> {
    this.agent?.destroy();
  }
}
