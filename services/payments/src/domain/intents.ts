/**
 * Payment intents for an order:
 *
 *   requires_confirmation ──confirm──► processing ──► succeeded ──(order refused it)──► refunded
 *            ▲                              │
 *            └─ requires_payment_method ◄───┘ declined (try another card)
 *
 * - the amount is the order's, read from the orders service with the caller's token
 *   (their order or nothing), and checked again before charging;
 * - `paying_order_id` is unique: at most one intent per order charges or has charged;
 * - the processor gets `<intent id>:<attempt>` as its idempotency key; the attempt moves on
 *   only after a decline, so a retry after a timeout or a crash cannot charge twice;
 * - a success tells the orders service (mark-paid, idempotent), now and, if it cannot be
 *   reached, again with backoff from the sync loop until it answers.
 */
import { randomUUID } from 'node:crypto';
import { dependencyFailure } from '@portico/http';
import { type Database, isUniqueViolation } from '@portico/store/sql';
import type { OrdersClient } from '../clients/orders.ts';
import type { Card, CardProcessor } from '../clients/processor.ts';
import type { TokenSource } from '../clients/service-token.ts';
import { intentsTable } from '../data/intents.ts';
import type { IntentStatus, OrderSyncState, PaymentIntentsTable, PaymentsDatabase } from '../data/schema.ts';
import { errors } from '../errors.ts';
import { cardBrand, luhnValid } from './cards.ts';

export type { IntentStatus, OrderSyncState };

export interface PaymentIntent {
  id: string;
  orderId: string;
  userId: string;
  amountMinor: number;
  currency: string;
  status: IntentStatus;
  card: { brand: string; last4: string } | null;
  lastError: { code: string; message: string } | null;
  /** Whether the order has been told: not_needed, pending, done, rejected. */
  orderSync: OrderSyncState;
  createdAt: string;
  updatedAt: string;
}

export interface Caller {
  userId: string;
  admin: boolean;
}

export interface CreateInput {
  orderId: string;
  caller: Caller;
  authorization: string;
  amountMinor?: number;
  currency?: string;
  requestId?: string;
}

export interface ConfirmInput {
  intentId: string;
  caller: Caller;
  authorization: string;
  card: Card;
  requestId?: string;
}

export interface IntentDeps {
  orders: OrdersClient;
  processor: CardProcessor;
  serviceToken: TokenSource;
  processorTimeoutMs: number;
  /** How long a claimed intent stays `processing` before a retry may take it over. */
  processingLeaseMs: number;
  sync: { baseBackoffMs: number; maxBackoffMs: number; inlineAttempts: number };
  log: { warn(obj: object, msg: string): void };
}

