/**
 * MessagePack for the server's own messages: command and effect batches between threads, cluster log
 * records, stored room events, Redis bridge messages. Unlike client frames (protocol/codec.ts) these are
 * trusted and may be long (a batch holds thousands of items, a revocation list thousands of ids), so the
 * decoder has no client limits. Both sides of the engine seams use it, hence this shared floor.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder({});

export function encodeInternal(value: unknown): Uint8Array {
  return encoder.encode(value).slice();
}

export function decodeInternal(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}
