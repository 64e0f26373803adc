/**
 * RealtimeServer wires the socket core together: the uWS app (WebSocket route and the operational HTTP
 * routes), the hub of sessions, and the supervised actor workers. uWS-specific code stays in this file
 * and in UwsTransport; everything else talks to the Transport and Publisher seams.
 */
import uWS from 'uWebSockets.js';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { WorkerPool } from '../actors/worker-pool';
import { Hub } from './hub';
import { CoreMetrics } from './metrics';
import { Session, type Transport } from './session';
import { verifyAccessToken } from './auth/jwt';
import { Revocations } from './auth/revocations';
import { CloseCode, closeName } from './protocol/codes';
import { GiftCatalog } from '../actors/gift-catalog';
import { openLedger, ledgerEngineName, type LedgerSettings } from '../adapters/ledger/open-ledger';
import type { Ledger, LedgerOp } from '../adapters/ledger/ledger';
import type { RealtimeNode } from '../adapters/presence/realtime-bridge';
import { Cmd } from '../actors/messages';
import { randomUUID } from 'node:crypto';
import type { AnalyticsSink } from '../adapters/analytics/analytics-sink';
import { ClickHouseSink } from '../adapters/analytics/clickhouse-sink';
import { NdjsonSink } from '../adapters/analytics/ndjson-sink';
import type { BatchingOptions } from '../adapters/analytics/batching-sink';

interface SocketData {
  session: Session | null;
}

const SEND_DROPPED = 2;

/**
 * A uWS socket behind the Transport seam. Sends are corked. The slow-consumer limit is enforced by the hub
 * (after publishes and on its sweep) and here (on direct sends) with a real 4009 close frame; uWS's own
 * limit, which cuts the TCP connection without a close frame, is set 8× higher as a last resort.
 */
class UwsTransport implements Transport {
  dead = false;
  constructor(private readonly ws: uWS.WebSocket<SocketData>, private readonly onSlow: () => void, private readonly maxBackpressure: number) {}

  send(frame: Uint8Array): void {
    if (this.dead) return;
    let status = 0;
    this.ws.cork(() => {
      status = this.ws.send(frame, true, false);
    });
    if (status === SEND_DROPPED || this.ws.getBufferedAmount() > this.maxBackpressure) this.onSlow();
  }

  bufferedAmount(): number {
    return this.dead ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.ws.end(code, reason);
  }

  subscribe(topic: string): void {
    if (!this.dead) this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (!this.dead) this.ws.unsubscribe(topic);
  }
}

export class RealtimeServer {
  readonly metrics: CoreMetrics;
  readonly hub: Hub;
  readonly pool: WorkerPool;
  readonly catalog: GiftCatalog;
  /** Revoked auth sessions: the socket hello refuses their tokens; see revoke(). */
  readonly revocations: Revocations;
  private readonly app: uWS.TemplatedApp;
  private listenSocket: uWS.us_listen_socket | null = null;
  private shuttingDown = false;
  private sweepTimer: NodeJS.Timeout | null = null;
  private recoveryTimer: NodeJS.Timeout | null = null;
  private readonly ledgerSettings: LedgerSettings;
  /** The main thread's ledger handle: crash recovery at start and on a timer, and the debug routes. */
  private ledger: Ledger | null = null;
  /** Where product events go (ClickHouse, NDJSON files, or nowhere); set by start(). */
  private analytics: AnalyticsSink | null = null;
  port = 0;

