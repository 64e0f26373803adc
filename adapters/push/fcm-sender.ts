/**
 * FCM HTTP v1 through Google's maintained generated client (@googleapis/fcm), authenticated with the
 * service account as a self-signed JWT (no token round trip). Not firebase-admin: it hard-codes the FCM
 * host (firebase/firebase-admin-node#2980), so it could not be pointed at the local fake the tests run;
 * this client takes `rootUrl`, as the Play verifier does.
 */
import { auth, fcm, type fcm_v1 } from '@googleapis/fcm';
import type { PushMessage, PushOutcome, PushSender } from './push-sender';

export interface FcmSettings {
  readonly credentials: { readonly client_email: string; readonly private_key: string; readonly project_id: string };
  /** Another API root (the local fake in tests). */
  readonly apiUrl: string | null;
}

export class FcmSender implements PushSender {
  readonly platform = 'fcm' as const;
  private readonly api: fcm_v1.Fcm;
  private readonly parent: string;

  constructor(settings: FcmSettings) {
    const client = new auth.JWT({ email: settings.credentials.client_email, key: settings.credentials.private_key, scopes: ['https://www.googleapis.com/auth/firebase.messaging'] });
    client.useJWTAccessWithScope = true;
    this.api = fcm({ version: 'v1', auth: client, ...(settings.apiUrl ? { rootUrl: settings.apiUrl.endsWith('/') ? settings.apiUrl : `${settings.apiUrl}/` } : {}) });
    this.parent = `projects/${settings.credentials.project_id}`;
  }

  async send(messages: readonly PushMessage[]): Promise<PushOutcome[]> {
    return Promise.all(messages.map((m) => this.one(m)));
  }

  async close(): Promise<void> {}

  private async one(m: PushMessage): Promise<PushOutcome> {
    try {
      await this.api.projects.messages.send({
        parent: this.parent,
        requestBody: { message: { token: m.token, notification: { title: m.title, body: m.body }, data: { ...m.data }, android: { collapseKey: m.collapseKey }, apns: { headers: { 'apns-collapse-id': m.collapseKey.slice(0, 64) } } } },
      });
      return { kind: 'sent' };
    } catch (err) {
      const e = err as { status?: number; response?: { status?: number; headers?: Record<string, string>; data?: { error?: { status?: string; details?: { errorCode?: string }[] } } } };
      const status = e.response?.status ?? e.status ?? 0;
      const code = e.response?.data?.error?.details?.find((d) => d.errorCode)?.errorCode ?? e.response?.data?.error?.status ?? String(status);
      // FCM: UNREGISTERED (404) and INVALID_ARGUMENT on the token mean the token is gone; 429 and 5xx are worth another try.
      if (code === 'UNREGISTERED' || status === 404) return { kind: 'dead_token', reason: code };
      if (code === 'INVALID_ARGUMENT' && status === 400) return { kind: 'dead_token', reason: code };
      if (status === 429 || status >= 500 || status === 0) {
        const retryAfter = Number(e.response?.headers?.['retry-after']);
        return { kind: 'retry', reason: code, ...(retryAfter > 0 ? { afterMs: retryAfter * 1000 } : {}) };
      }
      return { kind: 'failed', reason: code };
    }
  }
}
