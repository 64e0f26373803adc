/**
 * The NodeRegistry inside one process: for a node that routes through the in-process bus (the routing
 * measurement in docs/design-departures.md) and for tests. Same contract as the Redis registry
 * (node-registry.conformance.ts).
 */
import type { NodeLocation, NodeRegistry } from './node-registry';

export class InMemoryNodeRegistry implements NodeRegistry {
  private seq = 0;
  private readonly beats = new Map<number, number>();
  private readonly ids = new Map<number, string>();
  private readonly online = new Map<number, ReadonlyMap<string, number>>();
  private readonly buckets = new Map<string, { tokens: number; ts: number }>();

  constructor(private readonly ttlMs: number) {}

  async allocateNodeNumber(): Promise<number> {
    return ++this.seq;
  }

  async beat(node: number, nodeId: string, users: ReadonlyMap<string, number>, now = Date.now()): Promise<void> {
    this.beats.set(node, now);
    this.ids.set(node, nodeId);
    this.online.set(node, new Map(users));
  }

  async deadNodes(now = Date.now()): Promise<number[]> {
    return [...this.beats].filter(([, at]) => at <= now - this.ttlMs).map(([node]) => node).sort((a, b) => a - b);
  }

  async liveNodes(now = Date.now()): Promise<number[]> {
    return [...this.beats].filter(([, at]) => at > now - this.ttlMs).map(([node]) => node).sort((a, b) => a - b);
  }

  async leave(node: number): Promise<void> {
    this.beats.set(node, 0);
    this.online.delete(node);
  }

  async whereIs(user: string, now = Date.now()): Promise<NodeLocation[]> {
    const out: NodeLocation[] = [];
    for (const [node, at] of this.beats) {
      if (at <= now - this.ttlMs) continue;
      const connections = this.online.get(node)?.get(user);
      if (connections) out.push({ node, nodeId: this.ids.get(node) ?? String(node), connections });
    }
    return out;
  }

  async takeChat(users: readonly string[], perSecond: number, burst: number, now = Date.now()): Promise<boolean[]> {
    return users.map((user) => {
      const b = this.buckets.get(user) ?? { tokens: burst, ts: now };
      b.tokens = Math.min(burst, b.tokens + Math.max(0, now - b.ts) * perSecond / 1000);
      b.ts = now;
      const granted = b.tokens >= 1;
      if (granted) b.tokens -= 1;
      this.buckets.set(user, b);
      return granted;
    });
  }

  async close(): Promise<void> {}
}