function toIntent(row: PaymentIntentsTable): PaymentIntent {
  return {
    id: row.id,
    orderId: row.order_id,
    userId: row.user_id,
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    status: row.status,
    card: row.card_brand && row.card_last4 ? { brand: row.card_brand, last4: row.card_last4 } : null,
    lastError:
      row.last_error_code && row.last_error_message
        ? { code: row.last_error_code, message: row.last_error_message }
        : null,
    orderSync: row.order_sync,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function leaseOver(intent: PaymentIntentsTable): boolean {
  return intent.processing_until !== null && new Date(intent.processing_until).getTime() < Date.now();
}

function invalidTransition(status: string) {
  return errors.INVALID_STATE_TRANSITION(`A payment intent that is ${status} cannot be confirmed`, {
    extensions: { current_status: status },
  });
}

function inProgress() {
  return errors.PAYMENT_IN_PROGRESS('This payment is being processed; read it again shortly', {
    headers: { 'retry-after': '1' },
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type IntentService = ReturnType<typeof createIntentService>;

export function createIntentService(database: Database<PaymentsDatabase>, deps: IntentDeps) {
  const intents = intentsTable(database.db);

  async function row(id: string, caller: Caller): Promise<PaymentIntentsTable> {
    const intent = await intents.byId(id);
    if (!intent || (!caller.admin && intent.user_id !== caller.userId)) {
      throw errors.PAYMENT_NOT_FOUND(`Payment intent with id ${id} not found`);
    }
    return intent;
  }

  /**
   * Tells the orders service that an intent succeeded, up to `attempts` times with backoff.
   * Still unanswered: the sync loop tries again later. Refused for good: the charge is refunded.
   */
  async function syncOrder(intentId: string, attempts: number): Promise<void> {
    const intent = await intents.byId(intentId);
    if (intent?.status !== 'succeeded' || intent.order_sync !== 'pending') return;
    let reason = '';
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await delay(Math.min(deps.sync.baseBackoffMs * 2 ** (i - 1), deps.sync.maxBackoffMs));
      let token: string;
      try {
        token = await deps.serviceToken();
      } catch (err) {
        reason = `no service token: ${(err as Error).message}`;
        continue;
      }
      const result = await deps.orders.markPaid(
        intent.order_id,
        { paymentId: intent.id, amountMinor: Number(intent.amount_minor), currency: intent.currency },
        token,
      );
      const now = new Date().toISOString();
      if (result.outcome === 'accepted') {
        await intents.updateWhileSyncPending(intent.id, {
          order_sync: 'done',
          order_sync_next_at: null,
          updated_at: now,
        });
        return;
      }
      if (result.outcome === 'rejected') {
        deps.log.warn(
          { intent: intent.id, code: result.code },
          'the order refused a successful payment; refunding',
        );
        await deps.processor.refund(intent.charge_id!, AbortSignal.timeout(deps.processorTimeoutMs));
        await intents.updateWhileSyncPending(intent.id, {
          status: 'refunded',
          paying_order_id: null,
          order_sync: 'rejected',
          order_sync_next_at: null,
          last_error_code: result.code,
          last_error_message: `The order refused the payment (${result.status} ${result.code})`,
          updated_at: now,
        });
        return;
      }
      reason = result.reason;
    }
    const tries = intent.order_sync_attempts + attempts;
    const wait = Math.min(deps.sync.baseBackoffMs * 2 ** Math.min(tries, 20), deps.sync.maxBackoffMs);
    deps.log.warn({ intent: intent.id, tries, reason }, 'the orders service has not taken the payment yet');
    await intents.updateWhileSyncPending(intent.id, {
      order_sync_attempts: tries,
      order_sync_next_at: new Date(Date.now() + wait).toISOString(),
    });
  }

  return {
    async get(id: string, caller: Caller): Promise<PaymentIntent> {
      return toIntent(await row(id, caller));
    },

    /** The caller's intents (everyone's for admins), newest first, optionally for one order. */
    async list(caller: Caller, query: { orderId?: string; limit: number }): Promise<PaymentIntent[]> {
      const rows = await intents.list(
        { userId: caller.admin ? undefined : caller.userId, orderId: query.orderId },
        query.limit,
      );
      return rows.map(toIntent);
    },

    async create(input: CreateInput): Promise<PaymentIntent> {
      const order = await deps.orders.getOrder(input.orderId, input.authorization, input.requestId);
      if (order.status !== 'pending') {
        throw errors.ORDER_NOT_PAYABLE(
          `Order ${order.id} is ${order.status}; only pending orders can be paid`,
        );
      }
      if (
        (input.amountMinor !== undefined && input.amountMinor !== order.totalMinor) ||
        (input.currency !== undefined && input.currency !== order.currency)
      ) {
        throw errors.AMOUNT_MISMATCH(
          `Order ${order.id} totals ${order.totalMinor} ${order.currency} (minor units), not ${input.amountMinor ?? order.totalMinor} ${input.currency ?? order.currency}`,
        );
      }
      const now = new Date().toISOString();
      const intent: PaymentIntentsTable = {
        id: `pi_${randomUUID().replaceAll('-', '')}`,
        order_id: order.id,
        user_id: order.userId,
        amount_minor: order.totalMinor,
        currency: order.currency,
        status: 'requires_confirmation',
        paying_order_id: null,
        processing_until: null,
        charge_attempt: 0,
        charge_id: null,
        card_brand: null,
        card_last4: null,
        last_error_code: null,
        last_error_message: null,
        order_sync: 'not_needed',
        order_sync_attempts: 0,
        order_sync_next_at: null,
        created_at: now,
        updated_at: now,
      };
      await intents.insert(intent);
      return toIntent(intent);
    },

    async confirm(input: ConfirmInput): Promise<PaymentIntent> {
      const intent = await row(input.intentId, input.caller);
      if (intent.status === 'succeeded') {
        // Confirming a paid intent charges nothing; it only makes sure the order heard about it.
        if (intent.order_sync === 'pending') await syncOrder(intent.id, deps.sync.inlineAttempts);
        return toIntent(await row(intent.id, input.caller));
      }
      if (intent.status === 'refunded') throw invalidTransition(intent.status);
      if (intent.status === 'processing' && !leaseOver(intent)) throw inProgress();

      const { card } = input;
      if (!luhnValid(card.number))
        throw errors.INVALID_CARD_NUMBER('The card number is not valid (check digit)');
      const today = new Date();
      if (
        card.expYear < today.getUTCFullYear() ||
        (card.expYear === today.getUTCFullYear() && card.expMonth < today.getUTCMonth() + 1)
      ) {
        throw errors.PAYMENT_DECLINED('The card has expired', {
          extensions: { decline_code: 'expired_card' },
        });
      }

      const amountMinor = Number(intent.amount_minor);
      const order = await deps.orders.getOrder(intent.order_id, input.authorization, input.requestId);
      const paidByUs = order.paymentId === intent.id;
      if (order.status !== 'pending' && !paidByUs) {
        throw errors.ORDER_NOT_PAYABLE(`Order ${order.id} is ${order.status}; nothing was charged`);
      }
      if (order.totalMinor !== amountMinor || order.currency !== intent.currency) {
        throw errors.AMOUNT_MISMATCH(
          `Order ${order.id} totals ${order.totalMinor} ${order.currency}; this intent is for ${amountMinor} ${intent.currency}`,
        );
      }

      // Claim the intent (and, through the unique column, the order) before charging anything.
      const now = new Date();
      let claimed: boolean;
      try {
        claimed = await intents.claim(
          intent.id,
          intent.order_id,
          new Date(now.getTime() + deps.processingLeaseMs).toISOString(),
          now.toISOString(),
        );
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw errors.ORDER_ALREADY_PAID(
            `Another payment for order ${intent.order_id} is in progress or done`,
          );
        }
        throw err;
      }
      if (!claimed) {
        const latest = await row(intent.id, input.caller);
        if (latest.status === 'succeeded') return toIntent(latest);
        if (latest.status === 'processing') throw inProgress();
        throw invalidTransition(latest.status);
      }

      let result: Awaited<ReturnType<CardProcessor['charge']>>;
      try {
        result = await deps.processor.charge(
          {
            idempotencyKey: `${intent.id}:${intent.charge_attempt}`,
            amountMinor,
            currency: intent.currency,
            card,
          },
          AbortSignal.timeout(deps.processorTimeoutMs),
        );
      } catch (err) {
        // Outcome unknown: stay `processing`, lease over, so a retry asks the processor again
        // with the same key (and learns the real outcome instead of charging twice).
        await intents.update(intent.id, {
          processing_until: new Date(0).toISOString(),
          last_error_code: 'processor_timeout',
          last_error_message: 'The card processor did not answer in time',
          updated_at: new Date().toISOString(),
        });
        if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') {
          throw errors.PROCESSOR_TIMEOUT(
            'The card processor did not answer in time; retry with the same Idempotency-Key to learn the outcome',
            { cause: err, headers: dependencyFailure('card-processor', 1) },
          );
        }
        throw err;
      }

      const at = new Date().toISOString();
      if (result.outcome === 'declined') {
        await intents.update(intent.id, {
          status: 'requires_payment_method',
          paying_order_id: null,
          processing_until: null,
          charge_attempt: intent.charge_attempt + 1,
          card_brand: cardBrand(card.number),
          card_last4: card.number.slice(-4),
          last_error_code: result.code,
          last_error_message: result.message,
          updated_at: at,
        });
        throw errors.PAYMENT_DECLINED(result.message, {
          extensions: { decline_code: result.code, payment_intent: intent.id },
        });
      }

      await intents.update(intent.id, {
        status: 'succeeded',
        processing_until: null,
        charge_id: result.chargeId,
        card_brand: cardBrand(card.number),
        card_last4: card.number.slice(-4),
        last_error_code: null,
        last_error_message: null,
        order_sync: 'pending',
        // The sync loop steps in only if this request does not get to tell the order itself.
        order_sync_next_at: new Date(Date.now() + deps.processingLeaseMs).toISOString(),
        updated_at: at,
      });
      await syncOrder(intent.id, deps.sync.inlineAttempts);
      const final = await row(intent.id, input.caller);
      if (final.status === 'refunded') {
        throw errors.ORDER_NOT_PAYABLE(
          `Order ${intent.order_id} could not take this payment (${final.last_error_code}); the charge was refunded`,
        );
      }
      return toIntent(final);
    },

    /** One pass of the sync loop: every succeeded intent whose order has not heard of it and is due. */
    async syncDueOrders(limit = 20): Promise<number> {
      const due = await intents.syncDue(new Date().toISOString(), limit);
      for (const id of due) await syncOrder(id, 1);
      return due.length;
    },
  };
}
