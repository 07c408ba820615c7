/**
 * The orders service, seen from payments, through the common service client (one time
 * budget; the orders service's own schemas checked on every answer). Reads use the caller's
 * own bearer token, so the orders service's ownership rules decide what a customer may pay
 * for; marking an order paid uses this service's own credential (scope `orders:pay`).
 */
import { createServiceClient, ProblemSchema } from '@portico/http';
import { OrderEnvelope } from '@portico/orders/schemas';
import { isProblemError } from '@portico/problem';
import type { Static } from 'typebox';
import { errors } from '../errors.ts';

export interface RemoteOrder {
  id: string;
  userId: string;
  status: 'pending' | 'paid' | 'fulfilled' | 'cancelled';
  currency: string;
  totalMinor: number;
  paymentId: string | null;
}

export interface PaymentNotice {
  paymentId: string;
  amountMinor: number;
  currency: string;
}

export type MarkPaidResult =
  | { outcome: 'accepted'; order: RemoteOrder }
  /** The orders service refused for good (cancelled, paid by another payment, amount mismatch). */
  | { outcome: 'rejected'; status: number; code: string }
  /** Could not tell (down, timeout, 5xx, auth not set up): try again later. */
  | { outcome: 'unavailable'; reason: string };

export interface OrdersClient {
  /** The order as its owner (or an admin) sees it; ORDER_NOT_FOUND otherwise. */
  getOrder(id: string, authorization: string, requestId?: string): Promise<RemoteOrder>;
  markPaid(id: string, payment: PaymentNotice, token: string): Promise<MarkPaidResult>;
  close(): Promise<void>;
}

function toRemoteOrder({ data }: Static<typeof OrderEnvelope>): RemoteOrder {
  return {
    id: data.id,
    userId: data.user_id,
    status: data.status,
    currency: data.currency,
    totalMinor: data.total_minor,
    paymentId: data.payment_id,
  };
}

export function createOrdersClient(options: { url: string; timeoutMs: number }): OrdersClient {
  const orders = createServiceClient({ name: 'orders', ...options, unavailable: errors.ORDERS_UNAVAILABLE });
  return {
    async getOrder(id, authorization, requestId) {
      const answer = await orders.call({
        path: `/api/v1/orders/${encodeURIComponent(id)}`,
        headers: { authorization },
        requestId,
        answers: { 200: OrderEnvelope, 404: null },
      });
      if (answer.status === 404) throw errors.ORDER_NOT_FOUND(`Order with id ${id} not found`);
      return toRemoteOrder(answer.body);
    },

    async markPaid(id, payment, token) {
      try {
        const answer = await orders.call({
          method: 'POST',
          path: `/api/v1/orders/${encodeURIComponent(id)}/mark-paid`,
          headers: { authorization: `Bearer ${token}` },
          body: {
            payment_id: payment.paymentId,
            amount_minor: payment.amountMinor,
            currency: payment.currency,
          },
          answers: { 200: OrderEnvelope, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema },
        });
        if (answer.status === 200) return { outcome: 'accepted', order: toRemoteOrder(answer.body) };
        return { outcome: 'rejected', status: answer.status, code: answer.body.code };
      } catch (err) {
        if (!isProblemError(err) || err.code !== 'ORDERS_UNAVAILABLE') throw err;
        return { outcome: 'unavailable', reason: (err.cause as Error | undefined)?.message ?? err.message };
      }
    },

    close: () => orders.close(),
  };
}
