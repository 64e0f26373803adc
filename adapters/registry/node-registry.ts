/**
 * NodeRegistry: what the nodes of a cluster agree on besides room state: a unique number per node start
 * (it prefixes connection ids), liveness by heartbeat (a silent node is dead and its connections are
 * forgotten everywhere), which nodes a user is connected to, and per-user limits that hold across nodes.
 * Implemented on Redis (adapters/redis/redis-node-registry.ts).
 */
export interface NodeLocation {
  readonly node: number;
  readonly nodeId: string;
  readonly connections: number;
}

export interface NodeRegistry {
  /** A number no other start of any node has had. */
  allocateNodeNumber(): Promise<number>;
  /** This node is alive; `users` are its open connections per user (presence). */
  beat(node: number, nodeId: string, users: ReadonlyMap<string, number>, now?: number): Promise<void>;
  /** Nodes whose last beat is older than the TTL. */
  deadNodes(now?: number): Promise<number[]>;
  /** Nodes whose last beat is within the TTL, ascending. */
  liveNodes(now?: number): Promise<number[]>;
  /** A clean shutdown: forget this node at once. */
  leave(node: number): Promise<void>;
  whereIs(user: string, now?: number): Promise<NodeLocation[]>;
  /** One chat token per user from the cluster-wide bucket; true where granted. */
  takeChat(users: readonly string[], perSecond: number, burst: number, now?: number): Promise<boolean[]>;
  close(): Promise<void>;
}
