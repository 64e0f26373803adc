/**
 * One logical Kafka consumer that outlives the kafkajs consumers behind it.
 *
 * kafkajs restarts a crashed consumer only after a retriable error. After any other error it stays stopped
 * for good, and the node looks healthy while it no longer hears the log. A broker restart can produce such
 * an error ("Failed to find group coordinator" while the coordinator reloads), and so can a handler that
 * throws a non-retriable error. Here such a crash starts a fresh consumer after a backoff. The fresh
 * consumer re-joins the group and resumes from the committed offsets (shared) or from the handled ones
 * (read-everything, which seeks on every join).
 */
import type { Consumer } from 'kafkajs';

export type KafkaLog = (level: 'warn' | 'error', message: string, extra: Record<string, unknown>) => void;

export interface SupervisedConsumerOptions {
  /** What the consumer is for, in log lines. */
  readonly what: string;
  /** A new consumer with its listeners attached (GROUP_JOIN and the like). */
  readonly create: () => Consumer;
  /** Connects, subscribes and runs a consumer made by `create`. */
  readonly start: (consumer: Consumer) => Promise<void>;
  readonly onLog?: KafkaLog;
  /** Every time a consumer is replaced (for a metric). */
  readonly onReplaced?: () => void;
  /** First wait before a replacement; doubles per failure in a row, up to 30 s. */
  readonly backoffMs?: number;
}

export class SupervisedConsumer {
  private current: Consumer | null = null;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failuresInARow = 0;

  private constructor(private readonly opts: SupervisedConsumerOptions) {}

  /** Resolves once the first consumer runs; a first start that fails rejects (nothing is retried then). */
  static async start(opts: SupervisedConsumerOptions): Promise<SupervisedConsumer> {
    const supervised = new SupervisedConsumer(opts);
    await supervised.launch();
    return supervised;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current?.disconnect();
  }

  private async launch(): Promise<void> {
    const consumer = this.opts.create();
    this.current = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.failuresInARow = 0;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.current !== consumer) return;
      this.opts.onLog?.(payload.restart ? 'warn' : 'error', `${this.opts.what} consumer crashed`, { err: payload.error.message, restart: payload.restart });
      if (!payload.restart) this.replaceLater(consumer);
    });
    await this.opts.start(consumer);
    // Stopped while this one started: it must not keep running unowned.
    if (this.stopped) await consumer.disconnect();
  }

  private replaceLater(dead: Consumer): void {
    if (this.stopped || this.timer) return;
    const delay = Math.min(30_000, (this.opts.backoffMs ?? 500) * 2 ** Math.min(this.failuresInARow, 6));
    this.failuresInARow++;
    this.opts.onLog?.('warn', `kafkajs gave the ${this.opts.what} consumer up; starting a new one`, { inMs: delay });
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopped) return;
      this.opts.onReplaced?.();
      void dead.disconnect().catch(() => undefined)
        .then(() => (this.stopped ? undefined : this.launch()))
        .catch((err: Error) => {
          this.opts.onLog?.('error', `starting a new ${this.opts.what} consumer failed`, { err: err.message });
          if (this.current) this.replaceLater(this.current);
        });
    }, delay);
  }
}
