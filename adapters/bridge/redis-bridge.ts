/**
 * The RealtimeBridge over Redis (ioredis), for API and socket processes that do not share memory.
 *
 * - Viewer counts: each socket node rewrites the hash `halobuzz:{viewers}:<node>` (room → count, values
 *   MessagePack-encoded integers) every interval with a TTL of three intervals, so a dead node's viewers
 *   disappear on their own, and lists itself in the sorted set `halobuzz:{viewers}` until then, with its
 *   public socket URL (if it has one) in the hash `halobuzz:{viewers}:urls`. Readers sum over the hashes
 *   the set lists as live, and name the nodes with viewers of each room (placement). One hash tag: one
 *   transaction per write and one pipeline per read, on Redis Cluster too.
 * - Revocations and stream ends: published on `halobuzz:revoked` / `halobuzz:room-end` (MessagePack);
 *   every socket node applies them. Pub/sub is at-most-once: a node that is down misses them, which is
 *   safe for revocation because a restarted node reloads revoked sessions from the account store.
 * - Shadow mutes and analytics opt-outs: published on `halobuzz:shadow-mute` / `halobuzz:analytics-opt-out`;
 *   every node applies them (the API reloads both lists into its own node at start).
 * - Room moderation by staff: published on `halobuzz:moderate` with an id; the first node to claim the id
 *   (`SET NX`) dispatches it, so the room's actor gets it once whichever node owns the room.
 */
import { randomUUID } from 'node:crypto';
import { closeRedis, duplicateRedis, openRedis, type RedisClient } from '../redis/open-redis';
import { decodeInternal, encodeInternal as encode } from '../../common/internal-codec';
import type { RealtimeBridge, RealtimeBridgeNode, RoomPresence } from './realtime-bridge';

const VIEWERS = 'halobuzz:{viewers}';
const REVOKED = 'halobuzz:revoked';
const ROOM_END = 'halobuzz:room-end';
const DELIVER = 'halobuzz:deliver';
const SHADOW_MUTE = 'halobuzz:shadow-mute';
const MODERATE = 'halobuzz:moderate';
const ANALYTICS_OPT_OUT = 'halobuzz:analytics-opt-out';

export class RedisBridge implements RealtimeBridge {
  private subscriber: RedisClient | null = null;
  private timer: NodeJS.Timeout | null = null;

  private constructor(private readonly redis: RedisClient) {}

  /** Connects; fails when Redis does not answer (a configured engine is never silently skipped). */
  static async connect(url: string): Promise<RedisBridge> {
    return new RedisBridge(await openRedis(url));
  }

  get client(): RedisClient {
    return this.redis;
  }

  async roomPresence(rooms: readonly string[]): Promise<Map<string, RoomPresence>> {
    const out = new Map<string, RoomPresence>(rooms.map((r) => [r, { viewers: 0, nodes: [] }]));
    if (rooms.length === 0) return out;
    const nodes = await this.redis.zrangebyscore(VIEWERS, `(${Date.now()}`, '+inf');
    if (nodes.length === 0) return out;
    const read = this.redis.pipeline();
    for (const node of nodes) read.hmgetBuffer(`${VIEWERS}:${node}`, ...rooms);
    read.hmget(`${VIEWERS}:urls`, ...nodes);
    const replies = (await read.exec())!;
    for (const [err] of replies) if (err) throw err;
    const urls = replies.at(-1)![1] as (string | null)[];
    const perRoom = rooms.map(() => [] as { url: string | null; n: number }[]);
    replies.slice(0, -1).forEach(([, values], i) => {
      (values as (Buffer | null)[]).forEach((v, r) => {
        if (v) perRoom[r]!.push({ url: urls[i] ?? null, n: decodeInternal(v) as number });
      });
    });
    rooms.forEach((room, r) => {
      const serving = perRoom[r]!.filter((x) => x.n > 0).sort((a, b) => b.n - a.n);
      out.set(room, { viewers: serving.reduce((sum, x) => sum + x.n, 0), nodes: serving.flatMap((x) => (x.url ? [x.url] : [])) });
    });
    return out;
  }

  async revokeSessions(sids: readonly string[]): Promise<void> {
    if (sids.length > 0) await this.redis.publish(REVOKED, Buffer.from(encode([...sids])));
  }

  async endStream(room: string, owner: string): Promise<void> {
    await this.redis.publish(ROOM_END, Buffer.from(encode([room, owner])));
  }

