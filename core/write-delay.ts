/**
 * The write delay: hold the effects the actors hand over for up to `delayMs` and apply them together, in
 * order, in one turn of the event loop. uWebSockets.js writes what a topic's subscribers were sent in one
 * loop turn with one system call per subscriber, so a viewer of a busy room then gets several frames per
 * write instead of one: less kernel time per delivery, paid for with up to `delayMs` of latency (the way
 * Centrifugo's client write delay batches); the ws transport corks each socket for a turn, to the same end.
 *
 * Order is untouched: every effect (replies, pushes, subscriptions, closes) waits in the same queue, so a
 * reply still follows the room events sent before it and RESUME's replay-then-subscribe holds. 0 applies
 * each batch at once, with no timer.
 */
import type { Effect } from '../actors/messages';

export class WriteDelay {
  private queue: (readonly Effect[])[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** @param apply applies one batch of effects (the hub) */
  constructor(private readonly delayMs: number, private readonly apply: (effects: readonly Effect[]) => void) {}

  push(effects: readonly Effect[]): void {
    if (this.delayMs <= 0) {
      this.apply(effects);
      return;
    }
    this.queue.push(effects);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /** Applies everything held now (on the timer, and before the server stops). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0) return;
    const held = this.queue;
    this.queue = [];
    for (const effects of held) this.apply(effects);
  }

  /** Batches waiting (for tests and metrics). */
  get pending(): number {
    return this.queue.length;
  }
}
