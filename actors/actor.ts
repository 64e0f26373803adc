/**
 * The actor contract: one `receive(msg, turn)` that runs to completion, a bounded mailbox with a named
 * overflow policy, and a separate system queue that drains first. Actors never touch sockets or the store
 * directly: they add effects and writes to the turn, which the host commits before the effects go out.
 */
import type { Effect } from './messages';
import type { WriteBatch } from '../adapters/store/realtime-store';

export interface Turn {
  readonly now: number;
  readonly writes: WriteBatch;
  emit(effect: Effect): void;
  /**
   * Starts async work (a ledger call) without blocking the actor: when `work` settles, `toMessage` turns
   * its value (or Error) into a message delivered to this actor's mailbox ahead of user messages.
   */
  defer<T>(work: Promise<T>, toMessage: (result: T | Error) => unknown): void;
}

/**
 * What happens when a mailbox is full. `reject-newest`: the incoming message is refused and its sender
 * gets ErrorCode.OVERLOADED; nothing already accepted is dropped.
 */
export type OverflowPolicy = 'reject-newest';

export class Mailbox<M> {
  private readonly user: M[] = [];
  private readonly system: M[] = [];
  private head = 0;
  readonly policy: OverflowPolicy = 'reject-newest';

  constructor(readonly capacity: number) {}

  get depth(): number {
    return this.user.length - this.head + this.system.length;
  }

  /** False when the message was refused under the overflow policy. */
  offer(msg: M): boolean {
    if (this.user.length - this.head >= this.capacity) return false;
    this.user.push(msg);
    return true;
  }

  /**
   * Appends past the capacity bound, keeping the message's place in line. For messages that must never be
   * refused and must not overtake earlier ones from the same connection (disconnects).
   */
  force(msg: M): void {
    this.user.push(msg);
  }

  /** System messages (recovery re-attachments) are never refused and drain before user messages. */
  offerSystem(msg: M): void {
    this.system.push(msg);
  }

  take(): M | undefined {
    if (this.system.length > 0) return this.system.shift();
    if (this.head >= this.user.length) return undefined;
    const msg = this.user[this.head++];
    if (this.head > 1024 && this.head * 2 > this.user.length) {
      this.user.splice(0, this.head);
      this.head = 0;
    }
    return msg;
  }
}

export abstract class Actor<M> {
  readonly mailbox: Mailbox<M>;
  ready = false;
  /** Set while the actor sits in the host's run queue, so it is queued once. */
  scheduled = false;
  lastActive = 0;

  constructor(readonly id: string, mailboxCapacity: number) {
    this.mailbox = new Mailbox<M>(mailboxCapacity);
  }

  abstract receive(msg: M, turn: Turn): void;

  /** True when the actor holds nothing worth keeping in memory and may be passivated. */
  abstract isIdle(): boolean;
}
