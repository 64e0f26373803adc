/**
 * Starts N HaloBuzz nodes as one cluster on the real Kafka and Redis (and FerretDB as the shared ledger),
 * each in its own process, with a topic prefix of their own so tests never share a cluster.
 */
import { MongoClient } from 'mongodb';
import { createServer } from 'node:net';
import { startServer, type ServerHandle } from '../../tools/server-process';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ClusterEngines {
  readonly kafka: string;
  readonly redis: string;
  readonly mongodb: string;
}

export interface TestCluster {
  readonly prefix: string;
  readonly env: Record<string, string>;
  readonly nodes: ServerHandle[];
  /** Starts one more node of this cluster. */
  add(name: string): Promise<ServerHandle>;
  /**
   * Stops node `index` gracefully (SIGTERM: it drains) and starts it again with the same settings, on the
   * same port when it has a public URL (clients' URL lists stay valid). Returns the old process's exit code.
   */
  restart(index: number): Promise<number | null>;
  /** Mints coins through the first live node's debug route. */
  mint(user: string, coins: number): Promise<void>;
  /** Which node (index into nodes) owns `room`'s partition now, by asking every node. */
  ownerOf(room: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * `extra` overrides the settings below; a variable given as undefined is left unset, so the node runs on
 * its default (the failover tests measure what a user gets without tuning).
 */
export async function startCluster(engines: ClusterEngines, size: number, label: string, extra: Record<string, string | undefined> = {}): Promise<TestCluster> {
  const prefix = `hb${label}${process.pid}x${Date.now().toString(36)}`;
  const db = new URL(engines.mongodb);
  db.pathname = `/${prefix}`;
  const env: Record<string, string> = {
    KAFKA_BROKERS: engines.kafka,
    REDIS_URL: engines.redis,
    MONGODB_URL: db.toString(),
    HALOBUZZ_ROLE: 'realtime',
    HALOBUZZ_KAFKA_TOPIC_PREFIX: prefix,
    HALOBUZZ_KAFKA_PARTITIONS: '6',
    // Each test cluster makes its own topics on the one local broker: keep them small.
    HALOBUZZ_KAFKA_NODE_PARTITIONS: '8',
    HALOBUZZ_KAFKA_SESSION_TIMEOUT_MS: '6000',
    HALOBUZZ_NODE_TTL_MS: '3000',
    HALOBUZZ_DEBUG_ENDPOINTS: '1',
    HALOBUZZ_ANALYTICS: 'off',
    HALOBUZZ_LEDGER_LEASE_MS: '500',
    HALOBUZZ_GIFT_PER_SECOND: '10000', HALOBUZZ_GIFT_BURST: '10000',
    HALOBUZZ_FRAMES_PER_SECOND: '10000', HALOBUZZ_FRAMES_BURST: '10000',
    HALOBUZZ_CHAT_PER_SECOND: '10000', HALOBUZZ_CHAT_BURST: '10000',
    HALOBUZZ_USER_CHAT_PER_SECOND: '10000', HALOBUZZ_USER_CHAT_BURST: '10000',
    HALOBUZZ_JOIN_PER_SECOND: '1000', HALOBUZZ_JOIN_BURST: '1000',
    HALOBUZZ_ABUSE_ERROR_LIMIT: '100000',
    HALOBUZZ_ROOM_HISTORY: '5000',
  };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const nodes: ServerHandle[] = [];
  // With HALOBUZZ_PUBLIC_URL asked for (any value), each node gets a port chosen here and announces its own
  // URL; the shared env (which API processes reuse) does not carry it.
  const publicUrls = extra.HALOBUZZ_PUBLIC_URL !== undefined;
  delete env.HALOBUZZ_PUBLIC_URL;
  const add = async (name: string) => {
    const port = publicUrls ? await freePort() : 0;
    const node = await startServer({ ...env, HALOBUZZ_NODE_ID: name, ...(publicUrls ? { HALOBUZZ_PORT: String(port), HALOBUZZ_PUBLIC_URL: `ws://127.0.0.1:${port}/ws` } : {}) });
    nodes.push(node);
    return node;
  };
  for (let i = 0; i < size; i++) await add(`n${i + 1}`);
  const restart = async (index: number) => {
    const old = nodes[index]!;
    const code = await old.stop();
    const fixed: Record<string, string> = old.env.HALOBUZZ_PUBLIC_URL ? { HALOBUZZ_PORT: old.env.HALOBUZZ_PORT!, HALOBUZZ_PUBLIC_URL: old.env.HALOBUZZ_PUBLIC_URL } : {};
    nodes[index] = await startServer({ ...env, HALOBUZZ_NODE_ID: old.env.HALOBUZZ_NODE_ID!, ...fixed });
    return code;
  };
  const live = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  return {
    prefix, env, nodes, add, restart,
    mint: async (user, coins) => {
      const res = await fetch(`${live()[0]!.http}/debug/mint?user=${user}&coins=${coins}&op=mint-${prefix}-${user}`, { method: 'POST' });
      if (!res.ok) throw new Error(`mint failed: ${res.status} ${await res.text()}`);
    },
    ownerOf: async (room) => {
      const { partitionOf } = await import('../../common/hash');
      const p = partitionOf(room, Number(env.HALOBUZZ_KAFKA_PARTITIONS));
      for (const [i, n] of nodes.entries()) {
        if (!live().includes(n)) continue;
        const state = (await (await fetch(`${n.http}/debug/cluster`)).json()) as { owned: Record<string, number[]> };
        if (state.owned[`${prefix}.room-commands`]?.includes(p)) return i;
      }
      return -1;
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      // HB_CLUSTER_LOGS=dir keeps every node's log for a post-mortem.
      if (process.env.HB_CLUSTER_LOGS) {
        const { writeFileSync } = await import('node:fs');
        for (const [i, n] of nodes.entries()) writeFileSync(`${process.env.HB_CLUSTER_LOGS}/${prefix}-n${i + 1}.log`, n.logs.join(''));
      }
      const c = new MongoClient(db.toString());
      await c.connect();
      await c.db().dropDatabase().catch(() => undefined);
      await c.close();
    },
  };
}
