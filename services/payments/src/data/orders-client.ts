/**
 * The orders service, seen from payments. Reads use the caller's own bearer token, so
 * the orders service's ownership rules decide what a customer may pay for; marking an
 * order paid uses this service's own credential (scope `orders:pay`). Only a transport failure
 * or a bad answer is ORDERS_UNAVAILABLE (a 503 marked as a dependency failure for the gateway);
 * anything else thrown inside a call is not the orders service's doing and is rethrown.
 */
import { dependencyFailure, isTransportError } from '@portico/http';
import { Agent, request } from 'undici';
import { errors } from '../errors.ts';

export interface RemoteOrder {
  id: string;
  user_id: string;
  status: 'pending' | 'paid' | 'fulfilled' | 'cancelled';
  currency: string;
  total_minor: number;
  payment_id: string | null;
}

export type MarkPaidResult =
  | { outcome: 'accepted'; order: RemoteOrder }
  /** The orders service refused for good (cancelled, paid by another payment, amount mismatch). */
  | { outcome: 'rejected'; status: number; code: string }
  /** Could not tell (down, timeout, 5xx, auth not set up): try again later. */
  | { outcome: 'unavailable'; reason: string };

export interface OrdersClient {
  getOrder(id: string, authorization: string, requestId?: string): Promise<RemoteOrder>;
  markPaid(
    id: string,
    payment: { paymentId: string; amountMinor: number; currency: string },
    token: string,
  ): Promise<MarkPaidResult>;
  close(): Promise<void>;
}

export function createOrdersClient({ url, timeoutMs }: { url: string; timeoutMs: number }): OrdersClient {
  const base = url.replace(/\/+$/, '');
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });

  async function call(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown) {
    const res = await request(`${base}${path}`, {
      method,
      dispatcher: agent,
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        accept: 'application/json',
        ...headers,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json: json as { data?: RemoteOrder; code?: string } | undefined };
  }

  return {
    async getOrder(id, authorization, requestId) {
      const path = `/api/v1/orders/${encodeURIComponent(id)}`;
      let res: Awaited<ReturnType<typeof call>>;
      try {
        res = await call('GET', path, {
          authorization,
          ...(requestId ? { 'x-request-id': requestId } : {}),
        });
      } catch (err) {
        if (!isTransportError(err)) throw err;
        throw errors.ORDERS_UNAVAILABLE('The orders service did not answer in time; nothing was charged', {
          cause: err,
          headers: dependencyFailure('orders'),
        });
      }
      if (res.status === 404) throw errors.ORDER_NOT_FOUND(`Order with id ${id} not found`);
      const order = res.json?.data;
      if (res.status !== 200 || !order || typeof order.total_minor !== 'number') {
        throw errors.ORDERS_UNAVAILABLE('The orders service is not available; nothing was charged', {
          cause: new Error(`orders answered ${res.status} for order ${id}`),
          headers: dependencyFailure('orders'),
        });
      }
      return order;
    },

    async markPaid(id, payment, token) {
      const path = `/api/v1/orders/${encodeURIComponent(id)}/mark-paid`;
      try {
        const res = await call(
          'POST',
          path,
          { authorization: `Bearer ${token}` },
          { payment_id: payment.paymentId, amount_minor: payment.amountMinor, currency: payment.currency },
        );
        if (res.status === 200 && res.json?.data) return { outcome: 'accepted', order: res.json.data };
        if ([404, 409, 422].includes(res.status)) {
          return { outcome: 'rejected', status: res.status, code: res.json?.code ?? 'UNKNOWN' };
        }
        return {
          outcome: 'unavailable',
          reason: `orders answered ${res.status} ${res.json?.code ?? ''}`.trim(),
        };
      } catch (err) {
        if (!isTransportError(err)) throw err;
        return { outcome: 'unavailable', reason: (err as Error).message };
      }
    },

    close: () => agent.close(),
  };
}
