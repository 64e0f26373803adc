/**
 * Every error the HTTP API returns: a stable code, its HTTP status, and a message. Responses look like
 * `{ "error": { "code": "HB_API_...", "message": "..." } }`. docs/errors.md lists them (a test checks).
 */
export const ApiErrors = {
  HB_API_VALIDATION: { status: 400, message: 'the request does not match the schema' },
  HB_API_BAD_JSON: { status: 400, message: 'the body is not valid JSON' },
  HB_API_BODY_TOO_LARGE: { status: 413, message: 'the body is too large' },
  HB_API_UNSUPPORTED_MEDIA: { status: 415, message: 'send application/json' },
  HB_API_UNAUTHENTICATED: { status: 401, message: 'a valid access token is required' },
  HB_API_TOKEN_EXPIRED: { status: 401, message: 'the access token expired; refresh it' },
  HB_API_INVALID_CREDENTIALS: { status: 401, message: 'email or password is wrong' },
  HB_API_REFRESH_INVALID: { status: 401, message: 'the refresh token is not valid' },
  HB_API_REFRESH_REUSED: { status: 401, message: 'this refresh token was already used; every session of this sign-in was revoked' },
  HB_API_SESSION_REVOKED: { status: 401, message: 'the session was revoked; sign in again' },
  HB_API_MFA_INVALID: { status: 401, message: 'the MFA code is wrong or was already used' },
  HB_API_MFA_TICKET_EXPIRED: { status: 401, message: 'the MFA step took too long; sign in again' },
  HB_API_MFA_TICKET_USED: { status: 401, message: 'this MFA ticket was already used; sign in again' },
  HB_API_WEAK_PASSWORD: { status: 400, message: 'the password is too common or too easy to guess' },
  HB_API_ALREADY_LIVE: { status: 409, message: 'you already have a live room; end it first' },
  HB_API_FORBIDDEN: { status: 403, message: 'not allowed' },
  HB_API_MFA_ALREADY_ENABLED: { status: 409, message: 'MFA is already on' },
  HB_API_MFA_NOT_ENROLLED: { status: 409, message: 'MFA is not set up for this account' },
  HB_API_NOT_FOUND: { status: 404, message: 'not found' },
  HB_API_EMAIL_TAKEN: { status: 409, message: 'an account with this email exists' },
  HB_API_RATE_LIMITED: { status: 429, message: 'too many requests; slow down' },
  HB_API_LOCKED_OUT: { status: 429, message: 'too many failed sign-ins; try again later' },
  HB_API_UNAVAILABLE: { status: 503, message: 'a backing service is unavailable' },
  HB_API_PAYMENTS_UNAVAILABLE: { status: 503, message: 'this payment channel is not configured on this server' },
  HB_API_UNKNOWN_PACKAGE: { status: 404, message: 'no such coin package' },
  HB_API_PAYMENT_PROVIDER: { status: 502, message: 'the payment provider did not answer; try again' },
  HB_API_WEBHOOK_REFUSED: { status: 400, message: 'the webhook signature, timestamp or payload was refused' },
  HB_API_RETRY_LATER: { status: 503, message: 'the effect of this event is not yet durable; deliver it again' },
  HB_API_RECEIPT_INVALID: { status: 400, message: 'the purchase proof was refused' },
  HB_API_RECEIPT_CLAIMED: { status: 409, message: 'this purchase was already credited to another account' },
  HB_API_OP_ID_REUSED: { status: 409, message: 'this operation id was already used for a different request' },
  HB_API_PAYOUTS_NOT_ENABLED: { status: 409, message: 'payouts are not enabled on your payout account yet' },
  HB_API_WITHDRAWAL_LIMIT: { status: 400, message: 'the amount is outside the withdrawal limits' },
  HB_API_WITHDRAWAL_OPEN: { status: 409, message: 'a withdrawal is already in progress' },
  HB_API_NOT_WITHDRAWABLE: { status: 409, message: 'not that many coins are available to withdraw' },
  HB_API_WITHDRAWAL_STATE: { status: 409, message: 'the withdrawal is not in a state that allows this' },
  HB_API_GAMES_DISABLED: { status: 503, message: 'games are switched off on this server' },
  HB_API_ACCOUNT_SUSPENDED: { status: 403, message: 'this account is suspended' },
  HB_API_NAME_REJECTED: { status: 400, message: 'this display name breaks the community rules' },
  HB_API_REPORT_LIMIT: { status: 429, message: 'too many reports in the last hour; try again later' },
  HB_API_REPORT_STATE: { status: 409, message: 'the report is not in a state that allows this' },
  HB_API_REGION_RESTRICTED: { status: 451, message: 'this is not available in your region' },
  HB_API_EXPORT_LIMIT: { status: 429, message: 'you already asked for an export today; use that one or try again tomorrow' },
  HB_API_EXPORT_LINK_INVALID: { status: 403, message: 'this download link is not valid' },
  HB_API_EXPORT_LINK_EXPIRED: { status: 410, message: 'this download link has expired; ask for a new export' },
  HB_API_EXPORT_NOT_READY: { status: 409, message: 'the export is not ready yet' },
  HB_API_ACCOUNT_DEACTIVATED: { status: 403, message: 'this account is closed and will be erased; it can be restored until then' },
  HB_API_ACCOUNT_ACTIVE: { status: 409, message: 'this account is not closed' },
  HB_API_CONFIRMATION_REQUIRED: { status: 401, message: 'confirm with your password or an MFA code' },
  HB_API_INTERNAL: { status: 500, message: 'internal error' },
} as const;

export type ApiErrorCode = keyof typeof ApiErrors;

export class ApiError extends Error {
  readonly status: number;
  constructor(readonly code: ApiErrorCode, message?: string, readonly headers: Record<string, string> = {}, readonly detail?: Record<string, unknown>) {
    super(message ?? ApiErrors[code].message);
    this.status = ApiErrors[code].status;
  }
}
