/**
 * "Went live" to every follower, in chunks. Starting a live room enqueues one job per room (its id makes a
 * repeat harmless); a runner takes open jobs, pages the creator's followers by cursor (`chunk` at a time),
 * notifies each (the Notifier applies their settings; ids `live:<room>:<follower>` make a redone chunk
 * notify nobody twice) and stores the cursor after every chunk. A crash redoes at most the chunk in
 * progress, and that without duplicates. The runner yields between chunks, so the API stays responsive,
 * and never holds more than one chunk of followers in memory.
 */
import type { FollowStore } from '../adapters/social/follow-store';
import type { NotificationStore } from '../adapters/notifications/notification-store';
import type { Notifier } from './notifier';

export interface LiveFanoutOptions {
  readonly chunk: number;
  /** How often open jobs are looked for when nothing woke the runner. */
  readonly pollMs: number;
  readonly onError: (err: unknown) => void;
  /** Test hook: called after each stored chunk (a crash test kills the process here). */
  readonly afterChunk?: (jobId: string, notified: number) => void;
}

export class LiveFanout {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly store: NotificationStore, private readonly follows: FollowStore, private readonly notifier: Notifier, private readonly opts: LiveFanoutOptions) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.opts.pollMs);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** A creator went live in `room`: their followers are told (once per room). */
  async wentLive(e: { room: string; creator: string; creatorName: string; roomTitle: string; at: number }): Promise<void> {
    await this.store.addJob({ id: `live:${e.room}`, creator: e.creator, kind: 'went_live', data: { room: e.room, creator: e.creator, creatorName: e.creatorName, roomTitle: e.roomTitle }, createdAt: e.at });
    this.kick();
  }

  /** Runs open jobs now (or right after the current run). Resolves when the queue was empty once. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain().catch(this.opts.onError).finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.kick();
      }
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const jobs = await this.store.openJobs(10);
      if (jobs.length === 0 || this.stopped) return;
      for (const job of jobs) {
        let cursor = job.cursor;
        let notified = job.notified;
        for (;;) {
          if (this.stopped) return;
          const page = await this.follows.followers(job.creator, { limit: this.opts.chunk, ...(cursor ? { after: cursor } : {}) });
          for (const f of page.items) {
            const d = await this.notifier.notify({ id: `${job.id}:${f.user}`, user: f.user, kind: job.kind, data: job.data, creator: job.creator, collapseKey: `live:${job.creator}` });
            if (d !== 'none') notified++;
          }
          cursor = page.next ?? cursor;
          await this.store.saveJob(job.id, cursor, notified, page.next === null);
          this.opts.afterChunk?.(job.id, notified);
          if (page.next === null) break;
          await new Promise((r) => setImmediate(r));
        }
      }
    }
  }
}
