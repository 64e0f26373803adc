/**
 * Plain MessagePack encode/decode for protocol v1 (no extensions), plus typed builders for every server
 * frame so the byte layout lives in one place. Builders return bytes: a broadcast is encoded once and the
 * same bytes go to every viewer.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { ServerOp } from './codes';

const encoder = new Encoder({ ignoreUndefined: true });
/** Bounds allocation while decoding untrusted input; the frame size limit already caps the total. */
const decoder = new Decoder({ maxStrLength: 64 * 1024, maxBinLength: 64 * 1024, maxArrayLength: 64, maxMapLength: 64, maxExtLength: 0 });

export function encode(value: unknown): Uint8Array {
  // Encoder.encode returns a view over a reused buffer; slice() gives the caller bytes it may keep.
  return encoder.encode(value).slice();
}

/** Throws on malformed input; callers map that to ErrorCode.BAD_FRAME. */
export function decode(bytes: ArrayBufferView | ArrayBuffer): unknown {
  return decoder.decode(bytes as ArrayBufferLike);
}

/** Decoder for internal batches (core ↔ worker), where arrays are long and bins are frames. */
const batchDecoder = new Decoder({});
export function decodeBatch(bytes: Uint8Array): unknown {
  return batchDecoder.decode(bytes);
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

export function dmFrame(inboxSeq: number, ts: number, from: string, text: string): Uint8Array {
  return encode([ServerOp.DM, inboxSeq, ts, from, text]);
}
