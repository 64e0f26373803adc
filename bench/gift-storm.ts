/**
 * The closed gift loop both gift benches drive: each fan keeps one gift in flight for `seconds`, and its
 * latency runs from the send to the ROOM_GIFT broadcast reaching that fan (`broadcastSeen(i)` is called by
 * the fan's connection handler when it sees its own gift).
 */
import { randomUUID } from 'node:crypto';
import { ClientOp } from '../protocol/codes';
import { LatencyRecorder } from './latency';
import { nowMs, type LoadConnection } from './load-client';
import { Progress } from './progress';

export interface GiftStorm {
  /** Hand this to each fan's push handler: fan `i` saw its gift broadcast at `ts`. */
  readonly broadcastSeen: (i: number, ts: number) => void;
  run(fans: readonly LoadConnection[]): Promise<{ committed: number; refused: number; elapsedSec: number; latency: LatencyRecorder }>;
}

export function giftStorm(label: string, room: string, seconds: number): GiftStorm {
  const waiting: ((ts: number) => void)[] = [];
  return {
    broadcastSeen: (i, ts) => waiting[i]?.(ts),
    run: async (fans) => {
      const latency = new LatencyRecorder();
      let committed = 0;
      let refused = 0;
      const progress = new Progress(`${label}: gifting`, seconds);
      const start = Date.now();
      const deadline = start + seconds * 1000;
      const ticker = setInterval(() => progress.update(Math.min(seconds, Math.floor((Date.now() - start) / 1000)), `${committed} committed`), 500);
      await Promise.all(fans.map(async (c, i) => {
        while (Date.now() < deadline) {
          const sent = nowMs();
          const broadcast = new Promise<number>((resolve) => (waiting[i] = resolve));
          try {
            await c.request(ClientOp.GIFT, room, 'rose', 1, randomUUID());
            // A broadcast lost to a room moving between nodes (a resync this client does not follow) must
            // not stall the fan: after 10 s it counts as refused.
            const seen = await Promise.race([broadcast, new Promise<null>((r) => setTimeout(() => r(null), 10_000).unref())]);
            if (seen === null) throw new Error('no broadcast');
            latency.record(seen - sent);
            committed++;
          } catch {
            refused++;
          }
        }
      }));
      clearInterval(ticker);
      progress.done(`${committed} committed`);
      return { committed, refused, elapsedSec: (Date.now() - start) / 1000, latency };
    },
  };
}
