/**
 * APNs over HTTP/2 with token (.p8 key) authentication, through @parse/node-apn (the maintained fork of
 * node-apn). `address` and `ca` point it at the local fake in tests (an HTTP/2 TLS server with a test CA).
 */
import apn from '@parse/node-apn';
import type { PushMessage, PushOutcome, PushSender } from './push-sender';

export interface ApnsSettings {
  /** The .p8 signing key (PEM), its key id and the team id. */
  readonly key: string;
  readonly keyId: string;
  readonly teamId: string;
  /** The app's bundle id (the apns-topic). */
  readonly topic: string;
  readonly production: boolean;
  /** host[:port] instead of Apple's (the local fake in tests), and the CA that signed its certificate. */
  readonly address: string | null;
  readonly ca: string | null;
}

/** APNs reasons that mean the token will never work again. */
const DEAD = new Set(['BadDeviceToken', 'Unregistered', 'DeviceTokenNotForTopic', 'ExpiredToken']);

export class ApnsSender implements PushSender {
  readonly platform = 'apns' as const;
  private readonly provider: apn.Provider;

  constructor(private readonly settings: ApnsSettings) {
    // The library takes the host and the port apart (a port inside `address` is ignored).
    const [host, port] = settings.address ? settings.address.split(':') : [];
    this.provider = new apn.Provider({
      token: { key: settings.key, keyId: settings.keyId, teamId: settings.teamId }, production: settings.production,
      ...(host ? { address: host } : {}), ...(port ? { port: Number(port) } : {}), ...(settings.ca ? { ca: settings.ca } : {}),
    } as apn.ProviderOptions);
  }

  async send(messages: readonly PushMessage[]): Promise<PushOutcome[]> {
    return Promise.all(messages.map(async (m): Promise<PushOutcome> => {
      const note = new apn.Notification();
      note.alert = { title: m.title, body: m.body };
      note.topic = this.settings.topic;
      note.collapseId = m.collapseKey.slice(0, 64);
      note.payload = { ...m.data };
      try {
        const result = await this.provider.send(note, m.token);
        const failure = result.failed[0];
        if (!failure) return { kind: 'sent' };
        const status = Number(failure.status ?? 0);
        const reason = (failure.response as { reason?: string } | undefined)?.reason ?? (failure.error ? String(failure.error.message) : String(status));
        if (DEAD.has(reason) || status === 410) return { kind: 'dead_token', reason };
        if (status === 429 || status >= 500 || status === 0) return { kind: 'retry', reason };
        return { kind: 'failed', reason };
      } catch (err) {
        return { kind: 'retry', reason: (err as Error).message };
      }
    }));
  }

  async close(): Promise<void> {
    await this.provider.shutdown();
  }
}
