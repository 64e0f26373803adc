/**
 * The EventBus on Apache Kafka (kafkajs 2.2, verified against Kafka 4.4 in KRaft mode).
 *
 * - Producers: one per topic, each idempotent, acks from all in-sync replicas, one request in flight (so
 *   retries cannot reorder a partition), no linger: kafkajs sends as soon as it is asked, and callers batch
 *   per event-loop turn. One per topic because order only matters within a partition, and with one shared
 *   producer a node's commands waited behind its events (and back): in bench/cluster the cluster of one's
 *   p50 went from 27–32 ms to 20–23 ms with a producer per topic.
 * - Shared consumption: a consumer group; kafkajs and the broker do membership and rebalancing. Batches
 *   are pipelined: once a handler has taken a batch, kafkajs fetches the partition's next one while the
 *   first is still working (kafkajs fetches after its handler returns, so waiting for `done` there would
 *   add a fetch round trip to every batch). Offsets are committed by this adapter, not kafkajs: a
 *   partition's offset moves up to the end of its oldest batch not yet done, at most every 250 ms and when
 *   the member stops (one broker round trip per interval, paid for by a slightly longer replay after a
 *   crash, which positions make harmless). A batch whose `done` fails is fetched again by seeking back to
 *   it. Heartbeats continue while a handler holds a batch back, so a slow batch does not cost the node
 *   its partitions.
 * - Consume-all: a consumer group of its own per subscription, starting at the newest offsets. kafkajs
 *   has no manual assignment, so reading only some partitions is a group of one whose assigner hands
 *   its only member those partitions (`onlyPartitions`).
 * - Unreachable brokers fail `connect` after a few quick retries (HB_BUS_UNREACHABLE); once running,
 *   clients retry for minutes, which rides out a broker restart. A consumer kafkajs gives up on is replaced
 *   (kafka-supervised-consumer.ts).
 */
import { AssignerProtocol, ConfigResourceTypes, Kafka, logLevel, type Consumer, type ConsumerRunConfig, type Producer, type LogEntry, type PartitionAssigner } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { SupervisedConsumer, type KafkaLog } from './kafka-supervised-consumer';
import { BusError, type BatchHandling, type BusRecord, type BusSubscription, type ConsumedBatch, type EventBus, type SharedHandlers } from './event-bus';
import { PipelinedCommits } from './kafka-pipelined-commits';

/** The consumer-group session asked for when none is configured (config.ts documents the choice). */
const DEFAULT_SESSION_MS = 1500;
/** What Kafka's brokers accept by default as the shortest session (group.min.session.timeout.ms). */
const KAFKA_DEFAULT_SESSION_FLOOR_MS = 6000;

/**
 * The shortest consumer session the brokers accept. A client not allowed to read broker configs assumes
 * Kafka's default rather than have every join refused (INVALID_SESSION_TIMEOUT).
 */
async function brokerSessionFloor(admin: ReturnType<Kafka['admin']>, broker: string): Promise<number> {
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: broker, configNames: ['group.min.session.timeout.ms'] }],
    });
    const value = Number(described.resources[0]?.configEntries.find((e) => e.configName === 'group.min.session.timeout.ms')?.configValue);
    return Number.isFinite(value) && value > 0 ? value : KAFKA_DEFAULT_SESSION_FLOOR_MS;
  } catch {
    return KAFKA_DEFAULT_SESSION_FLOOR_MS;
  }
}

/** How long a stopping shared member waits for its batches in flight to be done, to commit them. */
const STOP_SETTLE_MS = 5000;

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly replicationFactor?: number;
  readonly sessionTimeoutMs?: number;
  /** Partitions one member works on at once. */
  readonly concurrency?: number;
  /** kafkajs warnings and errors, for the node's logger. */
  readonly onLog?: KafkaLog;
  /** A consumer kafkajs gave up on was replaced by a new one (for a metric). */
  readonly onConsumerReplaced?: () => void;
  /**
   * After each batch: how many records of the partition lie beyond it (the end of the log minus what was
   * handed over); null when this member stopped reading the partition. For the consumer-lag metric.
   */
  readonly onLag?: (topic: string, partition: number, lag: number | null) => void;
}

