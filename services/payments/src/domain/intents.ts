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
import { isUniqueViolation, type Kysely } from '@portico/store/sql';
import type { OrdersClient } from '../data/orders-client.ts';
import type { IntentRow, PaymentsDb } from '../data/schema.ts';
import type { TokenSource } from '../data/service-token.ts';
import { errors } from '../errors.ts';
import { type Card, type CardProcessor, cardBrand, luhnValid } from './processor.ts';

export interface Caller {
  userId: string;
  admin: boolean;
}

export interface PaymentsContext {
  db: Kysely<PaymentsDb>;
  orders: OrdersClient;
  processor: CardProcessor;
  serviceToken: TokenSource;
  processorTimeoutMs: number;
  processingLeaseMs: number;
  sync: { baseBackoffMs: number; maxBackoffMs: number; inlineAttempts: number };
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export async function getIntent(db: Kysely<PaymentsDb>, id: string, caller: Caller): Promise<IntentRow> {
  const intent = await db.selectFrom('payment_intents').selectAll().where('id', '=', id).executeTakeFirst();
  if (!intent || (!caller.admin && intent.user_id !== caller.userId)) {
    throw errors.PAYMENT_NOT_FOUND(`Payment intent with id ${id} not found`);
  }
  return intent;
}

/** The caller's intents (everyone's for admins), newest first, optionally for one order. */
export async function listIntents(
  db: Kysely<PaymentsDb>,
  caller: Caller,
  query: { orderId?: string; limit: number },
): Promise<IntentRow[]> {
  let q = db.selectFrom('payment_intents').selectAll();
  if (!caller.admin) q = q.where('user_id', '=', caller.userId);
  if (query.orderId !== undefined) q = q.where('order_id', '=', query.orderId);
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
}

export interface CreateInput {
  orderId: string;
  caller: Caller;
  authorization: string;
  amountMinor?: number;
  currency?: string;
  requestId?: string;
}

export async function createIntent(ctx: PaymentsContext, input: CreateInput): Promise<IntentRow> {
  const order = await ctx.orders.getOrder(input.orderId, input.authorization, input.requestId);
  if (order.status !== 'pending') {
    throw errors.ORDER_NOT_PAYABLE(`Order ${order.id} is ${order.status}; only pending orders can be paid`);
  }
  if (
    (input.amountMinor !== undefined && input.amountMinor !== order.total_minor) ||
    (input.currency !== undefined && input.currency !== order.currency)
  ) {
    throw errors.AMOUNT_MISMATCH(
      `Order ${order.id} totals ${order.total_minor} ${order.currency} (minor units), not ${input.amountMinor ?? order.total_minor} ${input.currency ?? order.currency}`,
    );
  }
  const now = new Date().toISOString();
  const intent: IntentRow = {
    id: `pi_${randomUUID().replaceAll('-', '')}`,
    order_id: order.id,
    user_id: order.user_id,
    amount_minor: order.total_minor,
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
  await ctx.db.insertInto('payment_intents').values(intent).execute();
  return intent;
}

export interface ConfirmInput {
  intentId: string;
  caller: Caller;
  authorization: string;
  card: Card;
  requestId?: string;
}

export async function confirmIntent(ctx: PaymentsContext, input: ConfirmInput): Promise<IntentRow> {
  const { db } = ctx;
  const intent = await getIntent(db, input.intentId, input.caller);
  if (intent.status === 'succeeded') {
    // Confirming a paid intent charges nothing; it only makes sure the order heard about it.
    if (intent.order_sync === 'pending') await syncOrder(ctx, intent.id, ctx.sync.inlineAttempts);
    return getIntent(db, intent.id, input.caller);
  }
  if (intent.status === 'refunded') throw invalidTransition(intent.status);
  if (intent.status === 'processing' && !leaseOver(intent)) {
    throw errors.PAYMENT_IN_PROGRESS('This payment is being processed; read it again shortly', {
      headers: { 'retry-after': '1' },
    });
  }

  const { card } = input;
  if (!luhnValid(card.number)) throw errors.INVALID_CARD_NUMBER('The card number is not valid (check digit)');
  const today = new Date();
  if (
    card.expYear < today.getUTCFullYear() ||
    (card.expYear === today.getUTCFullYear() && card.expMonth < today.getUTCMonth() + 1)
  ) {
    throw errors.PAYMENT_DECLINED('The card has expired', { extensions: { decline_code: 'expired_card' } });
  }

  const order = await ctx.orders.getOrder(intent.order_id, input.authorization, input.requestId);
  const paidByUs = order.payment_id === intent.id;
  if (order.status !== 'pending' && !paidByUs) {
    throw errors.ORDER_NOT_PAYABLE(`Order ${order.id} is ${order.status}; nothing was charged`);
  }
  if (order.total_minor !== intent.amount_minor || order.currency !== intent.currency) {
    throw errors.AMOUNT_MISMATCH(
      `Order ${order.id} totals ${order.total_minor} ${order.currency}; this intent is for ${intent.amount_minor} ${intent.currency}`,
    );
  }

  // Claim the intent (and, through the unique column, the order) before charging anything.
  const now = new Date();
  let claimed: bigint;
  try {
    const result = await db
      .updateTable('payment_intents')
      .set({
        status: 'processing',
        paying_order_id: intent.order_id,
        processing_until: new Date(now.getTime() + ctx.processingLeaseMs).toISOString(),
        updated_at: now.toISOString(),
      })
      .where('id', '=', intent.id)
      .where((eb) =>
        eb.or([
          eb('status', 'in', ['requires_confirmation', 'requires_payment_method']),
          eb.and([eb('status', '=', 'processing'), eb('processing_until', '<', now.toISOString())]),
        ]),
      )
      .executeTakeFirst();
    claimed = result.numUpdatedRows;
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw errors.ORDER_ALREADY_PAID(`Another payment for order ${intent.order_id} is in progress or done`);
    }
    throw err;
  }
  if (claimed === 0n) {
    const latest = await getIntent(db, intent.id, input.caller);
    if (latest.status === 'succeeded') return latest;
    if (latest.status === 'processing') {
      throw errors.PAYMENT_IN_PROGRESS('This payment is being processed; read it again shortly', {
        headers: { 'retry-after': '1' },
      });
    }
    throw invalidTransition(latest.status);
  }

  let result: Awaited<ReturnType<CardProcessor['charge']>>;
  try {
    result = await ctx.processor.charge(
      {
        idempotencyKey: `${intent.id}:${intent.charge_attempt}`,
        amountMinor: intent.amount_minor,
        currency: intent.currency,
        card,
      },
      AbortSignal.timeout(ctx.processorTimeoutMs),
    );
  } catch (err) {
    // Outcome unknown: stay `processing`, lease over, so a retry asks the processor again
    // with the same key (and learns the real outcome instead of charging twice).
    await db
      .updateTable('payment_intents')
      .set({
        processing_until: new Date(0).toISOString(),
        last_error_code: 'processor_timeout',
        last_error_message: 'The card processor did not answer in time',
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', intent.id)
      .execute();
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
    await db
      .updateTable('payment_intents')
      .set({
        status: 'requires_payment_method',
        paying_order_id: null,
        processing_until: null,
        charge_attempt: intent.charge_attempt + 1,
        card_brand: cardBrand(card.number),
        card_last4: card.number.slice(-4),
        last_error_code: result.code,
        last_error_message: result.message,
        updated_at: at,
      })
      .where('id', '=', intent.id)
      .execute();
    throw errors.PAYMENT_DECLINED(result.message, {
      extensions: { decline_code: result.code, payment_intent: intent.id },
    });
  }

  await db
    .updateTable('payment_intents')
    .set({
      status: 'succeeded',
      processing_until: null,
      charge_id: result.chargeId,
      card_brand: cardBrand(card.number),
      card_last4: card.number.slice(-4),
      last_error_code: null,
      last_error_message: null,
      order_sync: 'pending',
      // The sync loop steps in only if this request does not get to tell the order itself.
      order_sync_next_at: new Date(Date.now() + ctx.processingLeaseMs).toISOString(),
      updated_at: at,
    })
    .where('id', '=', intent.id)
    .execute();
  await syncOrder(ctx, intent.id, ctx.sync.inlineAttempts);
  const final = await getIntent(db, intent.id, input.caller);
  if (final.status === 'refunded') {
    throw errors.ORDER_NOT_PAYABLE(
      `Order ${intent.order_id} could not take this payment (${final.last_error_code}); the charge was refunded`,
    );
  }
  return final;
}

/**
 * Tells the orders service that an intent succeeded, up to `attempts` times with backoff.
 * Still unanswered: the sync loop tries again later. Refused for good: the charge is refunded.
 */
export async function syncOrder(ctx: PaymentsContext, intentId: string, attempts: number): Promise<void> {
  const { db } = ctx;
  const intent = await db
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', intentId)
    .executeTakeFirst();
  if (intent?.status !== 'succeeded' || intent.order_sync !== 'pending') return;
  let reason = '';
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await delay(Math.min(ctx.sync.baseBackoffMs * 2 ** (i - 1), ctx.sync.maxBackoffMs));
    let token: string;
    try {
      token = await ctx.serviceToken();
    } catch (err) {
      reason = `no service token: ${(err as Error).message}`;
      continue;
    }
    const result = await ctx.orders.markPaid(
      intent.order_id,
      { paymentId: intent.id, amountMinor: intent.amount_minor, currency: intent.currency },
      token,
    );
    const now = new Date().toISOString();
    if (result.outcome === 'accepted') {
      await db
        .updateTable('payment_intents')
        .set({ order_sync: 'done', order_sync_next_at: null, updated_at: now })
        .where('id', '=', intent.id)
        .where('order_sync', '=', 'pending')
        .execute();
      return;
    }
    if (result.outcome === 'rejected') {
      ctx.log.warn(
        { intent: intent.id, code: result.code },
        'the order refused a successful payment; refunding',
      );
      await ctx.processor.refund(intent.charge_id!, AbortSignal.timeout(ctx.processorTimeoutMs));
      await db
        .updateTable('payment_intents')
        .set({
          status: 'refunded',
          paying_order_id: null,
          order_sync: 'rejected',
          order_sync_next_at: null,
          last_error_code: result.code,
          last_error_message: `The order refused the payment (${result.status} ${result.code})`,
          updated_at: now,
        })
        .where('id', '=', intent.id)
        .where('order_sync', '=', 'pending')
        .execute();
      return;
    }
    reason = result.reason;
  }
  const tries = intent.order_sync_attempts + attempts;
  const wait = Math.min(ctx.sync.baseBackoffMs * 2 ** Math.min(tries, 20), ctx.sync.maxBackoffMs);
  ctx.log.warn({ intent: intent.id, tries, reason }, 'the orders service has not taken the payment yet');
  await db
    .updateTable('payment_intents')
    .set({ order_sync_attempts: tries, order_sync_next_at: new Date(Date.now() + wait).toISOString() })
    .where('id', '=', intent.id)
    .where('order_sync', '=', 'pending')
    .execute();
}

/** One pass of the sync loop: every succeeded intent whose order has not heard of it and is due. */
export async function syncDueOrders(ctx: PaymentsContext, limit = 20): Promise<number> {
  const due = await ctx.db
    .selectFrom('payment_intents')
    .select('id')
    .where('order_sync', '=', 'pending')
    .where('order_sync_next_at', '<=', new Date().toISOString())
    .orderBy('order_sync_next_at')
    .limit(limit)
    .execute();
  for (const { id } of due) await syncOrder(ctx, id, 1);
  return due.length;
}

function leaseOver(intent: IntentRow): boolean {
  return intent.processing_until !== null && new Date(intent.processing_until).getTime() < Date.now();
}

function invalidTransition(status: string) {
  return errors.INVALID_STATE_TRANSITION(`A payment intent that is ${status} cannot be confirmed`, {
    extensions: { current_status: status },
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
