/**
 * RealtimeServer wires the socket core together: the socket server (uWS or ws, core/transport) with the
 * operational HTTP routes, the hub of sessions, the supervised actor workers, and the command routing
 * (local, or the cluster). It is given its engines by the composition root (engines.ts) and constructs
 * none itself.
 */
import type { Logger } from 'pino';
import type { LogSettings } from '../common/logger';
import type { Config } from '../config/config';
import { WorkerPool } from '../actors/worker-pool';
import { Hub } from './hub';
import { WriteDelay } from './write-delay';
import { CoreMetrics } from './metrics';
import { Session } from './session';
import type { HttpReply, HttpRoute, SocketServer, SocketServerOptions, TransportName } from './transport/socket-server';
import { selectTransport, UWS_HINT } from './transport/select-transport';
import { verifyAccessToken } from './auth/jwt';
import { Revocations } from './auth/revocations';
import { ShadowMutes } from './shadow-mutes';
import { clientAddressOf, sharedCountryLookup } from '../adapters/geo/country-lookup';
import { readFilterConfig } from '../moderation/chat-filter';
import { followStoreSettings } from '../adapters/social/open-follow-store';
import { CloseCode, closeName } from '../protocol/codes';
import { playStoreSettings } from '../adapters/games/open-play-store';
import { GiftCatalog } from '../economy/gift-catalog';
import { GameConfig } from '../economy/games/game-config';
import { nodeOwnerTag, type Ledger, type LedgerOp } from '../adapters/ledger/ledger';
import type { RealtimeBridgeNode } from '../adapters/bridge/realtime-bridge';
import type { NodeLocation } from '../adapters/registry/node-registry';
import { cmd, type Command } from '../actors/messages';
import { LocalRouter, type CommandRouter } from './routing';
import { ClusterNode } from './cluster/cluster-node';
import type { RealtimeEngines } from '../engines';

export class RealtimeServer {
  readonly metrics: CoreMetrics;
  readonly hub: Hub;
  /** Holds the actors' effects for HALOBUZZ_WRITE_DELAY_MS before the hub applies them. */
  private readonly writeDelay: WriteDelay;
  readonly pool: WorkerPool;
  readonly catalog: GiftCatalog;
  /** Revoked auth sessions: the socket hello refuses their tokens; see revoke(). */
  readonly revocations: Revocations;
  readonly shadowMutes = new ShadowMutes();
  /** The country of a connection's address (docs/regions.md). */
  private readonly geo = sharedCountryLookup();
  private readonly clientAddress: (peer: string, forwardedFor: string | null) => string;
  /** The WebSocket and operational HTTP server (uWS or ws, see core/transport). */
  private readonly sockets: SocketServer;
  readonly transport: TransportName;
  private shuttingDown = false;
  /** Sessions answer requests with SHUTTING_DOWN (when: the router's leave decides, see Drain). */
  private refusingRequests = false;
  private sweepTimer: NodeJS.Timeout | null = null;
  private recoveryTimer: NodeJS.Timeout | null = null;
  /** Where commands go and how effects reach sockets: the local workers, or the cluster log. */
  private readonly router: CommandRouter;
  port = 0;

