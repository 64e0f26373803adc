/**
 * RoomActor: the single writer of one live room's realtime state: who is in it, its per-room sequence,
 * the bounded history used for resume, and its owner (the only user who may join as host).
 * Every sequenced event is written to the turn's batch and published in the same turn; the host sends
 * the effects only after the batch is durable, so a client never sees a seq that a restart could lose.
 */
import { Actor, type Turn } from './actor';
import { Cmd, Eff, type RoomCommand } from './messages';
import { ErrorCode, Role } from '../core/protocol/codes';
import { errorFrame, replyFrame, roomChatFrame, roomPresenceFrame, roomResyncFrame } from '../core/protocol/codec';
import type { RoomSnapshot } from '../adapters/store/realtime-store';

interface Member {
  readonly user: string;
  readonly role: Role;
}

export interface RoomActorOptions {
  readonly mailboxCapacity: number;
  readonly historyLimit: number;
  readonly maxChatChars: number;
}

export class RoomActor extends Actor<RoomCommand> {
  private owner: string | null = null;
  private seq = 0;
  /** Ring of the newest events: `historySeqs[i]` is the seq of `historyFrames[i]`. */
  private historySeqs: number[] = [];
  private historyFrames: Uint8Array[] = [];
  private readonly members = new Map<number, Member>();
  /** Viewer count changed since the last presence push. */
  presenceDirty = false;

  constructor(room: string, private readonly opts: RoomActorOptions) {
    super(room, opts.mailboxCapacity);
  }

  get viewers(): number {
    return this.members.size;
  }

  get currentSeq(): number {
    return this.seq;
  }

  restore(snapshot: RoomSnapshot): void {
    this.owner = snapshot.owner;
    this.seq = Math.max(snapshot.seq, snapshot.history.at(-1)?.seq ?? 0);
    this.historySeqs = snapshot.history.map((h) => h.seq);
    this.historyFrames = snapshot.history.map((h) => h.frame);
    this.ready = true;
  }

  isIdle(): boolean {
    return this.members.size === 0 && this.mailbox.depth === 0;
  }

  receive(msg: RoomCommand, turn: Turn): void {
    switch (msg[0]) {
      case Cmd.JOIN:
        return this.join(msg[1], msg[2], msg[4], msg[5], msg[6], msg[7] === 1, turn);
      case Cmd.LEAVE:
        return this.leave(msg[1], msg[4], turn);
      case Cmd.CHAT:
        return this.chat(msg[1], msg[2], msg[4], msg[5], turn);
    }
  }

  /** Publishes the viewer count when it changed; called by the host on its presence timer. */
  flushPresence(turn: Turn): void {
    if (!this.presenceDirty) return;
    this.presenceDirty = false;
    turn.emit([Eff.PUBLISH, this.id, roomPresenceFrame(this.id, this.members.size)]);
  }

  private join(conn: number, user: string, role: Role, ref: number, sinceSeq: number, reattach: boolean, turn: Turn): void {
    if (role === Role.HOST) {
      if (this.owner !== null && this.owner !== user) {
        // UNSUBSCRIBE settles the core's pending join so it stops counting against the room limit.
        if (!this.members.has(conn)) turn.emit([Eff.UNSUBSCRIBE, conn, this.id]);
        if (ref) turn.emit([Eff.SEND, conn, errorFrame(ref, ErrorCode.NOT_ROOM_OWNER, 'only the room owner may join as host')]);
        return;
      }
      if (this.owner === null) {
        this.owner = user;
        turn.writes.roomOwners.push({ room: this.id, owner: user });
      }
    }
    if (!this.members.has(conn)) this.presenceDirty = true;
    this.members.set(conn, { user, role });

    if (reattach) {
      // The worker that held this room restarted: the client learns the recovered seq and resumes from
      // its own last seq, which the history (rebuilt from the store) can serve.
      turn.emit([Eff.SUBSCRIBE, conn, this.id, role]);
      turn.emit([Eff.SEND, conn, roomResyncFrame(this.id, this.seq)]);
      return;
    }

    let missed = 0;
    let resync = false;
    if (sinceSeq >= 0) {
      const oldest = this.historySeqs[0] ?? this.seq + 1;
      // A gap exists when the client's next wanted seq is older than anything we still hold.
      resync = sinceSeq > this.seq || (sinceSeq + 1 < oldest && sinceSeq < this.seq);
      for (let i = 0; i < this.historySeqs.length; i++) {
        if (this.historySeqs[i]! > sinceSeq) {
          turn.emit([Eff.SEND, conn, this.historyFrames[i]!]);
          missed++;
        }
      }
    }
    // Subscribe after the replay and before the reply: the core applies effects in order, so the client
    // sees history, then live events, with no gap and no duplicate.
    turn.emit([Eff.SUBSCRIBE, conn, this.id, role]);
    turn.emit([Eff.SEND, conn, replyFrame(ref, { room: this.id, seq: this.seq, viewers: this.members.size, owner: this.owner, role, missed, resync })]);
  }

  private leave(conn: number, ref: number, turn: Turn): void {
    if (!this.members.delete(conn)) {
      if (ref) turn.emit([Eff.SEND, conn, errorFrame(ref, ErrorCode.NOT_IN_ROOM, 'not in this room')]);
      return;
    }
    this.presenceDirty = true;
    if (ref) {
      turn.emit([Eff.UNSUBSCRIBE, conn, this.id]);
      turn.emit([Eff.SEND, conn, replyFrame(ref, { room: this.id })]);
    }
  }

  private chat(conn: number, user: string, ref: number, text: string, turn: Turn): void {
    if (!this.members.has(conn)) {
      turn.emit([Eff.SEND, conn, errorFrame(ref, ErrorCode.NOT_IN_ROOM, 'join the room before chatting')]);
      return;
    }
    if (text.length > this.opts.maxChatChars) {
      turn.emit([Eff.SEND, conn, errorFrame(ref, ErrorCode.MESSAGE_TOO_LONG, `chat is limited to ${this.opts.maxChatChars} characters`)]);
      return;
    }
    const seq = ++this.seq;
    const frame = roomChatFrame(this.id, seq, turn.now, user, text);
    this.remember(seq, frame, user, turn);
    turn.emit([Eff.PUBLISH, this.id, frame]);
    turn.emit([Eff.SEND, conn, replyFrame(ref, { seq, ts: turn.now })]);
  }

  private remember(seq: number, frame: Uint8Array, sender: string, turn: Turn): void {
    this.historySeqs.push(seq);
    this.historyFrames.push(frame);
    const limit = this.opts.historyLimit;
    if (this.historySeqs.length > limit * 2) {
      this.historySeqs = this.historySeqs.slice(-limit);
      this.historyFrames = this.historyFrames.slice(-limit);
      // The store keeps the same window; older chat is not needed for resume.
      turn.writes.roomPrunes.push({ room: this.id, belowSeq: this.historySeqs[0]! });
    }
    turn.writes.roomEvents.push({ room: this.id, seq, ts: turn.now, sender, frame });
  }
}
