/**
 * RealtimeServer wires the socket core together: the uWS app (WebSocket route and the operational HTTP
 * routes), the hub of sessions, and the supervised actor workers. uWS-specific code stays in this file
 * and in UwsTransport; everything else talks to the Transport and Publisher seams.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LogSettings } from '../common/logger';
import type { Config } from '../config/config';
import { WorkerPool } from '../actors/worker-pool';
import { Hub } from './hub';
import { CoreMetrics } from './metrics';
import { Session } from './session';
import type { HttpReply, HttpRoute, SocketServer, SocketServerOptions, TransportName } from './transport/socket-server';
import { selectTransport, UWS_HINT } from './transport/select-transport';
import { verifyAccessToken } from './auth/jwt';
import { Revocations } from './auth/revocations';
import { CloseCode, closeName } from '../protocol/codes';
import { GiftCatalog } from '../actors/gift-catalog';
import { openLedger, ledgerEngineName, type LedgerSettings } from '../adapters/ledger/open-ledger';
import type { Ledger, LedgerOp } from '../adapters/ledger/ledger';
import type { RealtimeNode } from '../adapters/presence/realtime-bridge';
import { cmd } from '../actors/messages';
import { randomUUID } from 'node:crypto';
import type { AnalyticsSink } from '../adapters/analytics/analytics-sink';
import { ClickHouseSink } from '../adapters/analytics/clickhouse-sink';
import { NdjsonSink } from '../adapters/analytics/ndjson-sink';
import type { BatchingOptions } from '../adapters/analytics/batching-sink';
import { ClusterRouter } from './cluster/cluster-router';
import { realtimeStoreSettings } from '../adapters/store/open-realtime-store';
import { NodeRegistry } from './cluster/node-registry';
import { KafkaBus } from '../adapters/bus/kafka-bus';
import type { Command } from '../actors/messages';

export class RealtimeServer {
  readonly metrics: CoreMetrics;
  readonly hub: Hub;
  readonly pool: WorkerPool;
  readonly catalog: GiftCatalog;
  /** Revoked auth sessions: the socket hello refuses their tokens; see revoke(). */
  readonly revocations: Revocations;
  /** The WebSocket and operational HTTP server (uWS or ws, see core/transport). */
  private readonly sockets: SocketServer;
  readonly transport: TransportName;
  private shuttingDown = false;
  private sweepTimer: NodeJS.Timeout | null = null;
  private recoveryTimer: NodeJS.Timeout | null = null;
  private readonly ledgerSettings: LedgerSettings;
  /** The main thread's ledger handle: crash recovery at start and on a timer, and the debug routes. */
  private ledger: Ledger | null = null;
  /** Where product events go (ClickHouse, NDJSON files, or nowhere); set by start(). */
  private analytics: AnalyticsSink | null = null;
  /** Cluster mode (KAFKA_BROKERS): the router over the bus, the Redis registry, and this start's number. */
  private cluster: ClusterRouter | null = null;
  private registry: NodeRegistry | null = null;
  private bus: KafkaBus | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly purgedNodes = new Set<number>();
  nodeNumber = 0;
  port = 0;

  constructor(private readonly config: Config, private readonly log: Logger, options: { onFatal?: () => void; logging?: LogSettings } = {}) {
    this.metrics = new CoreMetrics();
    const a = config.actors;
    const catalog = GiftCatalog.fromFile(config.economy.giftCatalogFile);
    this.catalog = catalog;
    this.revocations = new Revocations(config.api.accessTtlSec * 1000 + 60_000);
    this.ledgerSettings = { mongodbUrl: config.engines.mongodbUrl, dataDir: config.dataDir, leaseMs: config.economy.ledgerLeaseMs };
    this.pool = new WorkerPool({
      workers: a.workers,
      shards: a.shards,
      restartBudget: a.restartBudget,
      restartWindowMs: a.restartWindowMs,
      init: {
        store: realtimeStoreSettings(config),
        statsIntervalMs: 1000,
        log: { ...(options.logging ?? { level: config.logLevel, pretty: false }), base: { node: config.nodeId } },
        ledger: this.ledgerSettings,
        catalog: catalog.data,
        host: {
          throughputPerTurn: a.throughputPerTurn,
          presenceIntervalMs: a.presenceIntervalMs,
          passivateAfterMs: 5 * 60_000,
          tagOrigins: config.cluster !== null,
          room: {
            mailboxCapacity: a.mailboxCapacity, historyLimit: a.roomHistory, maxChatChars: config.limits.maxChatChars,
            platformShareBps: config.economy.platformShareBps, leaderboardSize: config.economy.leaderboardSize,
            analytics: config.engines.clickhouseUrl !== null || config.engines.embeddedAnalytics !== 'off',
          },
          user: { mailboxCapacity: a.mailboxCapacity, maxDmChars: config.limits.maxDmChars, maxPendingInbox: 10_000 },
        },
      },
    }, {
      onEffects: (effects) => (this.cluster ? this.cluster.routeEffects(effects) : this.hub.applyEffects(effects)),
      onRestarted: (index) => {
        this.log.warn({ worker: index }, 'actor worker restarted; re-attaching its connections');
        if (this.cluster) {
          // Its actors had members on every node: ask them all to re-join what this node owns.
          this.cluster.workerRestarted().catch((err) => this.log.error({ err }, 'could not ask the cluster to re-attach'));
          return [];
        }
        return this.hub.reattachCommands((kind, id) => this.pool.workerOf(kind, id) === index);
      },
      onStats: (s) => {
        const w = String(s.worker);
        this.metrics.mailboxDepth.labels(w).set(s.mailboxDepth);
        this.metrics.actors.labels(w, 'room').set(s.rooms);
        this.metrics.actors.labels(w, 'user').set(s.users);
        this.metrics.mailboxRejected.labels(w).set(s.dropped);
      },
      onCrash: (index, code) => {
        this.metrics.workerRestarts.inc();
        this.log.error({ worker: index, exitCode: code }, 'actor worker exited');
      },
      onBudgetExhausted: (index) => {
        this.log.fatal({ worker: index }, 'worker restart budget exhausted; exiting');
        (options.onFatal ?? (() => process.exit(70)))();
      },
    });
    this.hub = new Hub({ publish: (topic, frame) => this.sockets.publish(topic, frame) }, (c) => this.dispatch(c), this.metrics, config.limits,
      (event) => this.analytics?.record({ ...event, node: config.nodeId }));
    const choice = selectTransport(config.transport);
    if (choice.fallbackReason) this.log.warn({ transport: 'ws', reason: choice.fallbackReason }, `using the ws transport: ${choice.fallbackReason}; ${UWS_HINT}`);
    this.transport = choice.name;
    this.metrics.transport.labels(choice.name).set(1);
    this.sockets = choice.create(this.socketOptions());
  }

  async start(): Promise<number> {
    const engine = ledgerEngineName(this.ledgerSettings);
    try {
      this.ledger = await openLedger(this.ledgerSettings);
    } catch (err) {
      throw new Error(`cannot open the ${engine} ledger (${this.ledgerSettings.mongodbUrl ?? this.config.dataDir}): ${(err as Error).message}`);
    }
    this.analytics = await this.openAnalytics();
    // Finish or reverse operations a previous crash left half-done, before any actor reads balances.
    const recovered = await this.ledger.recover();
    this.log.info({ engine, ...recovered }, 'ledger ready');
    await this.pool.start();
    // Workers first: the owners' group may hand this node commands as soon as it joins.
    if (this.config.cluster) await this.joinCluster();
    this.port = await this.sockets.listen(this.config.host, this.config.port);
    this.sweepTimer = setInterval(() => this.hub.sweep(Date.now()), 500);
    this.sweepTimer.unref();
    this.recoveryTimer = setInterval(() => {
      this.ledger?.recover().then((r) => {
        if (r.completed + r.reversed > 0) this.log.warn(r, 'ledger recovery finished interrupted operations');
      }, (err) => this.log.error({ err }, 'ledger recovery failed'));
    }, Math.max(1000, this.config.economy.ledgerLeaseMs));
    this.recoveryTimer.unref();
    return this.port;
  }

  /** Where a command goes: the local workers, or (cluster) the log of its room or user. */
  dispatch(command: Command): void {
    if (this.config.cluster) this.cluster?.dispatch(command);
    else this.pool.send(command);
  }

  /** Joins the cluster: a node number, the bus (unreachable is fatal), then the owners' group. */
  private async joinCluster(): Promise<void> {
    const c = this.config.cluster!;
    this.registry = await NodeRegistry.connect(this.config.engines.redisUrl!, c.topicPrefix, c.nodeTtlMs);
    this.nodeNumber = await this.registry.allocateNodeNumber();
    this.hub.setNodeNumber(this.nodeNumber);
    this.bus = await KafkaBus.connect({
      brokers: c.brokers, clientId: `${c.topicPrefix}.${this.config.nodeId}.${this.nodeNumber}`, replicationFactor: c.replicationFactor,
      sessionTimeoutMs: c.sessionTimeoutMs, onLog: (level, msg, extra) => this.log[level]({ component: 'kafka', ...extra }, msg),
    });
    const limits = this.config.limits;
    const registry = this.registry;
    this.cluster = new ClusterRouter(this.bus, this.pool, this.hub, {
      topicPrefix: c.topicPrefix, partitions: c.partitions, node: this.nodeNumber, maxQueued: 100_000,
      takeChat: (users) => registry.takeChat(users, limits.userChatPerSecond, limits.userChatBurst),
      onAnalytics: (event) => this.analytics?.record({ ...event, node: this.config.nodeId }),
      log: this.log.child({ component: 'cluster' }),
      count: (what, n = 1) => this.metrics.cluster.labels(what).inc(n),
    });
    await this.cluster.start();
    const beat = async () => {
      await registry.beat(this.nodeNumber, this.config.nodeId, this.hub.userConnections());
      for (const dead of await registry.deadNodes()) {
        if (dead === this.nodeNumber || this.purgedNodes.has(dead)) continue;
        this.purgedNodes.add(dead);
        this.metrics.clusterDeadNodes.inc();
        this.log.warn({ deadNode: dead }, 'a cluster node stopped beating; forgetting its connections');
        this.pool.broadcast(cmd.purgeNode(dead));
      }
    };
    await beat();
    this.heartbeatTimer = setInterval(() => void beat().catch((err) => this.log.warn({ err }, 'cluster heartbeat failed')), Math.min(1000, Math.floor(c.nodeTtlMs / 4)));
    this.heartbeatTimer.unref();
    this.log.info({ event: 'cluster-joined', node: this.nodeNumber, partitions: c.partitions, brokers: c.brokers }, 'joined the cluster');
  }

  /** The cluster's view from this node (debug route, tests). */
  clusterState(): { node: number; owned: Record<string, number[]> } | null {
    return this.cluster ? { node: this.nodeNumber, owned: this.cluster.ownership() } : null;
  }

  /** Where a user is connected across the cluster (null on a single node). */
  whereIs(user: string): Promise<{ node: number; nodeId: string; connections: number }[]> | null {
    return this.registry?.whereIs(user) ?? null;
  }

  private async openAnalytics(): Promise<AnalyticsSink | null> {
    const e = this.config.engines;
    const options: BatchingOptions = {
      maxQueue: e.analyticsQueueMax, batchSize: 5000, flushIntervalMs: 1000, minBackoffMs: 500, maxBackoffMs: 30_000,
      onOutcome: (outcome, n, error) => {
        this.metrics.analytics.labels(outcome).inc(n);
        this.metrics.analyticsQueued.set(this.analytics?.stats().queued ?? 0);
        if (outcome === 'failed') this.log.warn({ err: error, events: n }, 'analytics delivery failed; will retry');
      },
    };
    if (e.clickhouseUrl) {
      try {
        return await ClickHouseSink.connect(e.clickhouseUrl, options, e.clickhouseDatabase, {
          intervalMs: e.analyticsRollupMs, backfillDays: 35, recentDays: 2,
          onError: (err) => {
            this.metrics.backgroundErrors.labels('analytics_rollup').inc();
            this.log.error({ err }, 'analytics rollup failed; retrying on the next run');
          },
        });
      } catch (err) {
        throw new Error(`CLICKHOUSE_URL is set but ClickHouse does not answer (${e.clickhouseUrl}): ${(err as Error).message}`);
      }
    }
    return e.embeddedAnalytics === 'ndjson' ? new NdjsonSink(join(this.config.dataDir, 'analytics'), options) : null;
  }

  /** Revokes auth sessions: their tokens stop working here and their open sockets close (4005). */
  revoke(sids: readonly string[]): void {
    for (const sid of sids) {
      this.revocations.add(sid);
      this.hub.revokeSession(sid);
    }
  }

  /** This node as seen by a bridge: local viewer counts, and revocations and stream ends applied here. */
  node(): RealtimeNode {
    return {
      viewers: (room) => this.hub.viewers(room),
      localViewerCounts: () => this.hub.viewerCounts(),
      revoke: (sids) => this.revoke(sids),
      endStream: (room, owner) => this.dispatch(cmd.roomEnd({ conn: 0, user: owner, room, ref: 0 })),
    };
  }

  get ready(): boolean {
    return this.pool.allReady && !this.shuttingDown;
  }

  /** The main thread's ledger handle (opened by start()). */
  get ledgerHandle(): Ledger {
    if (!this.ledger) throw new Error('the server has not started');
    return this.ledger;
  }

  /** Stop accepting, drain the actors (their last effects still reach clients), then close every socket. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.sockets.stopListening();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.recoveryTimer) clearInterval(this.recoveryTimer);
    if (this.cluster) {
      // Hand our partitions over now, then tell the others our connections are going.
      if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
      await this.cluster.stop().catch((err) => this.log.error({ err }, 'leaving the cluster failed'));
      await this.registry?.leave(this.nodeNumber).catch(() => undefined);
    }
    await this.pool.drain(this.config.shutdownGraceMs);
    await this.bus?.close().catch(() => undefined);
    await this.registry?.close().catch(() => undefined);
    await this.ledger?.close();
    // Deliver what analytics still holds, within the grace period; the rest is counted as not delivered.
    if (this.analytics) {
      await Promise.race([this.analytics.flush(), new Promise((r) => setTimeout(r, this.config.shutdownGraceMs).unref())]);
      await this.analytics.close();
    }
    this.hub.closeAll(CloseCode.SERVER_SHUTDOWN, 'server going away, reconnect');
    // Give the transport a few loop turns to write the close frames.
    await new Promise((r) => setTimeout(r, 50));
    await this.sockets.close();
  }

  /** Test-only routes (HALOBUZZ_DEBUG_ENDPOINTS, refused in production): crash injection and coin minting. */
  private debugRoutes(): HttpRoute[] {
    const json = async (run: () => Promise<unknown>): Promise<HttpReply> => ({ status: 200, contentType: 'application/json', body: JSON.stringify(await run()) });
    return [
      {
        method: 'POST', path: '/debug/workers/:index/crash', handle: (params) => {
          const ok = this.pool.crash(Number(params.index));
          return { status: ok ? 202 : 404, contentType: 'text/plain', body: ok ? 'crashing' : 'no such worker' };
        },
      },
      {
        // POST /debug/mint?user=alice&coins=100&op=<op id>: stands in for the payments flow until it exists.
        method: 'POST', path: '/debug/mint', handle: (_p, q) => {
          const op: LedgerOp = { kind: 'mint', opId: q.get('op') ?? '', user: q.get('user') ?? '', amount: Number(q.get('coins')), source: 'debug' };
          return json(() => this.ledger!.apply(op));
        },
      },
      { method: 'GET', path: '/debug/ledger/totals', handle: () => json(() => this.ledger!.totals()) },
      { method: 'GET', path: '/debug/cluster', handle: () => json(async () => this.clusterState()) },
      { method: 'GET', path: '/debug/presence/:user', handle: (params) => json(async () => (await this.whereIs(params.user ?? '')) ?? []) },
    ];
  }

  /** Operational HTTP routes served beside the WebSocket on the socket port. */
  private httpRoutes(): HttpRoute[] {
    const routes: HttpRoute[] = [
      { method: 'GET', path: '/health', handle: () => ({ status: 200, contentType: 'application/json', body: JSON.stringify({ status: 'ok', node: this.config.nodeId, transport: this.transport }) }) },
      {
        method: 'GET', path: '/ready', handle: () => {
          const ready = this.pool.allReady && !this.shuttingDown;
          return { status: ready ? 200 : 503, contentType: 'application/json', body: JSON.stringify({ ready, workers: this.config.actors.workers, shuttingDown: this.shuttingDown }) };
        },
      },
      { method: 'GET', path: '/metrics', handle: async () => ({ status: 200, contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() }) },
    ];
    return this.config.debugEndpoints ? [...routes, ...this.debugRoutes()] : routes;
  }

  private socketOptions(): SocketServerOptions {
    const limits = this.config.limits;
    const auth = this.config.auth;
    return {
      path: '/ws',
      maxFrameBytes: limits.maxFrameBytes,
      maxBackpressureBytes: limits.maxBackpressureBytes,
      idleTimeoutSec: limits.idleTimeoutSec,
      routes: this.httpRoutes(),
      acceptUpgrade: () => !this.shuttingDown,
      onTransportCut: (reason) => {
        this.metrics.transportCuts.labels(reason).inc();
        if (reason === 'oversized') this.metrics.oversizedFrames.labels('cut').inc();
      },
      onConnection: (conn) => {
        const session = new Session(this.hub.newConnectionId(), conn, {
          nodeId: this.config.nodeId,
          limits,
          metrics: this.metrics,
          verifyToken: (token) => verifyAccessToken(token, { secret: auth.jwtSecret, issuer: auth.jwtIssuer, audience: auth.jwtAudience }),
          isRevoked: (sid) => this.revocations.has(sid),
          dispatch: (c) => this.dispatch(c),
          userChatBucket: (user) => this.hub.userChatBucket(user),
          onAuthenticated: (s) => this.hub.authenticated(s, Date.now()),
          track: (event) => this.analytics?.record({ id: randomUUID(), ts: Date.now(), node: this.config.nodeId, ...event }),
          isShuttingDown: () => this.shuttingDown,
          now: Date.now,
        });
        this.hub.add(session);
        return {
          message: (data, isBinary) => session.handleFrame(data, isBinary),
          oversized: (closedByTransport) => {
            this.metrics.oversizedFrames.labels('closed_1009').inc();
            if (closedByTransport) this.metrics.closed(CloseCode.MESSAGE_TOO_BIG);
            else session.close(CloseCode.MESSAGE_TOO_BIG, `frame exceeds ${limits.maxFrameBytes} bytes`);
          },
          slow: () => session.close(CloseCode.SLOW_CONSUMER, 'slow consumer'),
          closed: (code) => {
            this.log.debug({ conn: session.id, user: session.user, code, name: closeName(code) }, 'socket closed');
            this.hub.remove(session);
          },
        };
      },
    };
  }
}
