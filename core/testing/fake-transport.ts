/**
 * An in-memory Transport for session tests: records frames (decoded), subscriptions and the close code.
 */
import type { Transport } from '../session';
import { decode } from '../../protocol/codec';

export class FakeTransport implements Transport {
  readonly frames: unknown[][] = [];
  readonly topics = new Set<string>();
  closedWith: { code: number; reason: string } | null = null;

  send(frame: Uint8Array): void {
    if (this.closedWith) throw new Error('send after close');
    this.frames.push(decode(frame) as unknown[]);
  }

  close(code: number, reason: string): void {
    if (!this.closedWith) this.closedWith = { code, reason };
  }

  subscribe(topic: string): void {
    this.topics.add(topic);
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }

  buffered = 0;

  bufferedAmount(): number {
    return this.buffered;
  }

  /** The last frame sent, or undefined. */
  get last(): unknown[] | undefined {
    return this.frames.at(-1);
  }
}
