/**
 * UserActor: the single writer of one user's presence on this node and their direct-message inbox.
 * A DM is stored before it is pushed; the recipient's connections get every unacknowledged message, in
 * inbox order, each time one of them comes online; an ack moves the acked mark so nothing acked is sent
 * again. Delivery is at-least-once until the ack; clients drop duplicates by inbox seq.
 */
import { Actor, type Turn } from './actor';
import { eff, nodeOfConn, positionOf, readCommand, type Command, type PurgeNodeCmd, type UserCommand } from './messages';
import { ErrorCode } from '../protocol/codes';
import { codePointLength, dmFrame, errorFrame, replyFrame } from '../protocol/codec';
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
    if (msg[0] === WALLET_READ) {
      const [, conn, ref, balance] = msg;
      turn.emit(eff.send(conn, balance instanceof Error
        ? errorFrame(ref, ErrorCode.LEDGER_UNAVAILABLE, 'the ledger did not answer; retry')
        : replyFrame(ref, { balance: Math.max(0, balance), debt: Math.max(0, -balance) })));
      return;
    }
    const c = readCommand(msg);
    switch (c.kind) {
      case 'online':
        return this.online_(c.conn, turn);
      case 'offline':
        this.conns.delete(c.conn);
        return;
      case 'purgeNode':
        for (const conn of [...this.conns]) if (nodeOfConn(conn) === c.node) this.conns.delete(conn);
        return;
      case 'dm': {
        // A new owner replaying the log must not store a DM twice; other user commands are safe to repeat.
        const position = positionOf(msg as Command);
        if (position >= 0) {
          if (position <= this.applied) return;
          this.applied = position;
          turn.writes.inboxApplied.push({ user: this.id, position });
        }
        return this.deliver(c.conn, c.from, c.ref, c.text, turn);
      }
      case 'inboxAck':
        return this.ack(c.conn, c.ref, c.upTo, turn);
      case 'wallet': {
        // Read-only: the ledger is the truth, so the wallet view is read through, never cached stale.
        const { conn, ref } = c;
        turn.defer(this.ledger.balance(userAccount(this.id)), (r): WalletRead => [WALLET_READ, conn, ref, r]);
        return;
      }
      default:
        return;
    }
  }

  private online_(conn: number, turn: Turn): void {
    this.conns.add(conn);
    for (const m of this.pending) turn.emit(eff.send(conn, dmFrame(m.seq, m.ts, m.from, m.text)));
  }

  private deliver(senderConn: number, from: string, ref: number, text: string, turn: Turn): void {
    if (codePointLength(text) > this.opts.maxDmChars) {
      turn.emit(eff.send(senderConn, errorFrame(ref, ErrorCode.MESSAGE_TOO_LONG, `direct messages are limited to ${this.opts.maxDmChars} characters`)));
      return;
    }
    if (this.pending.length >= this.opts.maxPendingInbox) {
      turn.emit(eff.send(senderConn, errorFrame(ref, ErrorCode.INBOX_FULL, 'recipient inbox is full')));
      return;
    }
    const message: InboxMessage = { user: this.id, seq: ++this.lastSeq, ts: turn.now, from, text };
    this.pending.push(message);
    turn.writes.inbox.push(message);
    if (this.conns.size > 0) {
      const frame = dmFrame(message.seq, message.ts, from, text);
      for (const conn of this.conns) turn.emit(eff.send(conn, frame));
    } else {
      // Offline: a push, written with the message (the notification outbox). Never the text: a lock screen shows it.
      turn.writes.notify.push({ id: `dm:${this.id}:${message.seq}`, user: this.id, kind: 'dm', data: { from, inboxId: message.seq }, at: turn.now });
    }
    turn.emit(eff.send(senderConn, replyFrame(ref, { to: this.id, id: message.seq, ts: message.ts, online: this.conns.size > 0 })));
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
    turn.emit(eff.send(conn, replyFrame(ref, { acked: this.ackedSeq })));
  }
}
