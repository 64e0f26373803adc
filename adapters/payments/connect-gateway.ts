/**
 * The payout side of the card provider (Stripe Connect, Express accounts), behind a seam that leaks no
 * library type: creating a creator's connected account and its onboarding link, moving money to it
 * (a transfer, then a payout to the bank, both keyed by the withdrawal so a retried call acts once), and
 * verifying the Connect webhook (its own signing secret).
 */
import type Stripe from 'stripe';
import { str, stripeClient, verifiedEvent, type StripeObject } from './stripe-client';

export interface ConnectAccountState {
  readonly id: string;
  readonly detailsSubmitted: boolean;
  readonly payoutsEnabled: boolean;
  readonly requirementsDue: readonly string[];
  readonly disabledReason: string;
}

export interface ConnectEvent {
  readonly id: string;
  readonly type: string;
  /** The connected account the event happened on (payouts), or the account itself (account.updated). */
  readonly account: string;
  readonly accountState: ConnectAccountState | null;
  /** Our withdrawal id from the object's metadata (transfers, payouts), if any. */
  readonly withdrawal: string | null;
  readonly objectId: string;
  readonly failureMessage: string;
}

export type ConnectVerdict = { ok: true; event: ConnectEvent } | { ok: false; reason: 'signature' | 'timestamp' | 'payload' };

export interface ConnectGateway {
  createAccount(user: string, email: string | null): Promise<ConnectAccountState>;
  onboardingLink(account: string, refreshUrl: string, returnUrl: string): Promise<{ url: string; expiresAt: number }>;
  /** Platform → connected account; idempotency key `transfer:<withdrawal>`. */
  transfer(input: { withdrawal: string; account: string; amountMinor: number; currency: string }): Promise<{ id: string }>;
  /** Connected account → its bank; idempotency key `payout:<withdrawal>`. */
  payout(input: { withdrawal: string; account: string; amountMinor: number; currency: string }): Promise<{ id: string }>;
  verifyWebhook(rawBody: Buffer, signatureHeader: string | undefined): ConnectVerdict;
}

type Obj = StripeObject;

function stateOf(a: Obj): ConnectAccountState {
  const req = (a.requirements ?? {}) as Obj;
  return {
    id: str(a.id), detailsSubmitted: a.details_submitted === true, payoutsEnabled: a.payouts_enabled === true,
    requirementsDue: Array.isArray(req.currently_due) ? (req.currently_due as unknown[]).map(String) : [], disabledReason: str(req.disabled_reason),
  };
}

export class StripeConnectGateway implements ConnectGateway {
  private readonly stripe: Stripe;

  constructor(secretKey: string, private readonly webhookSecret: string, apiUrl: string | null, private readonly toleranceSec = 300) {
    this.stripe = stripeClient(secretKey, apiUrl);
  }

  async createAccount(user: string, email: string | null): Promise<ConnectAccountState> {
    const a = await this.stripe.accounts.create({ type: 'express', ...(email ? { email } : {}), metadata: { user },
      capabilities: { transfers: { requested: true } } }, { idempotencyKey: `connect-account:${user}` });
    return stateOf(a as unknown as Obj);
  }

  async onboardingLink(account: string, refreshUrl: string, returnUrl: string): Promise<{ url: string; expiresAt: number }> {
    const link = await this.stripe.accountLinks.create({ account, refresh_url: refreshUrl, return_url: returnUrl, type: 'account_onboarding' });
    return { url: link.url, expiresAt: link.expires_at };
  }

  async transfer(input: { withdrawal: string; account: string; amountMinor: number; currency: string }): Promise<{ id: string }> {
    const t = await this.stripe.transfers.create({ amount: input.amountMinor, currency: input.currency.toLowerCase(), destination: input.account,
      metadata: { withdrawal: input.withdrawal }, transfer_group: input.withdrawal }, { idempotencyKey: `transfer:${input.withdrawal}` });
    return { id: t.id };
  }

  async payout(input: { withdrawal: string; account: string; amountMinor: number; currency: string }): Promise<{ id: string }> {
    const p = await this.stripe.payouts.create({ amount: input.amountMinor, currency: input.currency.toLowerCase(), metadata: { withdrawal: input.withdrawal } },
      { idempotencyKey: `payout:${input.withdrawal}`, stripeAccount: input.account });
    return { id: p.id };
  }

  verifyWebhook(rawBody: Buffer, signatureHeader: string | undefined): ConnectVerdict {
    const verified = verifiedEvent(this.stripe, rawBody, signatureHeader, this.webhookSecret, this.toleranceSec);
    if (!verified.ok) return verified;
    const { event, object: o } = verified;
    const isAccount = str(o.object) === 'account';
    const metadata = (o.metadata ?? {}) as Obj;
    return {
      ok: true,
      event: {
        id: event.id, type: event.type, account: isAccount ? str(o.id) : str((event as unknown as Obj).account), accountState: isAccount ? stateOf(o) : null,
        withdrawal: str(metadata.withdrawal) || null, objectId: str(o.id), failureMessage: str(o.failure_message) || str(o.failure_code),
      },
    };
  }
}
