/**
 * Where commands go and how effects reach sockets, chosen once at the composition root: on one node the
 * local actor workers (`LocalRouter`); in a cluster the Kafka log and its owners (`ClusterNode`). The
 * server talks to this seam only, so it has no "if cluster" branches.
 */
import type { Command, Effect } from '../actors/messages';
import type { NodeLocation } from '../adapters/registry/node-registry';

export interface CommandRouter {
  /** The number of this node (0 on one node); connection ids and ledger operations carry it. Known after prepare(). */
  readonly nodeNumber: number;
  /** Before the workers start: take this node's number. */
  prepare(): Promise<void>;
  /** After the workers started, before the socket opens: join whatever the commands flow through. */
  start(): Promise<void>;
  /** A command from a session or the node itself, to the actor that owns its room or user. */
  dispatch(command: Command): void;
  /** A batch of effects from the local workers. */
  routeEffects(effects: readonly Effect[]): void;
  /** Worker `index` was rebuilt: the commands that put this node's connections back into its actors. */
  workerRestarted(index: number): Command[];
  /** Shutting down, before the workers drain: hand over what this node owns (see Drain). */
  leave(drain: Drain): Promise<void>;
  /** After the workers drained: release the engines behind the routing. */
  close(): Promise<void>;
  /** Debug view: this node's number and the partitions it owns (null on one node). */
  state(): { node: number; owned: Record<string, number[]> } | null;
  /** Where a user is connected across the cluster (null on one node). */
  whereIs(user: string): Promise<NodeLocation[]> | null;
}

/**
 * The sessions' side of a shutdown, in the order the router calls it. One node refuses requests at once
 * (SHUTTING_DOWN) and keeps its sessions until its own actors have drained, so their last effects still
 * reach clients (the server closes them afterwards). A cluster node keeps serving while its rooms move to
 * other nodes (commands go to the new owners), then refuses and closes the sessions, so clients resume
 * elsewhere while events still flow.
 */
export interface Drain {
  refuseRequests(): void;
  closeSessions(): void;
}

/** What the local router needs: the workers and the sockets of this node. */
export interface LocalEnds {
  send(command: Command): void;
  workerOf(kind: 'room' | 'user', id: string): number;
  applyEffects(effects: readonly Effect[]): void;
  reattachCommands(select: (kind: 'room' | 'user', id: string) => boolean): Command[];
}

/** One node: commands go straight to the local workers, effects straight to the local sockets. */
export class LocalRouter implements CommandRouter {
  readonly nodeNumber = 0;

  constructor(private readonly ends: LocalEnds) {}

  async prepare(): Promise<void> {}

  async start(): Promise<void> {}

  dispatch(command: Command): void {
    this.ends.send(command);
  }

  routeEffects(effects: readonly Effect[]): void {
    this.ends.applyEffects(effects);
  }

  workerRestarted(index: number): Command[] {
    return this.ends.reattachCommands((kind, id) => this.ends.workerOf(kind, id) === index);
  }

  async leave(drain: Drain): Promise<void> {
    drain.refuseRequests();
  }

  async close(): Promise<void> {}

  state(): null {
    return null;
  }

  whereIs(): null {
    return null;
  }
}
