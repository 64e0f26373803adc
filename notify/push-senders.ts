/** The push senders this configuration asks for (config.push): FCM, APNs, Expo and Web Push, each only when configured. */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config';
import { ApnsSender } from '../adapters/push/apns-sender';
import { ExpoSender } from '../adapters/push/expo-sender';
import { FcmSender, type FcmSettings } from '../adapters/push/fcm-sender';
import type { PushSender } from '../adapters/push/push-sender';
import { WebPushSender } from '../adapters/push/webpush-sender';

export function pushSenders(config: Config): Map<string, PushSender> {
  const out = new Map<string, PushSender>();
  const { fcm, apns, expo, webpush } = config.push;
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`${what}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  if (fcm) out.set('fcm', new FcmSender({ credentials: JSON.parse(read(fcm.credentialsFile, 'HALOBUZZ_FCM_CREDENTIALS')) as FcmSettings['credentials'], apiUrl: fcm.apiUrl }));
  if (apns) {
    out.set('apns', new ApnsSender({
      key: read(apns.keyFile, 'HALOBUZZ_APNS_KEY'), keyId: apns.keyId, teamId: apns.teamId, topic: apns.topic, production: apns.production,
      address: apns.address, ca: apns.caFile ? read(apns.caFile, 'HALOBUZZ_APNS_CA') : null,
    }));
  }
  if (expo) out.set('expo', new ExpoSender({ accessToken: expo.accessToken, apiUrl: expo.apiUrl }));
  if (webpush) {
    out.set('webpush', new WebPushSender({
      subject: webpush.subject, publicKey: webpush.publicKey, privateKey: webpush.privateKey, ca: webpush.caFile ? read(webpush.caFile, 'HALOBUZZ_WEBPUSH_CA') : null,
    }));
  }
  return out;
}
