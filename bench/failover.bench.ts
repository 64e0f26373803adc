/**
 * Failover: how long a room is silent after its owner node is SIGKILLed, how long gifts that were in the
 * ledger at the kill keep their senders waiting, and how long a client of the dead node takes to resume on
 * another node. Three nodes on the real Kafka, Redis and MongoDB (FerretDB), each on its defaults (session
 * timeout, node TTL, ledger lease): the numbers are what a user gets without tuning.
 *
 * Each round: a room owned by one node, its host (chatting every 50 ms) and a viewer on the other two,
 * fans on those two gifting in a closed loop (one in flight each, a retry keeps its op id), and a viewer on
 * the owner. The owner is SIGKILLed; the round ends when the viewer has seen a chat sent after the kill,
 * the dead node's viewer has resumed elsewhere and every gift in flight at the kill is answered. A new node
 * then replaces the dead one, so every round starts with three. Writes bench/results/failover-<time>.json
 * and a chart of the three times per kill.
 */
import { randomUUID } from 'node:crypto';
import { partitionOf } from '../common/hash';
import { ClientOp, Role, ServerOp } from '../protocol/codes';
import { startServer, waitFor, type ServerHandle } from '../tools/server-process';
import { LoadConnection, nowMs } from './load-client';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface FailoverParams {
  kills: number;
  fans: number;
}

export const failoverDefaults: FailoverParams = { kills: 10, fans: 4 };
export const failoverQuick: FailoverParams = { kills: 2, fans: 2 };

const PARTITIONS = 6;
/** Give up on a round after this long (a failover that slow is a failure, not a number). */
const ROUND_LIMIT_MS = 60_000;

interface Round {
  kill: number;
  /** SIGKILL → the first chat sent after the kill reaching a viewer on a surviving node. */
  roomSilentMs: number;
  /** SIGKILL → the last gift that was sent before the kill answered (with its seq). */
  giftsSettledMs: number;
  giftsInFlight: number;
  /** OP_IN_PROGRESS answers the fans got and retried. */
  inProgressAnswers: number;
  /** SIGKILL → the dead node's viewer resumed the room on another node. */
  movedResumedMs: number;
  resumeAttempts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  return Promise.race([work, sleep(ms).then(() => {
    throw new Error('timeout');
  })]);
}

/** Index of the live node owning `room`, or -1 while its partition is between owners. */
async function ownerOf(nodes: readonly ServerHandle[], prefix: string, room: string): Promise<number> {
  const p = partitionOf(room, PARTITIONS);
  for (const [i, n] of nodes.entries()) {
    const state = await fetch(`${n.http}/debug/cluster`).then((r) => r.json() as Promise<{ owned: Record<string, number[]> }>, () => null);
    if (state?.owned[`${prefix}.room-commands`]?.includes(p)) return i;
  }
  return -1;
}

/** Every command partition owned by exactly one node: the group has settled. */
async function settled(nodes: readonly ServerHandle[], prefix: string): Promise<boolean> {
  const owners = new Map<number, number>();
  for (const n of nodes) {
    const state = await fetch(`${n.http}/debug/cluster`).then((r) => r.json() as Promise<{ owned: Record<string, number[]> }>, () => null);
    for (const p of state?.owned[`${prefix}.room-commands`] ?? []) owners.set(p, (owners.get(p) ?? 0) + 1);
  }
  return owners.size === PARTITIONS && [...owners.values()].every((c) => c === 1);
}

async function connect(node: ServerHandle, user: string, onPush: (f: unknown[]) => void = () => undefined): Promise<LoadConnection> {
  const c = await LoadConnection.open(node.url, onPush);
  await within(c.hello(node.token(user)), 10_000);
  return c;
}

