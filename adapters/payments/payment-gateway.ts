/**
 * The card-payment provider seam (Stripe today). Nothing of the provider's library crosses it: intents,
 * refunds and webhook events come back as the plain shapes below.
 */
export interface PaymentIntentView {
  readonly id: string;
  readonly clientSecret: string;
  /** Provider status: e.g. requires_payment_method, requires_action, processing, succeeded, canceled. */
  readonly status: string;
  readonly amountMinor: number;
  readonly currency: string;
}

/** A webhook event whose signature and timestamp were verified, reduced to what purchases need. */
export interface PaymentEvent {
  readonly id: string;
  readonly type: string;
  /** When the provider created the event (seconds): deliveries may come much later. */
  readonly created: number;
  /** The PaymentIntent the event is about (null when it names none). */
  readonly paymentIntent: string | null;
  /** The object's own id (charge, review, dispute, warning, intent). */
  readonly objectId: string;
  /** For intents: amount received; for charges: amount and amount refunded. */
  readonly amountMinor: number;
  readonly amountRefundedMinor: number;
  readonly currency: string;
  /** Object status (dispute: won/lost/…; intent: succeeded/…); review: its closing reason. */
  readonly status: string;
  /** charge.refunded: the whole charge is refunded. */
  readonly fullyRefunded: boolean;
}

export type WebhookVerdict =
  | { ok: true; event: PaymentEvent }
  | { ok: false; reason: 'signature' | 'timestamp' | 'payload' };

export interface PaymentGateway {
  createIntent(input: { purchase: string; user: string; packageId: string; amountMinor: number; currency: string }): Promise<PaymentIntentView>;
  /** An intent created before (a retried purchase continues it). */
  getIntent(id: string): Promise<PaymentIntentView>;
  /** Refunds an intent in full; the idempotency key makes a retried call refund once. */
  refund(paymentIntent: string, idempotencyKey: string): Promise<void>;
  /** Verifies a webhook delivery (signature over the raw body, timestamp within the tolerance) and reads it. */
  verifyWebhook(rawBody: Buffer, signatureHeader: string | undefined): WebhookVerdict;
}
