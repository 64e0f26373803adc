/**
 * Drains the push outbox to the providers. Each due push goes to its platform's sender; then:
 * - sent: it leaves the outbox (at least once: a crash after the provider accepted and before the delete
 *   sends it again on restart, and the collapse key makes the phone show it once);
 * - retry (rate limited, provider trouble): tried again after an exponential backoff with full jitter
 *   (`random × min(maxDelay, base × 2^attempts)`), up to `maxAttempts`, then dropped as failed;
 * - dead token (unregistered, invalid): the device is removed everywhere and the push dropped;
 * - a device over its rate (`perDeviceMinute` pushes a minute) waits for its next slot without spending an
 *   attempt.
 * Every outcome is reported (metrics, analytics).
 */
import type { NotificationStore, PendingPush } from '../adapters/notifications/notification-store';
import type { PushOutcome, PushSender } from '../adapters/push/push-sender';
import { PollLoop } from './poll-loop';

export interface PushDispatcherOptions {
  readonly batch: number;
  readonly pollMs: number;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly perDeviceMinute: number;
  readonly now: () => number;
  readonly random: () => number;
  readonly onOutcome: (push: PendingPush, outcome: PushOutcome | { kind: 'gave_up' | 'no_sender' | 'deferred'; reason: string }) => void;
  readonly onError: (err: unknown) => void;
}

export class PushDispatcher {
  private readonly loop: PollLoop<number>;
  /** Recent send times per device token (the per-device rate). */
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly store: NotificationStore, private readonly senders: ReadonlyMap<string, PushSender>, private readonly opts: PushDispatcherOptions) {
    this.loop = new PollLoop(() => this.drain(), opts.pollMs, opts.onError);
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.all([...this.senders.values()].map((s) => s.close()));
  }

  /** Sends what is due now (one run at a time); resolves with how many pushes were handled. */
  kick(): Promise<number | undefined> {
    return this.loop.kick();
  }

  private async drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const due = await this.store.duePushes(this.opts.now(), this.opts.batch);
      if (due.length === 0) return handled;
      const byPlatform = new Map<string, PendingPush[]>();
      for (const p of due) {
        if (!this.admit(p)) continue;
        const list = byPlatform.get(p.platform) ?? [];
        list.push(p);
        byPlatform.set(p.platform, list);
      }
      // Providers in parallel: a slow one does not hold the others back.
      await Promise.all([...byPlatform].map(([platform, pushes]) => this.sendAll(platform, pushes)));
      handled += due.length;
      if (due.length < this.opts.batch) return handled;
    }
  }

  /** The per-device rate: a push over it is moved to the device's next free slot. */
  private admit(p: PendingPush): boolean {
    const now = this.opts.now();
    const times = (this.recent.get(p.token) ?? []).filter((t) => t > now - 60_000);
    if (times.length >= this.opts.perDeviceMinute) {
      void this.store.reschedulePush(p.id, p.attempts, times[0]! + 60_000);
      this.opts.onOutcome(p, { kind: 'deferred', reason: 'device rate' });
      this.recent.set(p.token, times);
      return false;
    }
    times.push(now);
    this.recent.set(p.token, times);
    return true;
  }

  private async sendAll(platform: string, pushes: PendingPush[]): Promise<void> {
    const sender = this.senders.get(platform);
    if (!sender) {
      for (const p of pushes) {
        await this.store.removePush(p.id);
        this.opts.onOutcome(p, { kind: 'no_sender', reason: `no ${platform} sender is configured` });
      }
      return;
    }
    const outcomes = await sender.send(pushes.map((p) => ({ token: p.token, title: p.title, body: p.body, collapseKey: p.collapseKey, data: { notification: p.notification } })));
    const dead: string[] = [];
    for (const [i, p] of pushes.entries()) {
      const o = outcomes[i] ?? { kind: 'retry', reason: 'no answer' };
      if (o.kind === 'retry') {
        const attempts = p.attempts + 1;
        if (attempts >= this.opts.maxAttempts) {
          await this.store.removePush(p.id);
          this.opts.onOutcome(p, { kind: 'gave_up', reason: o.reason });
          continue;
        }
        const backoff = Math.floor(this.opts.random() * Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** attempts));
        await this.store.reschedulePush(p.id, attempts, this.opts.now() + Math.max(backoff, o.afterMs ?? 0));
      } else {
        await this.store.removePush(p.id);
        if (o.kind === 'dead_token') dead.push(p.token);
      }
      this.opts.onOutcome(p, o);
    }
    if (dead.length > 0) await this.store.removeTokens(dead);
  }
}