async function round(k: number, nodes: ServerHandle[], prefix: string, p: FailoverParams): Promise<Round> {
  const room = `failover-${k}-${randomUUID().slice(0, 6)}`;
  let ownerIndex = -1;
  await waitFor('a settled group naming the room\'s owner', async () => (await settled(nodes, prefix)) && (ownerIndex = await ownerOf(nodes, prefix, room)) >= 0, ROUND_LIMIT_MS);
  const victim = nodes[ownerIndex]!;
  const [a, b] = nodes.filter((n) => n !== victim) as [ServerHandle, ServerHandle];
  const conns: LoadConnection[] = [];
  try {
    const host = await connect(a, `fo-host-${k}`);
    conns.push(host);
    await within(host.request(ClientOp.JOIN, room, Role.HOST), 10_000);
    let killAt = Infinity;
    let firstAfterKill = Infinity;
    const viewer = await connect(b, `fo-viewer-${k}`, (f) => {
      if (f[0] !== ServerOp.ROOM_CHAT || f[1] !== room) return;
      const sentAt = Number(String(f[5]).split('@')[1]);
      if (sentAt > killAt && firstAfterKill === Infinity) firstAfterKill = nowMs();
    });
    conns.push(viewer);
    await within(viewer.request(ClientOp.JOIN, room, Role.VIEWER), 10_000);

    // The dead node's viewer: on close, reconnect to a survivor and resume from its last seq.
    let lastSeq = 0;
    let movedResumedAt = Infinity;
    let resumeAttempts = 0;
    const track = (f: unknown[]) => {
      if (f[1] === room && typeof f[2] === 'number' && f[2] > lastSeq) lastSeq = f[2];
    };
    const moved = await connect(victim, `fo-moved-${k}`, track);
    conns.push(moved);
    await within(moved.request(ClientOp.JOIN, room, Role.VIEWER), 10_000);
    const resumed = (async () => {
      await waitFor('the dead node closing its sockets', () => moved.closedCode !== null, ROUND_LIMIT_MS);
      for (let attempt = 0; movedResumedAt === Infinity; attempt++) {
        resumeAttempts++;
        const to = [a, b][attempt % 2]!;
        try {
          const c = await connect(to, `fo-moved-${k}`, track);
          conns.push(c);
          await within(c.request(ClientOp.RESUME, room, lastSeq, Role.VIEWER), 5000);
          movedResumedAt = nowMs();
        } catch {
          await sleep(100);
        }
      }
    })();

    // Fans gift in a closed loop; a failed or unanswered gift is sent again with its op id.
    let stop = false;
    let inProgress = 0;
    const gifts: { sentAt: number; answeredAt: number }[] = [];
    const fans = await Promise.all(Array.from({ length: p.fans }, async (_, i) => {
      const node = i % 2 ? b : a;
      const user = `fo-fan-${k}-${i}`;
      const mint = await fetch(`${node.http}/debug/mint?user=${user}&coins=1000000&op=mint-${randomUUID()}`, { method: 'POST' });
      if (!((await mint.json()) as { ok: boolean }).ok) throw new Error('mint failed');
      const c = await connect(node, user);
      conns.push(c);
      await within(c.request(ClientOp.JOIN, room, Role.VIEWER), 10_000);
      return c;
    }));
    const loops = fans.map(async (c) => {
      while (!stop) {
        const opId = randomUUID();
        const gift = { sentAt: nowMs(), answeredAt: Infinity };
        gifts.push(gift);
        for (;;) {
          try {
            await within(c.request(ClientOp.GIFT, room, 'rose', 1, opId), 5000);
            gift.answeredAt = nowMs();
            break;
          } catch (err) {
            if (/being applied/.test((err as Error).message)) inProgress++;
            await sleep(50);
          }
        }
      }
    });
    let chats = 0;
    const ticker = setInterval(() => host.fire(ClientOp.CHAT, room, `tick${chats++}@${nowMs()}`), 50);

    await sleep(1500);
    killAt = nowMs();
    await victim.kill();
    await waitFor('a chat after the kill reaching a surviving viewer', () => firstAfterKill !== Infinity, ROUND_LIMIT_MS);
    await within(resumed, ROUND_LIMIT_MS);
    const inFlight = gifts.filter((g) => g.sentAt < killAt);
    await waitFor('every gift in flight at the kill answered', () => inFlight.every((g) => g.answeredAt !== Infinity), ROUND_LIMIT_MS);
    clearInterval(ticker);
    stop = true;
    await within(Promise.all(loops), ROUND_LIMIT_MS);
    const late = inFlight.filter((g) => g.answeredAt > killAt);
    return {
      kill: k,
      roomSilentMs: Math.round(firstAfterKill - killAt),
      giftsSettledMs: Math.round(Math.max(0, ...late.map((g) => g.answeredAt - killAt))),
      giftsInFlight: late.length,
      inProgressAnswers: inProgress,
      movedResumedMs: Math.round(movedResumedAt - killAt),
      resumeAttempts,
    };
  } finally {
    for (const c of conns) c.close();
  }
}

