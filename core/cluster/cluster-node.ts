/**
 * This node as a member of a cluster, behind the CommandRouter seam: it takes a node number from the
 * registry (connection ids carry it), connects the bus under a client id made from it, routes commands
 * and effects through the log (ClusterRouter), beats its heartbeat with its users' presence, and tells
 * its workers to forget the connections of nodes that stopped beating.
 */
import type { Logger } from 'pino';
import { cmd, type Command, type Effect } from '../../actors/messages';
import type { EventBus } from '../../adapters/bus/event-bus';
import type { NodeLocation, NodeRegistry } from '../../adapters/registry/node-registry';
import type { CommandRouter, Drain } from '../routing';
import { ClusterRouter, type ClusterRouterOptions, type LocalActors, type LocalSockets } from './cluster-router';

export interface ClusterNodeOptions {
  readonly nodeId: string;
  readonly topicPrefix: string;
  readonly partitions: number;
  readonly nodePartitions: number;
  readonly nodeTtlMs: number;
  readonly chatPerSecond: number;
  readonly chatBurst: number;
  readonly log: Logger;
  readonly onAnalytics: ClusterRouterOptions['onAnalytics'];
  readonly count: ClusterRouterOptions['count'];
  /**
   * A node found dead (its connections are purged, its ledger operations anyone's to finish). `sweep`: this
   * node is the lowest-numbered live one, so it is the one to finish them now.
   */
  readonly onDeadNode: (node: number, sweep: boolean) => void;
  /** Connects the bus once the node number (part of its client id) is known. */
  connectBus(clientId: string): Promise<EventBus>;
}

export interface ClusterEnds extends LocalActors, LocalSockets {
  setNodeNumber(node: number): void;
  userConnections(): ReadonlyMap<string, number>;
}

export class ClusterNode implements CommandRouter {
  nodeNumber = 0;
  private router: ClusterRouter | null = null;
  private bus: EventBus | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly purged = new Set<number>();

  constructor(private readonly registry: NodeRegistry, private readonly ends: ClusterEnds, private readonly o: ClusterNodeOptions) {}

  async prepare(): Promise<void> {
    this.nodeNumber = await this.allocateNodeNumber();
    this.ends.setNodeNumber(this.nodeNumber);
  }

  async start(): Promise<void> {
    this.bus = await this.o.connectBus(`${this.o.topicPrefix}.${this.o.nodeId}.${this.nodeNumber}`);
    this.router = new ClusterRouter(this.bus, this.ends, this.ends, {
      topicPrefix: this.o.topicPrefix, partitions: this.o.partitions, nodePartitions: this.o.nodePartitions, node: this.nodeNumber, maxQueued: 100_000,
      takeChat: (users) => this.registry.takeChat(users, this.o.chatPerSecond, this.o.chatBurst),
      onAnalytics: this.o.onAnalytics, log: this.o.log, count: this.o.count,
    });
    await this.router.start();
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch((err) => this.o.log.warn({ err }, 'cluster heartbeat failed')), Math.min(1000, Math.floor(this.o.nodeTtlMs / 4)));
    this.heartbeat.unref();
    this.o.log.info({ event: 'cluster-joined', node: this.nodeNumber, partitions: this.o.partitions }, 'joined the cluster');
  }

  dispatch(command: Command): void {
    this.router?.dispatch(command);
  }

  routeEffects(effects: readonly Effect[]): void {
    this.router?.routeEffects(effects);
  }

  /** The restarted worker's actors had members on every node: ask them all to re-join what this node owns. */
  workerRestarted(): Command[] {
    this.router?.workerRestarted().catch((err) => this.o.log.error({ err }, 'could not ask the cluster to re-attach'));
    return [];
  }

  /**
   * The drain (docs/cluster.md § Rolling restart): hand the partitions over now (serving requests
   * meanwhile: they go to the new owners), then close the sessions while commands and events still flow (clients reconnect to other nodes and resume; their leaves reach
   * the new owners), then stop and tell the others this node's connections are gone. The heartbeat runs
   * until then, so nobody takes this node for dead while it hands over.
   */
  async leave(drain: Drain): Promise<void> {
    await this.router?.leaveOwners().catch((err) => this.o.log.error({ err }, 'handing the partitions over failed'));
    drain.refuseRequests();
    drain.closeSessions();
    await this.router?.stop().catch((err) => this.o.log.error({ err }, 'leaving the cluster failed'));
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.registry.leave(this.nodeNumber).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.bus?.close().catch(() => undefined);
    await this.registry.close().catch(() => undefined);
  }

  state(): { node: number; owned: Record<string, number[]> } | null {
    return this.router ? { node: this.nodeNumber, owned: this.router.ownership() } : null;
  }

  whereIs(user: string): Promise<NodeLocation[]> {
    return this.registry.whereIs(user);
  }

  private async allocateNodeNumber(): Promise<number> {
    const { node, shared } = await pickNodeNumber(this.registry, this.o.nodePartitions);
    if (shared) this.o.log.warn({ node, nodePartitions: this.o.nodePartitions }, 'more live nodes than node-events partitions: this node shares one (raise HALOBUZZ_KAFKA_NODE_PARTITIONS)');
    return node;
  }

  private async beat(): Promise<void> {
    await this.registry.beat(this.nodeNumber, this.o.nodeId, this.ends.userConnections());
    const dead = (await this.registry.deadNodes()).filter((n) => n !== this.nodeNumber && !this.purged.has(n));
    if (dead.length === 0) return;
    const sweeper = (await this.registry.liveNodes())[0] === this.nodeNumber;
    for (const node of dead) {
      this.purged.add(node);
      this.o.log.warn({ deadNode: node }, 'a cluster node stopped beating; forgetting its connections');
      this.ends.broadcast(cmd.purgeNode(node));
      this.o.onDeadNode(node, sweeper);
    }
  }
}

/**
 * A fresh node number whose events partition no live node reads (numbers only grow, so after many restarts
 * a plain next number could land on a live node's partition, and each would then read the other's
 * events). With every partition taken, some nodes must share one: `shared` says so.
 */
export async function pickNodeNumber(registry: NodeRegistry, nodePartitions: number): Promise<{ node: number; shared: boolean }> {
  const partitionOf = (n: number) => ClusterRouter.eventsPartitionOf(n, nodePartitions);
  const taken = new Set((await registry.liveNodes()).map(partitionOf));
  let node = await registry.allocateNodeNumber();
  for (let tries = 1; tries < nodePartitions && taken.has(partitionOf(node)); tries++) node = await registry.allocateNodeNumber();
  return { node, shared: taken.has(partitionOf(node)) };
}
