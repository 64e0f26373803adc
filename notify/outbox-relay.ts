/**
 * Moves notifications the realtime side wrote into its outbox (a DM to someone offline, a gift, a stream's
 * start, a moderation flag or action: each written in the same store transaction as its event) to the
 * Notifier (a stream's start to the followers' fan-out, moderation items to the ModerationService), then
 * acknowledges them. At least once: a crash
 * between notifying and acknowledging hands them over again, and notification ids make that a no-op.
 */
import type { OutboxNotification, RealtimeStore } from '../adapters/store/realtime-store';
import type { NotificationKind } from './preferences';
import type { Notifier, NotifyInput } from './notifier';
import { PollLoop } from './poll-loop';

export interface OutboxRelayOptions {
  readonly batch: number;
  readonly pollMs: number;
  /** Fills in what the texts need and the actor did not know (display names). */
  readonly enrich: (kind: string, data: Record<string, string | number>) => Promise<Record<string, string | number>>;
  /** A stream started (`went_live` items are about the host's followers, not the host): enqueue its fan-out. */
  readonly wentLive: (n: OutboxNotification) => Promise<void>;
  /** Moderation items (`mod_flag`: for the review queue; `mod_action`: for the audit log); nobody is notified. */
  readonly moderation: (n: OutboxNotification) => Promise<void>;
  readonly onError: (err: unknown) => void;
}

export class OutboxRelay {
  private readonly loop: PollLoop<void>;

  constructor(private readonly outbox: Pick<RealtimeStore, 'pendingNotifications' | 'ackNotifications'>, private readonly notifier: Notifier, private readonly opts: OutboxRelayOptions) {
    this.loop = new PollLoop(() => this.drain(), opts.pollMs, opts.onError);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  kick(): Promise<void | undefined> {
    return this.loop.kick();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const pending = await this.outbox.pendingNotifications(this.opts.batch);
      if (pending.length === 0) return;
      const notifications: NotifyInput[] = [];
      for (const n of pending) {
        if (n.kind === 'went_live') {
          await this.opts.wentLive(n);
          continue;
        }
        if (n.kind === 'mod_flag' || n.kind === 'mod_action') {
          await this.opts.moderation(n);
          continue;
        }
        notifications.push({
          id: n.id, user: n.user, kind: n.kind as NotificationKind, data: await this.opts.enrich(n.kind, n.data),
          ...(typeof n.data.creator === 'string' ? { creator: n.data.creator } : {}),
        });
      }
      // One batch: each user's settings and devices are read once for all of theirs.
      await this.notifier.notifyAll(notifications);
      await this.outbox.ackNotifications(pending.map((n) => n.id));
      if (pending.length < this.opts.batch) return;
    }
  }
}
