/**
 * UserActor: the single writer of one user's presence on this node and their direct-message inbox.
 * A DM is stored before it is pushed; the recipient's connections get every unacknowledged message, in
 * inbox order, each time one of them comes online; an ack moves the acked mark so nothing acked is sent
 * again. Delivery is at-least-once until the ack; clients drop duplicates by inbox seq.
 */
import { Actor, type Turn } from './actor';
import { Cmd, Eff, nodeOfConn, positionOf, type PurgeNodeCmd, type UserCommand } from './messages';
import { ErrorCode } from '../core/protocol/codes';
import { codePointLength, dmFrame, errorFrame, replyFrame } from '../core/protocol/codec';
import type { InboxMessage, InboxSnapshot } from '../adapters/store/realtime-store';
import { userAccount, type Ledger } from '../adapters/ledger/ledger';

const WALLET_READ = 103;
/** conn, ref, balance or the error reading it */
type WalletRead = [typeof WALLET_READ, number, number, number | Error];
export type UserMessage = UserCommand | WalletRead | PurgeNodeCmd;

export interface UserActorOptions {
  readonly mailboxCapacity: number;
  readonly maxDmChars: number;
  /** Unacknowledged messages one inbox may hold; beyond it new DMs are refused with INBOX_FULL. */
  readonly maxPendingInbox: number;
}

export class UserActor extends Actor<UserMessage> {
  private readonly conns = new Set<number>();
  private lastSeq = 0;
  private ackedSeq = 0;
  private pending: InboxMessage[] = [];
  /** Cluster: log position of the last DM stored; a replayed DM at or below it was already delivered. */
  private applied = -1;

  constructor(user: string, private readonly opts: UserActorOptions, private readonly ledger: Ledger) {
    super(user, opts.mailboxCapacity);
  }

  restore(snapshot: InboxSnapshot): void {
    this.lastSeq = snapshot.lastSeq;
    this.ackedSeq = snapshot.ackedSeq;
    this.pending = [...snapshot.pending];
    this.applied = snapshot.applied;
    this.ready = true;
  }

  isIdle(): boolean {
    return this.conns.size === 0 && this.mailbox.depth === 0;
  }

  receive(msg: UserMessage, turn: Turn): void {
    switch (msg[0]) {
      case Cmd.ONLINE:
        return this.online_(msg[1], turn);
      case Cmd.OFFLINE:
        this.conns.delete(msg[1]);
        return;
      case Cmd.PURGE_NODE:
        for (const conn of [...this.conns]) if (nodeOfConn(conn) === msg[1]) this.conns.delete(conn);
        return;
      case Cmd.DM: {
        // A new owner replaying the log must not store a DM twice; other user commands are safe to repeat.
        const position = positionOf(msg);
        if (position >= 0) {
          if (position <= this.applied) return;
          this.applied = position;
          turn.writes.inboxApplied.push({ user: this.id, position });
        }
        return this.deliver(msg[1], msg[2], msg[4], msg[5], turn);
      }
      case Cmd.INBOX_ACK:
        return this.ack(msg[1], msg[3], msg[4], turn);
      case Cmd.WALLET:
        // Read-only: the ledger is the truth, so the wallet view is read through, never cached stale.
        turn.defer(this.ledger.balance(userAccount(this.id)), (r): WalletRead => [WALLET_READ, msg[1], msg[3], r]);
        return;
      case WALLET_READ: {
        const [, conn, ref, balance] = msg;
        turn.emit([Eff.SEND, conn, balance instanceof Error
          ? errorFrame(ref, ErrorCode.LEDGER_UNAVAILABLE, 'the ledger did not answer; retry')
          : replyFrame(ref, { balance })]);
        return;
      }
    }
  }

  private online_(conn: number, turn: Turn): void {
    this.conns.add(conn);
    for (const m of this.pending) turn.emit([Eff.SEND, conn, dmFrame(m.seq, m.ts, m.from, m.text)]);
  }

  private deliver(senderConn: number, from: string, ref: number, text: string, turn: Turn): void {
    if (codePointLength(text) > this.opts.maxDmChars) {
      turn.emit([Eff.SEND, senderConn, errorFrame(ref, ErrorCode.MESSAGE_TOO_LONG, `direct messages are limited to ${this.opts.maxDmChars} characters`)]);
      return;
    }
    if (this.pending.length >= this.opts.maxPendingInbox) {
      turn.emit([Eff.SEND, senderConn, errorFrame(ref, ErrorCode.INBOX_FULL, 'recipient inbox is full')]);
      return;
    }
    const message: InboxMessage = { user: this.id, seq: ++this.lastSeq, ts: turn.now, from, text };
    this.pending.push(message);
    turn.writes.inbox.push(message);
    if (this.conns.size > 0) {
      const frame = dmFrame(message.seq, message.ts, from, text);
      for (const conn of this.conns) turn.emit([Eff.SEND, conn, frame]);
    }
    turn.emit([Eff.SEND, senderConn, replyFrame(ref, { to: this.id, id: message.seq, ts: message.ts, online: this.conns.size > 0 })]);
  }

  private ack(conn: number, ref: number, upTo: number, turn: Turn): void {
    const acked = Math.min(upTo, this.lastSeq);
    if (acked > this.ackedSeq) {
      this.ackedSeq = acked;
      let drop = 0;
      while (drop < this.pending.length && this.pending[drop]!.seq <= acked) drop++;
      this.pending = this.pending.slice(drop);
      turn.writes.inboxAcks.push({ user: this.id, upTo: acked });
    }
    turn.emit([Eff.SEND, conn, replyFrame(ref, { acked: this.ackedSeq })]);
  }
}