export class KafkaBus implements EventBus {
  /** Running consumers, each with what to do before it stops. */
  private readonly consumers = new Map<SupervisedConsumer, () => Promise<void>>();

  /** A producer per topic, connected on first use (see the header). */
  private readonly producers = new Map<string, Promise<Producer>>();

  private constructor(
    private readonly kafka: Kafka,
    private readonly opts: KafkaBusOptions,
    /** The consumer-group session this bus uses: as asked, but never below what the brokers accept. */
    readonly sessionTimeoutMs: number,
  ) {}

  static async connect(opts: KafkaBusOptions): Promise<KafkaBus> {
    const logCreator = () => ({ level, log }: LogEntry) => {
      if (!opts.onLog) return;
      const { message, ...extra } = log;
      // Expected during normal operation: topics that already exist, and rebalances.
      if (/already exists|Topic creation errors|rebalancing|switched default partitioner|Limiting retries/i.test(`${message} ${String(extra.error ?? '')}`)) return;
      opts.onLog(level === logLevel.ERROR ? 'error' : 'warn', message, extra);
    };
    const probe = new Kafka({ clientId: opts.clientId, brokers: [...opts.brokers], connectionTimeout: 3000, retry: { retries: 2, initialRetryTime: 200 }, logLevel: logLevel.NOTHING });
    const admin = probe.admin();
    let sessionFloorMs: number;
    try {
      await admin.connect();
      const { brokers } = await admin.describeCluster();
      sessionFloorMs = await brokerSessionFloor(admin, String(brokers[0]!.nodeId));
    } catch (err) {
      throw new BusError('HB_BUS_UNREACHABLE', `Kafka at ${opts.brokers.join(',')} does not answer: ${(err as Error).message}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const asked = opts.sessionTimeoutMs ?? DEFAULT_SESSION_MS;
    if (asked < sessionFloorMs) {
      opts.onLog?.('warn', `the brokers refuse consumer sessions shorter than ${sessionFloorMs} ms (group.min.session.timeout.ms): using that instead of ${asked} ms, so a dead node's rooms move later`, { sessionTimeoutMs: sessionFloorMs });
    }
    const kafka = new Kafka({
      clientId: opts.clientId, brokers: [...opts.brokers], connectionTimeout: 3000, logLevel: logLevel.WARN, logCreator,
      // Ride out a broker restart: about two minutes of retries before an operation gives up.
      retry: { initialRetryTime: 100, maxRetryTime: 5000, retries: 30 },
    });
    return new KafkaBus(kafka, opts, Math.max(asked, sessionFloorMs));
  }

  private producerFor(topic: string): Promise<Producer> {
    let producer = this.producers.get(topic);
    if (!producer) {
      const created = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      producer = created.connect().then(() => created);
      // A failed connect is tried afresh by the next publish.
      producer.catch(() => this.producers.delete(topic));
      this.producers.set(topic, producer);
    }
    return producer;
  }

  async ensureTopics(topics: readonly string[], partitions: number): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // Right after a broker (re)starts, metadata may not know the topics yet (UNKNOWN_TOPIC_OR_PARTITION,
      // retriable) even though they exist: retry like leader elections, never exit.
      await retrying(() => admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((topic) => ({
          topic, numPartitions: partitions, replicationFactor: this.opts.replicationFactor ?? 1,
          // Replicated: an acknowledged write is on at least two brokers, so losing one loses nothing.
          ...((this.opts.replicationFactor ?? 1) >= 3 ? { configEntries: [{ name: 'min.insync.replicas', value: '2' }] } : {}),
        })),
      }));
      const meta = await retrying(() => admin.fetchTopicMetadata({ topics: [...topics] }));
      for (const t of meta.topics) {
        if (t.partitions.length < partitions) {
          throw new BusError('HB_BUS_TOPIC_MISMATCH', `topic ${t.name} has ${t.partitions.length} partitions but the cluster is configured for ${partitions}`);
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  async publish(batches: readonly { topic: string; records: readonly BusRecord[] }[]): Promise<void> {
    const topicMessages = batches.filter((b) => b.records.length > 0).map(({ topic, records }) => ({
      topic,
      messages: records.map((r) => ({ partition: r.partition, value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength) })),
    }));
    await Promise.all(topicMessages.map(async (t) => (await this.producerFor(t.topic)).send({ acks: -1, topic: t.topic, messages: t.messages })));
  }

  async consumeShared(group: string, topics: readonly string[], handlers: SharedHandlers): Promise<BusSubscription> {
    const session = this.sessionTimeoutMs;
    // Members learn of a rebalance (a dead member expired) at their next heartbeat: a fifth of the session.
    const heartbeatMs = Math.max(100, Math.floor(session / 5));
    const commits = new PipelinedCommits((what, fields) => this.opts.onLog?.('warn', what, fields));
    const lagging = new Set<string>();
    const forgetLag = (keep: ReadonlyMap<string, readonly number[]>) => {
      for (const key of lagging) {
        const cut = key.lastIndexOf('/');
        const [topic, partition] = [key.slice(0, cut), Number(key.slice(cut + 1))];
        if (keep.get(topic)?.includes(partition)) continue;
        lagging.delete(key);
        this.opts.onLag?.(topic, partition, null);
      }
    };
    const sub = await this.supervised(`shared ${group}`, () => {
      const consumer = this.kafka.consumer({ groupId: group, sessionTimeout: session, rebalanceTimeout: session * 3, heartbeatInterval: heartbeatMs, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
      commits.use(consumer);
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        // A new assignment: batches still working from the previous one commit nothing (their partitions
        // may be someone else's now; what they did is replayed there and skipped by position).
        commits.reset();
        const assigned = new Map(Object.entries(payload.memberAssignment));
        forgetLag(assigned);
        handlers.onAssignment(assigned);
      });
      // A crashed consumer has left the group (kafkajs disconnects it): its partitions are someone else's
      // until it re-joins, so this member owns nothing in between.
      consumer.on(consumer.events.CRASH, () => {
        commits.reset();
        forgetLag(new Map());
        handlers.onAssignment(new Map());
      });
      return consumer;
    }, topics, {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.concurrency ?? 4,
      eachBatch: async ({ batch, heartbeat, resolveOffset, isStale }) => {
        if (batch.messages.length === 0 || isStale()) return;
        const records = batch.messages.map((m) => ({ offset: Number(m.offset), value: toBytes(m.value) }));
        const ticket = commits.begin(batch.topic, batch.partition);
        // A missed heartbeat while the handler holds the batch back means a rebalance may follow: say so.
        const beat = setInterval(() => void heartbeat().catch((err: Error) => this.opts.onLog?.('warn', 'heartbeat during a batch failed', { err: err.message, topic: batch.topic, partition: batch.partition })), heartbeatMs);
        let handling: BatchHandling;
        try {
          handling = handlers.onBatch({ topic: batch.topic, partition: batch.partition, records });
          handling.done.catch(() => undefined); // followed by `commits` below, in the partition's order
          await handling.taken;
        } finally {
          clearInterval(beat);
        }
        // The next fetch starts after this batch; its offsets are committed once it (and all before it) are done.
        resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
        lagging.add(`${batch.topic}/${batch.partition}`);
        this.opts.onLag?.(batch.topic, batch.partition, Math.max(0, Number(batch.highWatermark) - 1 - records[records.length - 1]!.offset));
        commits.track(ticket, batch.topic, batch.partition, records[0]!.offset, records[records.length - 1]!.offset, handling.done);
      },
    }, () => commits.settle(STOP_SETTLE_MS));
    commits.start();
    return sub;
  }

  async consumeAll(topics: readonly string[], onBatch: (batch: ConsumedBatch) => Promise<void> | void, partitions?: readonly number[]): Promise<BusSubscription> {
    // "From now on" must not depend on when the group join lands: take each partition's end offset first,
    // seek there, and drop anything older that a fetch may still return.
    const next = new Map<string, number>();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const topic of topics) {
        for (const p of await retrying(() => admin.fetchTopicOffsets(topic))) {
          if (!partitions || partitions.includes(p.partition)) next.set(`${topic}/${p.partition}`, Number(p.high));
        }
      }
    } finally {
      await admin.disconnect();
    }
    // Seek on every join, not once after run(): on a fresh broker the group coordinator may still be loading,
    // and kafkajs then crashes and restarts the consumer with a new group state that forgot earlier seeks
    // (seeking in between throws "Consumer group was not initialized"). `next` advances as batches are
    // handled, so a restarted or replaced consumer neither replays nor skips.
    let joined: () => void = () => undefined;
    const firstJoin = new Promise<void>((resolve) => (joined = resolve));
    const sub = await this.supervised('read-everything', () => {
      // A group of its own per consumer: nothing is shared, and a replacement never waits for a dead member.
      const consumer = this.kafka.consumer({
        groupId: `${this.opts.clientId}.all.${randomUUID()}`, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1000, allowAutoTopicCreation: false,
        ...(partitions ? { partitionAssigners: [onlyPartitions(partitions)] } : {}),
      });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const [key, offset] of next) {
          const cut = key.lastIndexOf('/');
          consumer.seek({ topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)), offset: String(offset) });
        }
        joined();
      });
      return consumer;
    }, topics, {
      autoCommit: true,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        const key = `${batch.topic}/${batch.partition}`;
        const from = next.get(key) ?? 0;
        const records = batch.messages.filter((m) => Number(m.offset) >= from).map((m) => ({ offset: Number(m.offset), value: toBytes(m.value) }));
        if (records.length === 0) return;
        await onBatch({ topic: batch.topic, partition: batch.partition, records });
        next.set(key, records[records.length - 1]!.offset + 1);
        this.opts.onLag?.(batch.topic, batch.partition, Math.max(0, Number(batch.highWatermark) - 1 - records[records.length - 1]!.offset));
      },
    });
    await firstJoin;
    return sub;
  }

  /**
   * Runs consumers made by `create` on `topics` with `run`, replaced whenever kafkajs gives one up;
   * `stop` (or `close`) ends it.
   */
  private async supervised(what: string, create: () => Consumer, topics: readonly string[], run: ConsumerRunConfig, beforeStop: () => Promise<void> = async () => undefined): Promise<BusSubscription> {
    const start = async (consumer: Consumer) => {
      await consumer.connect();
      for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run(run);
    };
    const consumer = await SupervisedConsumer.start({ what, create, start, onLog: this.opts.onLog, onReplaced: this.opts.onConsumerReplaced });
    this.consumers.set(consumer, beforeStop);
    return { stop: () => this.stopConsumer(consumer) };
  }

  private async stopConsumer(consumer: SupervisedConsumer): Promise<void> {
    const beforeStop = this.consumers.get(consumer);
    if (!beforeStop) return;
    this.consumers.delete(consumer);
    await beforeStop();
    await consumer.stop();
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers.keys()].map((c) => this.stopConsumer(c)));
    await Promise.all([...this.producers.values()].map(async (p) => (await p.catch(() => null))?.disconnect()));
    this.producers.clear();
  }
}

/** Retries what fails while a just-created topic elects its leaders (NOT_LEADER_FOR_PARTITION and the like). */
async function retrying<T>(run: () => Promise<T>, attempts = 40): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await run();
    } catch (err) {
      if (i >= attempts || (err as { retriable?: boolean }).retriable === false) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function toBytes(value: Buffer | null): Uint8Array {
  return value ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(0);
}

/**
 * An assigner for a group of one: its member gets `partitions` of every subscribed topic and nothing else
 * (a second member, which a group of its own never has, would get nothing).
 */
function onlyPartitions(partitions: readonly number[]): PartitionAssigner {
  return () => ({
    name: 'HaloBuzzOnlyPartitions',
    version: 0,
    async assign({ members, topics }) {
      const [first, ...rest] = members.map((m) => m.memberId).sort();
      const assignment = Object.fromEntries(topics.map((topic) => [topic, [...partitions]]));
      return [
        ...(first ? [{ memberId: first, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }) }] : []),
        ...rest.map((memberId) => ({ memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: {}, userData: Buffer.alloc(0) }) })),
      ];
    },
    protocol({ topics }) {
      return { name: 'HaloBuzzOnlyPartitions', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
    },
  });
}
