/**
 * PaymentGateway on Stripe (the `stripe` package). Intents are created with the amount the catalog gives
 * and an idempotency key per purchase, so a retried call never creates a second intent. Webhooks are
 * verified with the endpoint secret over the exact raw body; deliveries whose signed timestamp is older
 * than the tolerance (replays) are refused.
 */
import type Stripe from 'stripe';
import { str, stripeClient, verifiedEvent, type StripeObject } from './stripe-client';
import type { PaymentEvent, PaymentGateway, PaymentIntentView, WebhookVerdict } from './payment-gateway';

export interface StripeSettings {
  readonly secretKey: string;
  readonly webhookSecret: string;
  /** Another API base (stripe-mock in tests), e.g. http://127.0.0.1:12111. */
  readonly apiUrl?: string | null;
  /** Seconds a signed delivery stays valid (Stripe's default: 300). */
  readonly toleranceSec?: number;
}

const int = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : 0);
/** An expandable field: an id string or an object with an id. */
const idOf = (v: unknown) => (typeof v === 'string' ? v : v && typeof v === 'object' ? str((v as StripeObject).id) : '');

export class StripeGateway implements PaymentGateway {
  private readonly stripe: Stripe;

  constructor(private readonly settings: StripeSettings) {
    this.stripe = stripeClient(settings.secretKey, settings.apiUrl);
  }

  async createIntent(input: { purchase: string; user: string; packageId: string; amountMinor: number; currency: string }): Promise<PaymentIntentView> {
    const pi = await this.stripe.paymentIntents.create({
      amount: input.amountMinor, currency: input.currency.toLowerCase(), automatic_payment_methods: { enabled: true },
      metadata: { purchase: input.purchase, user: input.user, package: input.packageId },
    }, { idempotencyKey: `purchase:${input.purchase}` });
    return { id: pi.id, clientSecret: pi.client_secret ?? '', status: pi.status, amountMinor: pi.amount, currency: pi.currency.toUpperCase() };
  }

  async getIntent(id: string): Promise<PaymentIntentView> {
    const pi = await this.stripe.paymentIntents.retrieve(id);
    return { id: pi.id, clientSecret: pi.client_secret ?? '', status: pi.status, amountMinor: pi.amount, currency: pi.currency.toUpperCase() };
  }

  async refund(paymentIntent: string, idempotencyKey: string): Promise<void> {
    await this.stripe.refunds.create({ payment_intent: paymentIntent }, { idempotencyKey });
  }

  verifyWebhook(rawBody: Buffer, signatureHeader: string | undefined): WebhookVerdict {
    const verified = verifiedEvent(this.stripe, rawBody, signatureHeader, this.settings.webhookSecret, this.settings.toleranceSec ?? 300);
    if (!verified.ok) return verified;
    const { event, object: o } = verified;
    const kind = str(o.object);
    const paymentIntent = kind === 'payment_intent' ? str(o.id) : idOf(o.payment_intent) || null;
    const view: PaymentEvent = {
      id: event.id, type: event.type, created: int(event.created), paymentIntent, objectId: str(o.id),
      amountMinor: kind === 'payment_intent' ? int(o.amount_received) : int(o.amount),
      amountRefundedMinor: int(o.amount_refunded), currency: str(o.currency).toUpperCase(),
      status: kind === 'review' ? str(o.closed_reason) || str(o.reason) : str(o.status),
      fullyRefunded: o.refunded === true,
    };
    return { ok: true, event: view };
  }
}
