/**
 * Maps actor ids to shards and shards to workers. Shard k lives on worker k mod W for the life of the
 * process, so one actor always runs on one thread and is the single writer of its state.
 */

import { fnv1a } from '../common/hash';

export class ShardMap {
  constructor(readonly shards: number, readonly workers: number) {}

  shardOf(kind: 'room' | 'user', id: string): number {
    return fnv1a(kind === 'room' ? `r:${id}` : `u:${id}`) % this.shards;
  }

  workerOf(kind: 'room' | 'user', id: string): number {
    return this.shardOf(kind, id) % this.workers;
  }
}
