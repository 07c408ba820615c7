/** The payments service's stable error codes (problem+json `code`). */
import { defineErrors } from '@portico/problem';

export const errors = defineErrors({
  IDEMPOTENCY_KEY_REQUIRED: { status: 400, title: 'Idempotency-Key Required' },
  IDEMPOTENCY_KEY_INVALID: { status: 400, title: 'Invalid Idempotency-Key' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency-Key Reused' },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, title: 'Idempotency-Key In Use' },
  PAYMENT_NOT_FOUND: 404,
  ORDER_NOT_FOUND: 404,
  ORDER_NOT_PAYABLE: { status: 409, title: 'Order Not Payable' },
  ORDER_ALREADY_PAID: { status: 409, title: 'Order Already Paid' },
  AMOUNT_MISMATCH: { status: 422, title: 'Amount Mismatch' },
  INVALID_CARD_NUMBER: { status: 422, title: 'Invalid Card Number' },
  PAYMENT_DECLINED: { status: 402, title: 'Payment Declined' },
  PAYMENT_IN_PROGRESS: { status: 409, title: 'Payment In Progress' },
  INVALID_STATE_TRANSITION: { status: 409, title: 'Invalid State Transition' },
  PROCESSOR_TIMEOUT: 504,
  ORDERS_UNAVAILABLE: 503,
});
