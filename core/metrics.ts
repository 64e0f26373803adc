/**
 * Prometheus metrics of the socket core. Label children are cached so the hot path does one property
 * lookup and one add per frame.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ClientOp, closeName, errorName } from '../protocol/codes';

const opNames = new Map<number, string>(Object.entries(ClientOp).map(([k, v]) => [v, k.toLowerCase()]));

export class CoreMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: 'halobuzz_connections', help: 'Open WebSocket connections', registers: [this.registry] });
  readonly authenticated = new Gauge({ name: 'halobuzz_authenticated_connections', help: 'Connections past hello', registers: [this.registry] });
  private readonly framesIn = new Counter({ name: 'halobuzz_frames_in_total', help: 'Client frames received, by op', labelNames: ['op'], registers: [this.registry] });
  private readonly framesOut = new Counter({ name: 'halobuzz_frames_out_total', help: 'Frames sent: direct sends and topic publishes', labelNames: ['kind'], registers: [this.registry] });
  private readonly errors = new Counter({ name: 'halobuzz_errors_total', help: 'Reply errors sent, by code', labelNames: ['code', 'name'], registers: [this.registry] });
  private readonly closes = new Counter({ name: 'halobuzz_closes_total', help: 'Connections closed by the server, by close code', labelNames: ['code', 'name'], registers: [this.registry] });
  readonly mailboxDepth = new Gauge({ name: 'halobuzz_mailbox_depth', help: 'Messages waiting in actor mailboxes, by worker', labelNames: ['worker'], registers: [this.registry] });
  readonly actors = new Gauge({ name: 'halobuzz_actors', help: 'Live actors, by worker and kind', labelNames: ['worker', 'kind'], registers: [this.registry] });
  readonly ledgerPending = new Gauge({ name: 'halobuzz_ledger_pending_operations', help: 'Ledger calls of the actors in flight (waiting for the money store), by worker', labelNames: ['worker'], registers: [this.registry] });
  readonly ledgerOldestPending = new Gauge({ name: 'halobuzz_ledger_oldest_pending_seconds', help: 'How long the oldest ledger call in flight has waited, by worker (0 when none)', labelNames: ['worker'], registers: [this.registry] });
  readonly kafkaLag = new Gauge({ name: 'halobuzz_kafka_consumer_lag', help: 'Records between what this node consumed and the end of each partition it reads, by topic and partition', labelNames: ['topic', 'partition'], registers: [this.registry] });
  readonly mailboxRejected = new Gauge({ name: 'halobuzz_mailbox_rejected', help: 'Messages refused by full mailboxes since the worker started', labelNames: ['worker'], registers: [this.registry] });
  private readonly apiErrors = new Counter({ name: 'halobuzz_api_errors_total', help: 'HTTP API error responses, by code', labelNames: ['code'], registers: [this.registry] });
  readonly analytics = new Counter({ name: 'halobuzz_analytics_events_total', help: 'Analytics events by outcome (delivered, failed delivery attempts, dropped at the queue bound)', labelNames: ['outcome'], registers: [this.registry] });
  readonly analyticsQueued = new Gauge({ name: 'halobuzz_analytics_queued', help: 'Analytics events waiting for delivery', registers: [this.registry] });
  readonly cluster = new Counter({ name: 'halobuzz_cluster_total', help: 'Cluster log traffic: commands and events published, events applied, bad records, partitions taken over, publish retries, Kafka consumers replaced', labelNames: ['what'], registers: [this.registry] });
  readonly clusterDeadNodes = new Counter({ name: 'halobuzz_cluster_dead_nodes_total', help: 'Nodes found dead (heartbeat older than the TTL) whose connections this node purged', registers: [this.registry] });
  /** Oversized client frames: closed with 1009, or cut by the transport before the server saw them (uWS above its cap). */
  readonly oversizedFrames = new Counter({ name: 'halobuzz_oversized_frames_total', help: 'Client frames over maxFrameBytes, by outcome (closed_1009: close frame sent; cut: the transport dropped the connection, 1006)', labelNames: ['outcome'], registers: [this.registry] });
  /** Connections the transport dropped for bad input before the server saw the frame (uWS, no close frame). */
  readonly transportCuts = new Counter({ name: 'halobuzz_transport_cuts_total', help: 'Connections the WebSocket transport dropped for bad input (1006, no close frame), by reason: oversized (over 4 × maxFrameBytes), text_not_utf8 (a text frame that is not UTF-8)', labelNames: ['reason'], registers: [this.registry] });
  readonly transport = new Gauge({ name: 'halobuzz_transport', help: 'The socket transport this node runs (1 for the one in use): uws or ws', labelNames: ['transport'], registers: [this.registry] });
  readonly backgroundErrors = new Counter({ name: 'halobuzz_background_errors_total', help: 'Failed runs of periodic jobs and bad internal messages, by job', labelNames: ['job'], registers: [this.registry] });
  /** Payment provider webhooks, by provider and outcome (credited, duplicate, ignored, refused_signature, refused_timestamp, retry, …). */
  readonly webhooks = new Counter({ name: 'halobuzz_webhooks_total', help: 'Payment webhooks by provider and outcome (refused_signature, refused_timestamp and refused_payload are refusals)', labelNames: ['provider', 'outcome'], registers: [this.registry] });
  /** Pushes by provider and outcome (sent, retry, dead_token, failed, gave_up, no_sender, deferred). */
  readonly pushes = new Counter({ name: 'halobuzz_pushes_total', help: 'Push notifications by platform (fcm, apns, expo, webpush) and outcome: sent (accepted by the provider), retry, dead_token (device removed), failed, gave_up, no_sender, deferred (device rate)', labelNames: ['platform', 'outcome'], registers: [this.registry] });
  readonly filterDecisions = new Counter({ name: 'halobuzz_moderation_filter_total', help: 'Chat filter decisions by rule (profanity, self-harm, contact, links, mentions, repeat…) and action (mask, flag, block), counted where the room runs', labelNames: ['rule', 'action'], registers: [this.registry] });
  readonly dataRights = new Counter({ name: 'halobuzz_data_rights_total', help: 'Data subject requests by what happened: export requested, refused (daily limit), ready, failed, downloaded, expired; account closed, restored, erased', labelNames: ['outcome'], registers: [this.registry] });
  readonly reports = new Counter({ name: 'halobuzz_moderation_reports_total', help: 'Reports by outcome: filed, merged (a duplicate of an open report on the same target), rate_limited, flagged (by the filter or ban evasion), resolved', labelNames: ['outcome'], registers: [this.registry] });
  readonly workerRestarts = new Counter({ name: 'halobuzz_worker_restarts_total', help: 'Actor worker restarts after a crash', registers: [this.registry] });
  private readonly inByOp = new Map<number, Counter.Internal>();
  private readonly outSend = this.framesOut.labels('send');
  private readonly outPublish = this.framesOut.labels('publish');
  private readonly errorByCode = new Map<number, Counter.Internal>();

  constructor(collectProcessMetrics = true) {
    if (collectProcessMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'halobuzz_' });
  }

  frameIn(op: number): void {
    let c = this.inByOp.get(op);
    if (!c) {
      c = this.framesIn.labels(opNames.get(op) ?? 'invalid');
      this.inByOp.set(op, c);
    }
    c.inc();
  }

  sent(): void {
    this.outSend.inc();
  }

  published(): void {
    this.outPublish.inc();
  }

  error(code: number): void {
    let c = this.errorByCode.get(code);
    if (!c) {
      c = this.errors.labels(String(code), errorName(code));
      this.errorByCode.set(code, c);
    }
    c.inc();
  }

  apiError(code: string): void {
    this.apiErrors.labels(code).inc();
  }

  closed(code: number): void {
    this.closes.labels(String(code), closeName(code)).inc();
  }

  /** Current value of a counter, for tests and /debug. */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const data = await metric.get();
    return data.values
      .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
