/**
 * Notifications: a creator with F followers (1–3 devices each, spread over FCM, APNs and Expo) goes live.
 * The fan-out (chunks of 500 through the followers' settings into the store and its push outbox) and the
 * dispatcher (through the real provider libraries to local fakes of FCM, APNs over HTTP/2 TLS, and Expo)
 * run together in this process, on SQLite stores. Reports the fan-out time, pushes/s, time to the last
 * push, and the process's peak RSS, and checks every device got exactly one push.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteFollowStore } from '../adapters/social/follow-store-sqlite';
import { SqliteNotificationStore } from '../adapters/notifications/notification-store-sqlite';
import { openSqlite } from '../adapters/sqlite/open-sqlite';
import { FcmSender } from '../adapters/push/fcm-sender';
import { ApnsSender } from '../adapters/push/apns-sender';
import { ExpoSender } from '../adapters/push/expo-sender';
import type { PushSender } from '../adapters/push/push-sender';
import { Notifier } from '../notify/notifier';
import { Templates } from '../notify/templates';
import { LiveFanout } from '../notify/live-fanout';
import { PushDispatcher } from '../notify/push-dispatcher';
import { startApnsFake, startExpoFake, startFcmFake } from '../tools/push-fakes';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface NotificationsParams { followers: number }
export const notificationsDefaults: NotificationsParams = { followers: 100_000 };
export const notificationsQuick: NotificationsParams = { followers: 2_000 };

export async function runNotifications(p: NotificationsParams): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'hb-bench-notify-'));
  const fakes = { fcm: await startFcmFake(), apns: await startApnsFake(), expo: await startExpoFake() };
  try {
    const setup = new Progress('notifications: followers and devices', p.followers);
    // Bulk-load the graph and the devices in single transactions (what the bench measures is the fan-out).
    const follows = new SqliteFollowStore(join(dir, 'social.sqlite'));
    const store = new SqliteNotificationStore(join(dir, 'notifications.sqlite'));
    const social = openSqlite(join(dir, 'social.sqlite'), 'NORMAL');
    const devicesDb = openSqlite(join(dir, 'notifications.sqlite'), 'NORMAL');
    const addFollow = social.prepare('INSERT INTO follows (follower, creator, since) VALUES (?, ?, ?)');
    const addDevice = devicesDb.prepare('INSERT INTO devices (token, user, sid, platform, app_version, locale, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const platforms = ['fcm', 'apns', 'expo'] as const;
    let devices = 0;
    social.transaction(() => {
      for (let i = 0; i < p.followers; i++) addFollow.run(`bf${i}`, 'bench-star', i);
    })();
    devicesDb.transaction(() => {
      for (let i = 0; i < p.followers; i++) {
        for (let d = 0; d <= i % 3; d++) {
          const platform = platforms[(i + d) % 3]!;
          const token = platform === 'apns' ? `${i.toString(16).padStart(8, '0')}${d}`.padEnd(32, 'a') : platform === 'expo' ? `ExponentPushToken[b${i}x${d}]` : `fcm-b${i}-${d}`;
          addDevice.run(token, `bf${i}`, 's', platform, '1', 'en', 1);
          devices++;
        }
        if (i % 10_000 === 0) setup.update(i);
      }
    })();
    social.close();
    devicesDb.close();
    setup.done();

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const p8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const senders = new Map<string, PushSender>([
      ['fcm', new FcmSender({ credentials: { client_email: 'bench@test.iam.gserviceaccount.com', private_key: rsa, project_id: 'bench' }, apiUrl: fakes.fcm.url })],
      ['apns', new ApnsSender({ key: p8, keyId: 'ABC123DEFG', teamId: 'TEAM123456', topic: 'app.halobuzz', production: false, address: fakes.apns.address, ca: fakes.apns.ca })],
      ['expo', new ExpoSender({ accessToken: null, apiUrl: fakes.expo.url })],
    ]);
    const notifier = new Notifier({ store, templates: Templates.fromDir(join(__dirname, '..', '..', 'config', 'notifications')), now: Date.now });
    let peakRss = process.memoryUsage().rss;
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const received = () => fakes.fcm.received.length + fakes.apns.received.length + fakes.expo.received.length;
    const timeline: { x: number; y: number }[] = [];
    const progress = new Progress('notifications: pushes received by the fakes', devices);
    const t0 = performance.now();
    let fanoutMs = 0;
    const fanout = new LiveFanout(store, follows, notifier, {
      node: 'bench', chunk: 500, pollMs: 60_000, leaseMs: 30_000, onError: (err) => console.error(err),
      afterChunk: () => {
        fanoutMs = performance.now() - t0;
      },
    });
    const dispatcher = new PushDispatcher(store, senders, {
      batch: 500, pollMs: 50, maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 5000, perDeviceMinute: 20, now: Date.now, random: Math.random,
      onOutcome: () => undefined, onError: (err) => console.error(err),
    });
    dispatcher.start();
    await fanout.wentLive({ id: 'live:bench', room: 'bench-room', creator: 'bench-star', creatorName: 'Bench Star', roomTitle: 'bench', at: Date.now() });
    while (received() < devices) {
      await new Promise((r) => setTimeout(r, 200));
      const seconds = (performance.now() - t0) / 1000;
      timeline.push({ x: Math.round(seconds * 10) / 10, y: received() });
      progress.update(received());
      if (seconds > 1800) throw new Error(`only ${received()} of ${devices} pushes after 30 minutes`);
    }
    const lastPushMs = performance.now() - t0;
    progress.done();
    clearInterval(rssTimer);
    await fanout.stop();
    await dispatcher.stop();
    const tokens = [...fakes.fcm.received, ...fakes.apns.received, ...fakes.expo.received].map((r) => r.token);
    const result = {
      scenario: 'notifications', params: p, devices, followers: p.followers,
      fanoutMs: Math.round(fanoutMs), lastPushMs: Math.round(lastPushMs), pushesPerSecond: Math.round(devices / (lastPushMs / 1000)),
      byProvider: { fcm: fakes.fcm.received.length, apns: fakes.apns.received.length, expo: fakes.expo.received.length },
      exactlyOncePerDevice: new Set(tokens).size === tokens.length && tokens.length === devices,
      peakRssMb: Math.round(peakRss / 1048576),
    };
    await follows.close();
    await store.close();
    const svg = lineChart({ title: `pushes received, ${p.followers} followers (${devices} devices)`, xLabel: 'seconds', yLabel: 'pushes', series: [{ name: 'received', points: timeline }] });
    console.log(JSON.stringify(result, null, 2));
    console.log(`results: ${writeResult('notifications', result, svg).join(', ')}`);
    return result;
  } finally {
    await Promise.all([fakes.fcm.close(), fakes.apns.close(), fakes.expo.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
