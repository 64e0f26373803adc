/**
 * FNV-1a, 32 bit: stable across processes and languages, cheap for short ids. It places actors on shards
 * (actors/sharding.ts), rooms and users on log partitions, and derives numeric media uids.
 */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The log partition of a room or user id in a cluster (commands and events of one id share it). Our own
 * hash rather than Kafka's, so every part of the code (and every node) computes it the same way.
 */
export function partitionOf(id: string, partitions: number): number {
  return fnv1a(id) % partitions;
}
