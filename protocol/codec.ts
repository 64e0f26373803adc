/**
 * Plain MessagePack encode/decode for protocol v1 (no extensions), plus typed builders for every server
 * frame so the byte layout lives in one place. Builders return bytes: a broadcast is encoded once and the
 * same bytes go to every viewer.
 */
import { isUtf8 } from 'node:buffer';
import { Decoder, Encoder } from '@msgpack/msgpack';
import { ServerOp } from './codes';

const encoder = new Encoder({ ignoreUndefined: true });

/**
 * Decoder for client frames. The library decodes invalid UTF-8 leniently (lone surrogates pass through,
 * other bad bytes become U+FFFD), and mobile decoders crash on what that would forward. So every string,
 * map keys included, is checked as strict UTF-8 first; a frame holding an invalid one is still decoded
 * (so its ref can be answered) but marked, and the request is refused with INVALID_UTF8.
 */
class ClientFrameDecoder {
  sawInvalidUtf8 = false;
  // Bounds allocation while decoding untrusted input; the frame size limit already caps the total.
  private readonly decoder = new Decoder({ maxStrLength: 64 * 1024, maxBinLength: 64 * 1024, maxArrayLength: 64, maxMapLength: 64, maxExtLength: 0 });

  constructor() {
    // decodeUtf8String is the library's (private) hook for every string it reads; an own property on this
    // one instance wraps it with the strict check.
    const inner = this.decoder as unknown as { bytes: Uint8Array; pos: number; decodeUtf8String(n: number, h: number): string };
    const original = inner.decodeUtf8String;
    inner.decodeUtf8String = (byteLength: number, headerOffset: number): string => {
      const start = inner.pos + headerOffset;
      if (start + byteLength <= inner.bytes.byteLength && !isUtf8(inner.bytes.subarray(start, start + byteLength))) this.sawInvalidUtf8 = true;
      return original.call(inner, byteLength, headerOffset);
    };
  }

  decode(bytes: ArrayBufferLike): unknown {
    this.sawInvalidUtf8 = false;
    return this.decoder.decode(bytes);
  }
}

/** A decoded client frame; `invalidUtf8` is true when any string in it was not valid UTF-8. */
export interface DecodedFrame {
  readonly value: unknown;
  readonly invalidUtf8: boolean;
}

const clientDecoder = new ClientFrameDecoder();

/** Throws on malformed MessagePack; callers map that to ErrorCode.BAD_FRAME. */
export function decodeClientFrame(bytes: ArrayBufferView | ArrayBuffer): DecodedFrame {
  const value = clientDecoder.decode(bytes as ArrayBufferLike);
  return { value, invalidUtf8: clientDecoder.sawInvalidUtf8 };
}

/** Decodes a client-sized value (tests of what clients send): strict limits, lenient strings. Throws on malformed input. */
export function decode(bytes: ArrayBufferView | ArrayBuffer): unknown {
  return clientDecoder.decode(bytes as ArrayBufferLike);
}

/**
 * Decoder for frames from the server (the SDK, load clients). Server frames are larger than requests (a
 * leaderboard of 100, a settled round's payouts, the games listing), so the bounds are the server's own
 * sizes with room to spare, not the request limits.
 */
const serverDecoder = new Decoder({ maxStrLength: 1024 * 1024, maxBinLength: 1024 * 1024, maxArrayLength: 100_000, maxMapLength: 10_000, maxExtLength: 0 });

/** Decodes a frame the server sent. Throws on malformed input. */
export function decodeServerFrame(bytes: ArrayBufferView | ArrayBuffer): unknown {
  return serverDecoder.decode(bytes as ArrayBufferLike);
}

export function encode(value: unknown): Uint8Array {
  // Encoder.encode returns a view over a reused buffer; slice() gives the caller bytes it may keep.
  return encoder.encode(value).slice();
}

/** Unicode code points in a string (what text limits count; UTF-16 surrogate pairs count once). */
export function codePointLength(text: string): number {
  let pairs = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return text.length - pairs;
}


export function replyFrame(ref: number, result: unknown): Uint8Array {
  return encode([ServerOp.REPLY, ref, result]);
}

export function errorFrame(ref: number, code: number, message: string, detail?: Record<string, unknown>): Uint8Array {
  return encode(detail === undefined ? [ServerOp.ERROR, ref, code, message] : [ServerOp.ERROR, ref, code, message, detail]);
}

export function roomChatFrame(room: string, seq: number, ts: number, from: string, text: string): Uint8Array {
  return encode([ServerOp.ROOM_CHAT, room, seq, ts, from, text]);
}

export function roomPresenceFrame(room: string, viewers: number): Uint8Array {
  return encode([ServerOp.ROOM_PRESENCE, room, viewers]);
}

export function roomResyncFrame(room: string, seq: number): Uint8Array {
  return encode([ServerOp.ROOM_RESYNC, room, seq]);
}

export function roomGiftFrame(room: string, seq: number, ts: number, from: string, giftId: string, count: number, coins: number, creatorTotal: number): Uint8Array {
  return encode([ServerOp.ROOM_GIFT, room, seq, ts, from, giftId, count, coins, creatorTotal]);
}

export function roomLiveFrame(room: string, seq: number, ts: number, live: boolean, stream: string | null): Uint8Array {
  return encode([ServerOp.ROOM_LIVE, room, seq, ts, live, stream]);
}

/** Top gifters of the current stream, highest first: [[user, coins], ...]. */
export function roomLeaderboardFrame(room: string, top: readonly (readonly [string, number])[]): Uint8Array {
  return encode([ServerOp.ROOM_LEADERBOARD, room, top]);
}

/** A game's state changed: [86, room, seq, ts, game, id, phase, data] (docs/games.md lists each phase's data). */
export function roomGameFrame(room: string, seq: number, ts: number, game: string, id: string, phase: string, data: Record<string, unknown>): Uint8Array {
  return encode([ServerOp.ROOM_GAME, room, seq, ts, game, id, phase, data]);
}

/**
 * A moderation action in a room: [87, room, seq, ts, by, action, data] (docs/protocol.md § Moderation lists
 * each action's data). `removed` marks, at its own seq, a chat message that was deleted.
 */
export function roomModFrame(room: string, seq: number, ts: number, by: string, action: string, data: Record<string, unknown>): Uint8Array {
  return encode([ServerOp.ROOM_MOD, room, seq, ts, by, action, data]);
}

/** [91, {id, kind, title, body, data, createdAt}]: a notification delivered to a connected user. */
export function notificationFrame(n: { id: string; kind: string; title: string; body: string; data: Record<string, string | number>; createdAt: number }): Uint8Array {
  return encode([ServerOp.NOTIFICATION, { id: n.id, kind: n.kind, title: n.title, body: n.body, data: n.data, createdAt: n.createdAt }]);
}

export function dmFrame(inboxSeq: number, ts: number, from: string, text: string): Uint8Array {
  return encode([ServerOp.DM, inboxSeq, ts, from, text]);
}
