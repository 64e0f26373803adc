/**
 * Expo push through expo-server-sdk 5 (the last release that runs on Node 20 as CommonJS). Expo reads its
 * base URL from EXPO_BASE_URL when the module loads, so the sender sets it from configuration (the local
 * fake in tests) before loading the SDK.
 */
import type { PushMessage, PushOutcome, PushSender } from './push-sender';

export interface ExpoSettings {
  readonly accessToken: string | null;
  readonly apiUrl: string | null;
}

type ExpoModule = typeof import('expo-server-sdk');

export class ExpoSender implements PushSender {
  readonly platform = 'expo' as const;
  private readonly expo: InstanceType<ExpoModule['Expo']>;

  constructor(settings: ExpoSettings) {
    if (settings.apiUrl) process.env.EXPO_BASE_URL = settings.apiUrl.replace(/\/$/, '');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Expo } = require('expo-server-sdk') as ExpoModule;
    this.expo = new Expo({ ...(settings.accessToken ? { accessToken: settings.accessToken } : {}) });
  }

  async send(messages: readonly PushMessage[]): Promise<PushOutcome[]> {
    try {
      const tickets = await this.expo.sendPushNotificationsAsync(messages.map((m) => ({
        to: m.token, title: m.title, body: m.body, data: { ...m.data, collapseKey: m.collapseKey }, channelId: 'default',
      })));
      return tickets.map((t): PushOutcome => {
        if (t.status === 'ok') return { kind: 'sent' };
        const code = t.details?.error ?? 'error';
        if (code === 'DeviceNotRegistered') return { kind: 'dead_token', reason: code };
        if (code === 'MessageRateExceeded') return { kind: 'retry', reason: code };
        return { kind: 'failed', reason: code };
      });
    } catch (err) {
      // The whole request failed (429, 5xx, network): every message is worth another try.
      return messages.map(() => ({ kind: 'retry', reason: (err as Error).message }));
    }
  }

  async close(): Promise<void> {}
}
