/**
 * Encodes the arrays that cross the thread boundary into one fresh ArrayBuffer per batch, so the sender can
 * transfer it without a copy on the other side.
 */
import { Encoder } from '@msgpack/msgpack';
import { decodeInternal } from '../common/internal-codec';

export class BatchCodec {
  private readonly encoder = new Encoder();

  encode(items: readonly unknown[]): Uint8Array<ArrayBuffer> {
    // The encoder reuses its buffer; slice() copies into a buffer we own and may transfer.
    return this.encoder.encode(items).slice();
  }

  decode(bytes: Uint8Array): unknown[] {
    return decodeInternal(bytes) as unknown[];
  }
}
