/**
 * Maps actor ids to shards and shards to workers. Shard k lives on worker k mod W for the life of the
 * process, so one actor always runs on one thread and is the single writer of its state.
 */

/** FNV-1a, 32 bit: stable across processes and languages, cheap for short ids. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class ShardMap {
  constructor(readonly shards: number, readonly workers: number) {}

  shardOf(kind: 'room' | 'user', id: string): number {
    return fnv1a(kind === 'room' ? `r:${id}` : `u:${id}`) % this.shards;
  }

  workerOf(kind: 'room' | 'user', id: string): number {
    return this.shardOf(kind, id) % this.workers;
  }
}

/**
 * The log partition of a room or user id in a cluster (commands and events of one id share it). Our own
 * hash rather than Kafka's, so every part of the code (and every node) computes it the same way.
 */
export function partitionOf(id: string, partitions: number): number {
  return fnv1a(id) % partitions;
}
