/**
 * What both Stripe adapters (payments and Connect) share: the client, pointed at another API base when
 * configured (stripe-mock in tests), and webhook verification over the raw body with a replay tolerance.
 */
import Stripe from 'stripe';

export type StripeObject = Record<string, unknown>;
export const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function stripeClient(secretKey: string, apiUrl: string | null | undefined): Stripe {
  const url = apiUrl ? new URL(apiUrl) : null;
  return new Stripe(secretKey, {
    maxNetworkRetries: 2,
    timeout: 20_000,
    ...(url ? { host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)), protocol: url.protocol === 'https:' ? 'https' : 'http' } : {}),
  });
}

/** A delivery whose signature and timestamp verified, with its data object; or why it was refused. */
export function verifiedEvent(stripe: Stripe, rawBody: Buffer, signatureHeader: string | undefined, secret: string, toleranceSec: number):
  { ok: true; event: Stripe.Event; object: StripeObject } | { ok: false; reason: 'signature' | 'timestamp' | 'payload' } {
  if (!signatureHeader) return { ok: false, reason: 'signature' };
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(rawBody, signatureHeader, secret, toleranceSec);
  } catch (err) {
    return { ok: false, reason: /timestamp/i.test((err as Error).message) ? 'timestamp' : 'signature' };
  }
  const object = event.data?.object as unknown as StripeObject | undefined;
  if (!object || typeof object !== 'object') return { ok: false, reason: 'payload' };
  return { ok: true, event, object };
}