  constructor(private readonly config: Config, private readonly log: Logger, options: { onFatal?: () => void } = {}) {
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
        store: config.cluster
          ? { kind: 'redis', url: config.engines.redisUrl!, prefix: `${config.cluster.topicPrefix}:` }
          : { kind: 'sqlite', file: join(config.dataDir, 'realtime.sqlite') },
        statsIntervalMs: 1000,
        ledger: this.ledgerSettings,
        catalog: catalog.data,
        host: {
          throughputPerTurn: a.throughputPerTurn,
          presenceIntervalMs: a.presenceIntervalMs,
          passivateAfterMs: 5 * 60_000,
          room: {
            mailboxCapacity: a.mailboxCapacity, historyLimit: a.roomHistory, maxChatChars: config.limits.maxChatChars,
            platformShareBps: config.economy.platformShareBps, leaderboardSize: config.economy.leaderboardSize,
            analytics: config.engines.clickhouseUrl !== null || config.engines.embeddedAnalytics !== 'off',
          },
          user: { mailboxCapacity: a.mailboxCapacity, maxDmChars: config.limits.maxDmChars, maxPendingInbox: 10_000 },
        },
      },
    }, {
      onEffects: (effects) => this.hub.applyEffects(effects),
      onRestarted: (index) => {
        this.log.warn({ worker: index }, 'actor worker restarted; re-attaching its connections');
        return this.hub.reattachCommands(index, (kind, id) => this.pool.workerOf(kind, id));
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
    this.hub = new Hub({ publish: (topic, frame) => this.app.publish(topic, frame, true, false) }, (c) => this.pool.send(c), this.metrics, config.limits,
      (event) => this.analytics?.record({ ...event, node: config.nodeId }));
    this.app = uWS.App();
    this.routes();
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
    this.port = await new Promise<number>((resolve, reject) => {
      this.app.listen(this.config.host, this.config.port, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${this.config.host}:${this.config.port}`));
        this.listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket));
      });
    });
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
        return await ClickHouseSink.connect(e.clickhouseUrl, options, e.clickhouseDatabase, { intervalMs: e.analyticsRollupMs, backfillDays: 35, recentDays: 2 });
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
      endStream: (room, owner) => this.pool.send([Cmd.ROOM_END, 0, owner, room, 0]),
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
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.recoveryTimer) clearInterval(this.recoveryTimer);
    await this.pool.drain(this.config.shutdownGraceMs);
    await this.ledger?.close();
    // Deliver what analytics still holds, within the grace period; the rest is counted as not delivered.
    if (this.analytics) {
      await Promise.race([this.analytics.flush(), new Promise((r) => setTimeout(r, this.config.shutdownGraceMs).unref())]);
      await this.analytics.close();
    }
    this.hub.closeAll(CloseCode.SERVER_SHUTDOWN, 'server going away, reconnect');
    // Give uWS one loop turn to write the close frames.
    await new Promise((r) => setTimeout(r, 50));
  }

  /** Test-only routes (HALOBUZZ_DEBUG_ENDPOINTS, refused in production): crash injection and coin minting. */
  private debugRoutes(): void {
    this.app.post('/debug/workers/:index/crash', (res, req) => {
      const ok = this.pool.crash(Number(req.getParameter(0)));
      res.writeStatus(ok ? '202 Accepted' : '404 Not Found').end(ok ? 'crashing' : 'no such worker');
    });
    const json = (res: uWS.HttpResponse, run: () => Promise<unknown>) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      run().then((body) => {
        if (!aborted) res.cork(() => res.writeHeader('content-type', 'application/json').end(JSON.stringify(body)));
      }, (err: Error) => {
        if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end(err.message));
      });
    };
    // POST /debug/mint?user=alice&coins=100&op=<op id>: stands in for the payments flow until it exists.
    this.app.post('/debug/mint', (res, req) => {
      const q = new URLSearchParams(req.getQuery() ?? '');
      const op: LedgerOp = { kind: 'mint', opId: q.get('op') ?? '', user: q.get('user') ?? '', amount: Number(q.get('coins')), source: 'debug' };
      json(res, () => this.ledger!.apply(op));
    });
    this.app.get('/debug/ledger/totals', (res) => json(res, () => this.ledger!.totals()));
  }

  private routes(): void {
    const limits = this.config.limits;
    const auth = this.config.auth;
    this.app.ws<SocketData>('/ws', {
      compression: uWS.DISABLED,
      // uWS cuts the TCP connection without a close frame above its own cap, so the cap sits well above
      // our limit and `message` enforces the limit with a proper 1009 close.
      maxPayloadLength: limits.maxFrameBytes * 4,
      maxBackpressure: limits.maxBackpressureBytes * 8,
      closeOnBackpressureLimit: 1,
      idleTimeout: limits.idleTimeoutSec,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        if (this.shuttingDown) {
          res.writeStatus('503 Service Unavailable').end('shutting down');
          return;
        }
        res.upgrade<SocketData>({ session: null },
          req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws) => {
        const transport = new UwsTransport(ws, () => session.close(CloseCode.SLOW_CONSUMER, 'slow consumer'), limits.maxBackpressureBytes);
        const session: Session = new Session(this.hub.newConnectionId(), transport, {
          nodeId: this.config.nodeId,
          limits,
          metrics: this.metrics,
          verifyToken: (token) => verifyAccessToken(token, { secret: auth.jwtSecret, issuer: auth.jwtIssuer, audience: auth.jwtAudience }),
          isRevoked: (sid) => this.revocations.has(sid),
          dispatch: (c) => this.pool.send(c),
          userChatBucket: (user) => this.hub.userChatBucket(user),
          onAuthenticated: (s) => this.hub.authenticated(s, Date.now()),
          track: (event) => this.analytics?.record({ id: randomUUID(), ts: Date.now(), node: this.config.nodeId, ...event }),
          isShuttingDown: () => this.shuttingDown,
          now: Date.now,
        });
        ws.getUserData().session = session;
        this.hub.add(session);
      },
      message: (ws, message, isBinary) => {
        const session = ws.getUserData().session;
        if (!session) return;
        if (message.byteLength > limits.maxFrameBytes) {
          session.close(CloseCode.MESSAGE_TOO_BIG, `frame exceeds ${limits.maxFrameBytes} bytes`);
          return;
        }
        session.handleFrame(message, isBinary);
      },
      close: (ws, code) => {
        const session = ws.getUserData().session;
        if (!session) return;
        (session.transport as UwsTransport).dead = true;
        this.log.debug({ conn: session.id, user: session.user, code, name: closeName(code) }, 'socket closed');
        this.hub.remove(session);
      },
    });

    this.app.get('/health', (res) => {
      res.writeHeader('content-type', 'application/json').end(JSON.stringify({ status: 'ok', node: this.config.nodeId }));
    });
    this.app.get('/ready', (res) => {
      const ready = this.pool.allReady && !this.shuttingDown;
      res.writeStatus(ready ? '200 OK' : '503 Service Unavailable').writeHeader('content-type', 'application/json')
        .end(JSON.stringify({ ready, workers: this.config.actors.workers, shuttingDown: this.shuttingDown }));
    });
    this.app.get('/metrics', (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      void this.metrics.registry.metrics().then((text) => {
        if (aborted) return;
        res.cork(() => res.writeHeader('content-type', this.metrics.registry.contentType).end(text));
      });
    });
    if (this.config.debugEndpoints) this.debugRoutes();
    this.app.any('/*', (res) => {
      res.writeStatus('404 Not Found').writeHeader('content-type', 'application/json').end('{"error":"not found"}');
    });
  }
}