  /** Every node hears it; only the node holding the user's connections has anyone to send it to. */
  async deliver(user: string, frame: Uint8Array): Promise<void> {
    await this.redis.publish(DELIVER, Buffer.from(encode([user, frame])));
  }

  async moderate(room: string, by: string, action: string, args: readonly unknown[]): Promise<void> {
    await this.redis.publish(MODERATE, Buffer.from(encode([randomUUID(), room, by, action, [...args]])));
  }

  async shadowMute(user: string, until: number | null): Promise<void> {
    await this.redis.publish(SHADOW_MUTE, Buffer.from(encode([user, until])));
  }

  async analyticsOptOut(user: string, declined: boolean): Promise<void> {
    await this.redis.publish(ANALYTICS_OPT_OUT, Buffer.from(encode([user, declined])));
  }

  /** One node takes a published moderation action (the others see the claim and skip it). */
  private async claim(id: string, nodeId: string): Promise<boolean> {
    return (await this.redis.set(`halobuzz:moderate:${id}`, nodeId, 'PX', 60_000, 'NX')) === 'OK';
  }

  /**
   * Socket-node side: publish this node's viewer counts and apply revocations and stream ends. Internal
   * messages are decoded without the client frame limits (a revocation list may hold thousands of ids);
   * a bad message or a failed publish goes to `onError` (logged and counted), never silently dropped.
   */
  async serve(nodeId: string, node: RealtimeBridgeNode, intervalMs: number, onError: (job: 'bridge_message' | 'bridge_viewers', err: Error) => void, publicUrl: string | null = null): Promise<void> {
    const sub = duplicateRedis(this.redis);
    this.subscriber = sub;
    await sub.subscribe(REVOKED, ROOM_END, DELIVER, SHADOW_MUTE, MODERATE, ANALYTICS_OPT_OUT);
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      try {
        const value = decodeInternal(message);
        if (!Array.isArray(value)) throw new Error(`${channel.toString()}: not an array`);
        const name = channel.toString();
        if (name === REVOKED) node.revoke(value.filter((s): s is string => typeof s === 'string'));
        else if (name === SHADOW_MUTE) {
          if (typeof value[0] !== 'string' || (value[1] !== null && typeof value[1] !== 'number')) throw new Error(`${SHADOW_MUTE}: expected [user, until]`);
          node.shadowMute(value[0], value[1]);
        } else if (name === ANALYTICS_OPT_OUT) {
          if (typeof value[0] !== 'string' || typeof value[1] !== 'boolean') throw new Error(`${ANALYTICS_OPT_OUT}: expected [user, declined]`);
          node.analyticsOptOut(value[0], value[1]);
        } else if (name === MODERATE) {
          const [id, room, by, action, args] = value as [unknown, unknown, unknown, unknown, unknown];
          if (typeof id !== 'string' || typeof room !== 'string' || typeof by !== 'string' || typeof action !== 'string' || !Array.isArray(args)) {
            throw new Error(`${MODERATE}: expected [id, room, by, action, args]`);
          }
          this.claim(id, nodeId).then((mine) => mine && node.moderate(room, by, action, args), (err: Error) => onError('bridge_message', err));
        } else if (channel.toString() === DELIVER) {
          if (typeof value[0] !== 'string' || !(value[1] instanceof Uint8Array)) throw new Error(`${DELIVER}: expected [user, frame]`);
          node.deliver(value[0], value[1]);
        } else if (typeof value[0] === 'string' && typeof value[1] === 'string') node.endStream(value[0], value[1]);
        else throw new Error(`${channel.toString()}: expected [room, owner]`);
      } catch (err) {
        // A malformed message from another process must not take this node down.
        onError('bridge_message', err as Error);
      }
    });
    const key = `${VIEWERS}:${nodeId}`;
    const publish = async () => {
      const counts = node.localViewerCounts();
      const now = Date.now();
      const tx = this.redis.multi().del(key).zremrangebyscore(VIEWERS, '-inf', String(now));
      if (counts.size > 0) {
        tx.hset(key, ...[...counts].flatMap(([room, n]) => [room, Buffer.from(encode(n))])).pexpire(key, intervalMs * 3)
          .zadd(VIEWERS, now + intervalMs * 3, nodeId);
        if (publicUrl) tx.hset(`${VIEWERS}:urls`, nodeId, publicUrl);
      } else {
        tx.zrem(VIEWERS, nodeId);
      }
      await tx.exec();
    };
    await publish();
    this.timer = setInterval(() => void publish().catch((err: Error) => onError('bridge_viewers', err)), intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.subscriber) await closeRedis(this.subscriber);
    await closeRedis(this.redis);
  }
}
