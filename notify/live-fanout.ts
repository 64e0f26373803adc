/**
 * "Went live" to every follower, as work any node can share. A live stream's start enqueues one job (its id,
 * `live:<stream>`, makes a repeat harmless). Then two kinds of work, both taken by lease from the shared store:
 * - planning (one node at a time per job): page the creator's followers by cursor, `chunk` at a time, and
 *   enqueue each page as a chunk, storing the cursor with it;
 * - chunks (any node): notify each follower of a chunk through their settings (ids `live:<stream>:<follower>`
 *   make a redone chunk notify nobody twice) and finish it once.
 * A node that dies loses its leases after `leaseMs`; another node (or itself restarted: leases are per node
 * id) continues from the stored cursor and the unfinished chunks. No node holds more than one chunk of
 * followers; the runner yields between pieces of work, so the API stays responsive.
 */
import type { FollowStore } from '../adapters/social/follow-store';
import type { NotificationStore } from '../adapters/notifications/notification-store';
import type { Notifier } from './notifier';
import { PollLoop } from './poll-loop';

export interface LiveFanoutOptions {
  /** This node's id: the owner of the leases it takes. */
  readonly node: string;
  readonly chunk: number;
  /** How often open work is looked for when nothing woke the runner. */
  readonly pollMs: number;
  /** A lease not renewed for this long is free for another node. */
  readonly leaseMs: number;
  readonly now?: () => number;
  readonly onError: (err: unknown) => void;
  /** Test hook: called after each finished chunk (a crash test kills the process here). */
  readonly afterChunk?: (jobId: string, notified: number) => void;
}

export class LiveFanout {
  private readonly loop: PollLoop<void>;

  constructor(private readonly store: NotificationStore, private readonly follows: FollowStore, private readonly notifier: Notifier, private readonly opts: LiveFanoutOptions) {
    this.loop = new PollLoop(() => this.drain(), opts.pollMs, opts.onError);
  }

  start(): void {
    this.loop.start(true);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** A creator's live stream started in `room`: their followers are told (once per job id: `live:<stream>`). */
  async wentLive(e: { id: string; room: string; creator: string; creatorName: string; roomTitle: string; at: number }): Promise<void> {
    await this.store.addJob({ id: e.id, creator: e.creator, kind: 'went_live', data: { room: e.room, creator: e.creator, creatorName: e.creatorName, roomTitle: e.roomTitle }, createdAt: e.at });
    void this.kick();
  }

  /** Does the work there is now (or once more right after the current run). */
  async kick(): Promise<void> {
    await this.loop.kick();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.loop.stopping) return;
      const planned = await this.planOnePage();
      const worked = await this.workOneChunk();
      if (!planned && !worked) return;
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Enqueues the next page of followers of a job this node holds the planning lease of. */
  private async planOnePage(): Promise<boolean> {
    const job = await this.store.leaseJob(this.opts.node, this.now(), this.opts.leaseMs);
    if (!job) return false;
    const page = await this.follows.followers(job.creator, { limit: this.opts.chunk, ...(job.cursor ? { after: job.cursor } : {}) });
    await this.store.addChunk(job.id, job.chunks, page.items.map((f) => f.user), page.next ?? job.cursor, page.next === null);
    return true;
  }

  private async workOneChunk(): Promise<boolean> {
    const chunk = await this.store.leaseChunk(this.opts.node, this.now(), this.opts.leaseMs);
    if (!chunk) return false;
    const job = await this.store.job(chunk.job);
    let notified = 0;
    if (job) {
      for (const user of chunk.users) {
        const d = await this.notifier.notify({ id: `${job.id}:${user}`, user, kind: job.kind, data: job.data, creator: job.creator, collapseKey: `live:${job.creator}` });
        if (d !== 'none') notified++;
      }
    }
    await this.store.finishChunk(chunk.id, notified);
    this.opts.afterChunk?.(chunk.job, notified);
    return true;
  }
}
