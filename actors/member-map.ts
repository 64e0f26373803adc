/**
 * A room's members by connection id, counted per node on the side. Connection ids carry their node's number
 * (CONN_SPACE), so the counts say which nodes hold viewers of the room: in a cluster, the owner sends a
 * turn's broadcasts only to those nodes (docs/cluster.md § Interest routing). Kept as the members change
 * rather than computed per turn, because a big room's turn must not walk every member.
 */
import { nodeOfConn } from './messages';

export class MemberMap<V> extends Map<number, V> {
  private readonly perNode = new Map<number, number>();
  private cached: readonly number[] | null = null;

  override set(conn: number, value: V): this {
    if (!super.has(conn)) this.count(nodeOfConn(conn), 1);
    return super.set(conn, value);
  }

  override delete(conn: number): boolean {
    if (!super.delete(conn)) return false;
    this.count(nodeOfConn(conn), -1);
    return true;
  }

  override clear(): void {
    super.clear();
    this.perNode.clear();
    this.cached = null;
  }

  /** The nodes with at least one member, ascending (the same array until the set of nodes changes). */
  nodes(): readonly number[] {
    return (this.cached ??= [...this.perNode.keys()].sort((a, b) => a - b));
  }

  private count(node: number, by: 1 | -1): void {
    const n = (this.perNode.get(node) ?? 0) + by;
    if (n > 0) {
      if (!this.perNode.has(node)) this.cached = null;
      this.perNode.set(node, n);
    } else {
      this.perNode.delete(node);
      this.cached = null;
    }
  }
}
