/** Payment intents as the payments API writes them: snake_case, decimals beside minor units, links. */
import { toDecimal } from '@portico/money';
import type { PaymentIntent } from '../domain/intents.ts';

export function intentJson(intent: PaymentIntent) {
  const self = `/api/v1/payments/${intent.id}`;
  const confirmable =
    intent.status === 'requires_confirmation' || intent.status === 'requires_payment_method';
  return {
    id: intent.id,
    order_id: intent.orderId,
    user_id: intent.userId,
    amount: toDecimal(intent.amountMinor),
    amount_minor: intent.amountMinor,
    currency: intent.currency,
    status: intent.status,
    card: intent.card,
    last_error: intent.lastError,
    order_sync: intent.orderSync,
    created_at: intent.createdAt,
    updated_at: intent.updatedAt,
    links: {
      self,
      ...(confirmable ? { confirm: `${self}/confirm` } : {}),
      order: `/api/v1/orders/${intent.orderId}`,
    },
  };
}