const stats = (xs: readonly number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { min: s[0]!, p50: at(0.5), p90: at(0.9), max: s[s.length - 1]! };
};

export async function runFailover(p: FailoverParams, env: NodeJS.ProcessEnv): Promise<unknown> {
  if (!env.KAFKA_BROKERS || !env.REDIS_URL || !env.MONGODB_URL) {
    const why = 'KAFKA_BROKERS, REDIS_URL and MONGODB_URL are needed (deploy/local/services up; eval "$(deploy/local/services env)")';
    if (env.CI) throw new Error(`failover bench: ${why}`);
    console.error(`failover bench skipped: ${why}`);
    return null;
  }
  const prefix = `failover${Date.now().toString(36)}`;
  const db = new URL(env.MONGODB_URL);
  db.pathname = `/${prefix}`;
  // Defaults for the session timeout, node TTL and ledger lease: what a user gets without tuning.
  const nodeEnv = {
    KAFKA_BROKERS: env.KAFKA_BROKERS, REDIS_URL: env.REDIS_URL, MONGODB_URL: db.toString(),
    HALOBUZZ_ROLE: 'realtime', HALOBUZZ_KAFKA_TOPIC_PREFIX: prefix, HALOBUZZ_KAFKA_PARTITIONS: String(PARTITIONS), HALOBUZZ_KAFKA_NODE_PARTITIONS: '8',
    HALOBUZZ_WORKERS: '1', HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_ANALYTICS: 'off',
    HALOBUZZ_GIFT_PER_SECOND: '100000', HALOBUZZ_GIFT_BURST: '100000', HALOBUZZ_FRAMES_PER_SECOND: '100000', HALOBUZZ_FRAMES_BURST: '100000',
    HALOBUZZ_CHAT_PER_SECOND: '100000', HALOBUZZ_CHAT_BURST: '100000', HALOBUZZ_USER_CHAT_PER_SECOND: '100000', HALOBUZZ_USER_CHAT_BURST: '100000',
    HALOBUZZ_JOIN_PER_SECOND: '100000', HALOBUZZ_JOIN_BURST: '100000',
  };
  const all: ServerHandle[] = [];
  const start = async () => {
    const n = await startServer({ ...nodeEnv, HALOBUZZ_NODE_ID: `f${all.length + 1}` });
    all.push(n);
    return n;
  };
  const rounds: Round[] = [];
  const progress = new Progress('failover: kills', p.kills);
  try {
    const live = [await start(), await start(), await start()];
    for (let k = 1; k <= p.kills; k++) {
      const r = await round(k, live, prefix, p);
      rounds.push(r);
      progress.update(k, `room silent ${r.roomSilentMs} ms`);
      live.splice(live.findIndex((n) => n.child.exitCode !== null || n.child.signalCode !== null), 1);
      live.push(await start());
    }
    progress.done();
  } finally {
    await Promise.all(all.map((n) => n.stop()));
    const { MongoClient } = await import('mongodb');
    const c = new MongoClient(db.toString());
    await c.connect().then(() => c.db().dropDatabase()).catch(() => undefined);
    await c.close();
  }
  const result = {
    scenario: 'failover', params: p,
    summary: {
      roomSilentMs: stats(rounds.map((r) => r.roomSilentMs)),
      giftsSettledMs: stats(rounds.map((r) => r.giftsSettledMs)),
      movedResumedMs: stats(rounds.map((r) => r.movedResumedMs)),
    },
    rounds,
  };
  console.table(rounds);
  console.table(result.summary);
  const svg = lineChart({
    title: `failover after SIGKILL of the room's owner (${p.kills} kills, defaults)`, xLabel: 'kill', yLabel: 'ms after the kill',
    series: [
      { name: 'room silent', points: rounds.map((r) => ({ x: r.kill, y: r.roomSilentMs })) },
      { name: 'gifts in flight answered', points: rounds.map((r) => ({ x: r.kill, y: r.giftsSettledMs })) },
      { name: "dead node's viewer resumed", points: rounds.map((r) => ({ x: r.kill, y: r.movedResumedMs })) },
    ],
  });
  console.log(`results: ${writeResult('failover', result, svg).join(', ')}`);
  return result;
}
