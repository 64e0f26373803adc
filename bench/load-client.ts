/**
 * A lightweight protocol v1 connection for load generation: a bare `ws` socket plus the shared codec, no
 * reconnect logic, no per-event objects. Thousands fit in one process.
 */
import WebSocket from 'ws';
import { decodeServerFrame as decode, encode } from '../protocol/codec';
import { ClientOp, PROTOCOL_VERSION, ServerOp } from '../protocol/codes';

export type PushHandler = (frame: unknown[]) => void;

export class LoadConnection {
  private nextRef = 1;
  private readonly waiting = new Map<number, { resolve: (f: unknown[]) => void; reject: (e: Error) => void }>();
  closedCode: number | null = null;

  private constructor(private readonly ws: WebSocket, private readonly onPush: PushHandler) {
    ws.on('message', (data: Buffer) => {
      const frame = decode(data) as unknown[];
      const op = frame[0];
      if (op === ServerOp.REPLY || op === ServerOp.ERROR) {
        const w = this.waiting.get(frame[1] as number);
        if (!w) return;
        this.waiting.delete(frame[1] as number);
        if (op === ServerOp.REPLY) w.resolve(frame);
        else w.reject(new Error(`error ${frame[2]}: ${frame[3]}`));
      } else {
        this.onPush(frame);
      }
    });
    ws.on('close', (code) => {
      this.closedCode = code;
      for (const w of this.waiting.values()) w.reject(new Error(`closed ${code}`));
      this.waiting.clear();
    });
  }

  static open(url: string, onPush: PushHandler = () => undefined, localAddress?: string): Promise<LoadConnection> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new LoadConnection(ws, onPush)));
      ws.once('error', reject);
    });
  }

  request(op: number, ...args: unknown[]): Promise<unknown[]> {
    const ref = this.nextRef++;
    return new Promise((resolve, reject) => {
      this.waiting.set(ref, { resolve, reject });
      this.ws.send(encode([op, ref, ...args]));
    });
  }

  /** Sends without waiting for the reply (the reply is dropped). */
  fire(op: number, ...args: unknown[]): void {
    this.ws.send(encode([op, this.nextRef++, ...args]));
  }

  async hello(token: string): Promise<void> {
    await this.request(ClientOp.HELLO, PROTOCOL_VERSION, token);
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens `count` connections with at most `concurrency` handshakes in flight; reports progress. */
export async function openMany<T>(count: number, concurrency: number, open: (i: number) => Promise<T>, onProgress: (done: number) => void): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  let done = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await open(i);
      onProgress(++done);
    }
  }));
  return out;
}

/** A wall-clock timestamp with sub-millisecond resolution, comparable across connections in one process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