  constructor(private readonly config: Config, private readonly log: Logger, private readonly engines: RealtimeEngines,
    options: { onFatal?: () => void; logging?: LogSettings; metrics?: CoreMetrics } = {}) {
    this.metrics = options.metrics ?? new CoreMetrics();
    const a = config.actors;
    const catalog = GiftCatalog.fromFile(config.economy.giftCatalogFile);
    this.catalog = catalog;
    this.revocations = new Revocations(config.api.accessTtlSec * 1000 + 60_000);
    this.clientAddress = clientAddressOf(config.api.trustedProxies);
    this.pool = new WorkerPool({
      workers: a.workers,
      shards: a.shards,
      restartBudget: a.restartBudget,
      restartWindowMs: a.restartWindowMs,
      init: {
        store: engines.workerStore,
        statsIntervalMs: 1000,
        log: { ...(options.logging ?? { level: config.logLevel, pretty: false }), base: { node: config.nodeId } },
        ledger: engines.workerLedger,
        catalog: catalog.data,
        games: config.games.enabled ? { config: GameConfig.fromFile(config.games.file).data, playStore: playStoreSettings(config) } : null,
        moderation: { filter: readFilterConfig(config.moderationFile), follows: followStoreSettings(config) },
        host: {
          throughputPerTurn: a.throughputPerTurn,
          presenceIntervalMs: a.presenceIntervalMs,
          passivateAfterMs: 5 * 60_000,
          tagOrigins: engines.cluster !== null,
          room: {
            mailboxCapacity: a.mailboxCapacity, historyLimit: a.roomHistory, maxChatChars: config.limits.maxChatChars,
            platformShareBps: config.economy.platformShareBps, leaderboardSize: config.economy.leaderboardSize,
            analytics: config.engines.clickhouseUrl !== null || config.engines.embeddedAnalytics !== 'off',
          },
          user: { mailboxCapacity: a.mailboxCapacity, maxDmChars: config.limits.maxDmChars, maxPendingInbox: 10_000 },
        },
      },
    }, {
      onEffects: (effects) => this.router.routeEffects(effects),
      onRestarted: (index) => {
        this.log.warn({ worker: index }, 'actor worker restarted; re-attaching its connections');
        return this.router.workerRestarted(index);
      },
      onStats: (s) => {
        const w = String(s.worker);
        this.metrics.mailboxDepth.labels(w).set(s.mailboxDepth);
        this.metrics.actors.labels(w, 'room').set(s.rooms);
        this.metrics.actors.labels(w, 'user').set(s.users);
        this.metrics.mailboxRejected.labels(w).set(s.dropped);
        this.metrics.ledgerPending.labels(w).set(s.ledgerPending ?? 0);
        this.metrics.ledgerOldestPending.labels(w).set((s.ledgerOldestMs ?? 0) / 1000);
        for (const [rule, action, n] of s.filtered ?? []) this.metrics.filterDecisions.labels(rule, action).inc(n);
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
      (events) => this.engines.analytics?.recordAll(events.map((event) => ({ ...event, node: config.nodeId }))));
    this.writeDelay = new WriteDelay(config.writeDelayMs, (effects) => this.hub.applyEffects(effects));
    this.router = this.makeRouter();
    const choice = selectTransport(config.transport);
    if (choice.fallbackReason) this.log.warn({ transport: 'ws', reason: choice.fallbackReason }, `using the ws transport: ${choice.fallbackReason}; ${UWS_HINT}`);
    this.transport = choice.name;
    this.metrics.transport.labels(choice.name).set(1);
    this.sockets = choice.create(this.socketOptions());
  }

  async start(): Promise<number> {
    // Finish or reverse operations a previous crash left half-done, before any actor reads balances.
    const recovered = await this.engines.ledger.recover();
    this.log.info({ engine: this.engines.ledgerEngine, ...recovered }, 'ledger ready');
    // The node's number first: the workers' ledger operations carry it.
    await this.router.prepare();
    if (this.router.nodeNumber > 0) this.pool.tagLedger(nodeOwnerTag(this.router.nodeNumber));
    await this.pool.start();
    // Workers first: the owners' group may hand this node commands as soon as it joins.
    await this.router.start();
    this.port = await this.sockets.listen(this.config.host, this.config.port);
    this.sweepTimer = setInterval(() => this.hub.sweep(Date.now()), 500);
    this.sweepTimer.unref();
    this.recoveryTimer = setInterval(() => {
      this.engines.ledger.recover().then((r) => {
        if (r.completed + r.reversed > 0) this.log.warn(r, 'ledger recovery finished interrupted operations');
      }, (err) => this.log.error({ err }, 'ledger recovery failed'));
    }, Math.max(1000, this.config.economy.ledgerLeaseMs));
    this.recoveryTimer.unref();
    return this.port;
  }

  /** Where a command goes: the local workers, or (cluster) the log of its room or user. */
  dispatch(command: Command): void {
    this.router.dispatch(command);
  }

  /** The routing the configuration asks for: a cluster member when the engines include the cluster's. */
  private makeRouter(): CommandRouter {
    const cluster = this.engines.cluster;
    if (!cluster) {
      return new LocalRouter({
        send: (command) => this.pool.send(command), workerOf: (kind, id) => this.pool.workerOf(kind, id),
        applyEffects: (effects) => this.writeDelay.push(effects), reattachCommands: (select) => this.hub.reattachCommands(select),
      });
    }
    const limits = this.config.limits;
    return new ClusterNode(cluster.registry, {
      send: (command) => this.pool.send(command), quiesce: () => this.pool.quiesce(),
      evict: (kind, partitions, count) => this.pool.evict(kind, partitions, count), broadcast: (command) => this.pool.broadcast(command),
      applyEffects: (effects) => this.writeDelay.push(effects), reattachCommands: (select) => this.hub.reattachCommands(select),
      setNodeNumber: (node) => this.hub.setNodeNumber(node), userConnections: () => this.hub.userConnections(),
    }, {
      nodeId: this.config.nodeId, topicPrefix: cluster.topicPrefix, partitions: cluster.partitions, nodePartitions: cluster.nodePartitions, nodeTtlMs: cluster.nodeTtlMs,
      chatPerSecond: limits.userChatPerSecond, chatBurst: limits.userChatBurst, log: this.log.child({ component: 'cluster' }),
      onAnalytics: (events) => this.engines.analytics?.recordAll(events.map((event) => ({ ...event, node: this.config.nodeId }))),
      count: (what, n = 1) => this.metrics.cluster.labels(what).inc(n),
      onDeadNode: (node, sweep) => {
        this.metrics.clusterDeadNodes.inc();
        if (sweep) this.takeOverLedger(node);
      },
      connectBus: (clientId) => cluster.connectBus(clientId),
    });
  }

  /** Finishes, now, the money operations a dead node's workers left unfinished (instead of after their lease). */
  private takeOverLedger(node: number): void {
    const takeOver = this.engines.ledger.takeOver?.bind(this.engines.ledger);
    if (!takeOver) return;
    const started = Date.now();
    takeOver(nodeOwnerTag(node)).then((r) => {
      this.log.warn({ deadNode: node, ...r, ms: Date.now() - started }, 'took over the ledger operations of a dead node');
    }, (err) => {
      this.metrics.backgroundErrors.labels('ledger_takeover').inc();
      this.log.error({ err, deadNode: node }, 'taking over a dead node\'s ledger operations failed; the lease will expire them');
    });
  }

  /** This node's number in the cluster (0 on one node). */
  get nodeNumber(): number {
    return this.router.nodeNumber;
  }

  /** The cluster's view from this node (debug route, tests). */
  clusterState(): { node: number; owned: Record<string, number[]> } | null {
    return this.router.state();
  }

  /** Where a user is connected across the cluster (null on a single node). */
  whereIs(user: string): Promise<NodeLocation[]> | null {
    return this.router.whereIs(user);
  }

  /** Revokes auth sessions: their tokens stop working here and their open sockets close (4005). */
  revoke(sids: readonly string[]): void {
    for (const sid of sids) {
      this.revocations.add(sid);
      this.hub.revokeSession(sid);
    }
  }

  /** This node as seen by a bridge: local viewer counts, and revocations and stream ends applied here. */
  node(): RealtimeBridgeNode {
    return {
      viewers: (room) => this.hub.viewers(room),
      localViewerCounts: () => this.hub.viewerCounts(),
      revoke: (sids) => this.revoke(sids),
      endStream: (room, owner) => this.dispatch(cmd.roomEnd({ conn: 0, user: owner, room, ref: 0 })),
      moderate: (room, by, action, args) => this.dispatch(cmd.mod({ conn: 0, user: by, room, ref: 0, action, args: [...args], staff: true })),
      shadowMute: (user, until) => this.shadowMutes.set(user, until),
      analyticsOptOut: (user, declined) => this.engines.analyticsOptOuts.set(user, declined),
      deliver: (user, frame) => void this.hub.deliverToUser(user, frame),
    };
  }

  get ready(): boolean {
    return this.pool.allReady && !this.shuttingDown;
  }

  /** The main thread's ledger handle. */
  get ledgerHandle(): Ledger {
    return this.engines.ledger;
  }

  /** Stop accepting, drain the actors (their last effects still reach clients), then close every socket. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.sockets.stopListening();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.recoveryTimer) clearInterval(this.recoveryTimer);
    await this.router.leave({
      refuseRequests: () => void (this.refusingRequests = true),
      closeSessions: () => this.hub.closeAll(CloseCode.SERVER_SHUTDOWN, 'server going away, reconnect'),
    });
    this.refusingRequests = true;
    await this.pool.drain(this.config.shutdownGraceMs);
    await this.router.close();
    this.writeDelay.flush();
    await this.engines.ledger.close();
    // Sessions next: closing them records their leaves and disconnects (ended by the server).
    this.hub.closeAll(CloseCode.SERVER_SHUTDOWN, 'server going away, reconnect');
    // Then ship what analytics holds, within the grace period; the rest stays in the outbox for the next start.
    const analytics = this.engines.analytics;
    if (analytics) {
      await Promise.race([analytics.flush(), new Promise((r) => setTimeout(r, this.config.shutdownGraceMs).unref())]);
      await analytics.close();
    }
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
          return json(() => this.engines.ledger.apply(op));
        },
      },
      { method: 'GET', path: '/debug/ledger/totals', handle: () => json(() => this.engines.ledger.totals()) },
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
          isShadowMuted: (user) => this.shadowMutes.has(user),
          ipCountry: this.geo.country(this.clientAddress(conn.peer.address, conn.peer.forwardedFor)),
          regionOverride: this.config.regionOverride,
          dispatch: (c) => this.dispatch(c),
          userChatBucket: (user) => this.hub.userChatBucket(user),
          onAuthenticated: (s) => this.hub.authenticated(s, Date.now()),
          track: (event) => this.engines.analytics?.record({ ...event, node: this.config.nodeId }),
          isShuttingDown: () => this.refusingRequests,
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
