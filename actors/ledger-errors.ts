/** Maps ledger refusals to protocol reply errors (2xx, money). */
import { ErrorCode } from '../protocol/codes';
import type { LedgerErrorCode } from '../adapters/ledger/ledger';

const MAP: Record<LedgerErrorCode, ErrorCode> = {
  INSUFFICIENT_FUNDS: ErrorCode.INSUFFICIENT_FUNDS,
  ACCOUNT_IN_DEBT: ErrorCode.ACCOUNT_IN_DEBT,
  OP_ID_REUSED: ErrorCode.OP_ID_REUSED,
  OP_IN_PROGRESS: ErrorCode.OP_IN_PROGRESS,
  INVALID_AMOUNT: ErrorCode.INVALID_AMOUNT,
  NOT_REFUNDABLE: ErrorCode.BAD_ARGUMENTS,
};

export function ledgerErrorCode(code: LedgerErrorCode): ErrorCode {
  return MAP[code];
}
