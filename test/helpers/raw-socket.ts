/**
 * A bare WebSocket client for feeding the server bytes the SDK would never send.
 */
import WebSocket from 'ws';
import { decodeServerFrame as decode, encode } from '../../protocol/codec';

export class RawSocket {
  readonly frames: unknown[][] = [];
  closed: { code: number; reason: string } | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.frames.push(decode(data) as unknown[]));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static open(url: string): Promise<RawSocket> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawSocket(ws)));
      ws.once('error', reject);
    });
  }

  send(value: unknown): void {
    this.ws.send(encode(value));
  }

  sendBytes(bytes: Uint8Array | string, binary = true): void {
    this.ws.send(bytes, { binary });
  }

  /** Waits for the first frame matching `match` that arrived after `from`. */
  async next(match: (f: unknown[]) => boolean, timeoutMs = 3000): Promise<unknown[]> {
    const start = Date.now();
    for (;;) {
      const f = this.frames.find(match);
      if (f) return f;
      if (Date.now() - start > timeoutMs) throw new Error(`no matching frame; got ${JSON.stringify(this.frames)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const start = Date.now();
    while (!this.closed) {
      if (Date.now() - start > timeoutMs) throw new Error('socket did not close');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.closed;
  }
}
