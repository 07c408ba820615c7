/** /api/v1/payments: payment intents — create for an order, confirm with a card, read. Every POST is idempotent. */
import { type AccessClaims, isAdmin, needs } from '@portico/auth';
import { Type } from '@portico/config';
import type { Server } from '@portico/http';
import { toDecimal as fromMinor, toMinor } from '@portico/money';
import type { FastifyRequest } from 'fastify';
import type { IntentRow } from '../data/schema.ts';
import {
  type Caller,
  confirmIntent,
  createIntent,
  getIntent,
  listIntents,
  type PaymentsContext,
} from '../domain/intents.ts';
import { errors } from '../errors.ts';
import { idempotent } from './idempotency.ts';

const Problem = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), code: Type.String() },
  { additionalProperties: true },
);
const Timestamp = Type.String({ format: 'date-time' });

const IntentSchema = Type.Object({
  id: Type.String(),
  order_id: Type.String(),
  user_id: Type.String(),
  amount: Type.Number(),
  amount_minor: Type.Integer(),
  currency: Type.String(),
  status: Type.String(),
  card: Type.Union([Type.Object({ brand: Type.String(), last4: Type.String() }), Type.Null()]),
  last_error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  order_sync: Type.String({
    description: 'Whether the order has been told: not_needed, pending, done, rejected',
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
  links: Type.Object({ self: Type.String(), confirm: Type.Optional(Type.String()), order: Type.String() }),
});
const Envelope = Type.Object({ data: IntentSchema });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const IdempotencyHeader = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Required: any unique string, e.g. a UUID' })),
});
const problems = {
  400: Problem,
  401: Problem,
  404: Problem,
  409: Problem,
  422: Problem,
  503: Problem,
};

export function intentView(intent: IntentRow) {
  const self = `/api/v1/payments/${intent.id}`;
  const confirmable =
    intent.status === 'requires_confirmation' || intent.status === 'requires_payment_method';
  return {
    id: intent.id,
    order_id: intent.order_id,
    user_id: intent.user_id,
    amount: fromMinor(intent.amount_minor),
    amount_minor: intent.amount_minor,
    currency: intent.currency,
    status: intent.status,
    card:
      intent.card_brand && intent.card_last4 ? { brand: intent.card_brand, last4: intent.card_last4 } : null,
    last_error:
      intent.last_error_code && intent.last_error_message
        ? { code: intent.last_error_code, message: intent.last_error_message }
        : null,
    order_sync: intent.order_sync,
    created_at: intent.created_at,
    updated_at: intent.updated_at,
    links: {
      self,
      ...(confirmable ? { confirm: `${self}/confirm` } : {}),
      order: `/api/v1/orders/${intent.order_id}`,
    },
  };
}

function callerOf(request: FastifyRequest): Caller {
  const auth = request.auth as AccessClaims;
  return { userId: auth.sub, admin: isAdmin(auth) };
}

export function registerIntentRoutes(server: Server, ctx: PaymentsContext, leaseMs: number) {
  server.post(
    '/api/v1/payments',
    {
      config: { access: needs('payments:write') },
      schema: {
        tags: ['payments'],
        description:
          'A payment intent for one of your pending orders; its amount is the order total. amount/currency, when sent, must match (422 AMOUNT_MISMATCH).',
        headers: IdempotencyHeader,
        body: Type.Object(
          {
            order_id: Type.String({ format: 'uuid' }),
            amount: Type.Optional(Type.Number({ minimum: 0 })),
            currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Envelope, ...problems },
      },
    },
    async (request, reply) =>
      idempotent(ctx.db, leaseMs, request, reply, async () => {
        let amountMinor: number | undefined;
        if (request.body.amount !== undefined) {
          try {
            amountMinor = toMinor(request.body.amount);
          } catch {
            throw errors.AMOUNT_MISMATCH('amount must have at most two decimals');
          }
        }
        const intent = await createIntent(ctx, {
          orderId: request.body.order_id,
          caller: callerOf(request),
          authorization: request.headers.authorization!,
          amountMinor,
          currency: request.body.currency,
          requestId: request.id,
        });
        const view = intentView(intent);
        return { status: 201, headers: { location: view.links.self }, body: { data: view } };
      }),
  );

  server.post(
    '/api/v1/payments/:id/confirm',
    {
      config: { access: needs('payments:write') },
      schema: {
        tags: ['payments'],
        description:
          'Charges the card. Test cards: 4242424242424242 succeeds, 4000000000000002 is declined (402), 4000000000000119 times out (504; retry with the same key).',
        params: IdParams,
        headers: IdempotencyHeader,
        body: Type.Object(
          {
            card: Type.Object(
              {
                number: Type.String({ pattern: '^[0-9]{12,19}$' }),
                exp_month: Type.Integer({ minimum: 1, maximum: 12 }),
                exp_year: Type.Integer({ minimum: 2000, maximum: 2100 }),
                cvc: Type.String({ pattern: '^[0-9]{3,4}$' }),
              },
              { additionalProperties: false },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Envelope, 402: Problem, ...problems, 504: Problem },
      },
    },
    async (request, reply) =>
      idempotent(ctx.db, leaseMs, request, reply, async () => {
        const { card } = request.body;
        const intent = await confirmIntent(ctx, {
          intentId: request.params.id,
          caller: callerOf(request),
          authorization: request.headers.authorization!,
          card: { number: card.number, expMonth: card.exp_month, expYear: card.exp_year, cvc: card.cvc },
          requestId: request.id,
        });
        return { status: 200, body: { data: intentView(intent) } };
      }),
  );

  server.get(
    '/api/v1/payments',
    {
      config: { access: needs('payments:read') },
      schema: {
        tags: ['payments'],
        description:
          "Your payment intents (everyone's for admins), newest first; order_id narrows to one order.",
        querystring: Type.Object(
          {
            order_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ data: Type.Array(IntentSchema) }), 400: Problem, 401: Problem },
      },
    },
    async (request) => {
      const rows = await listIntents(ctx.db, callerOf(request), {
        orderId: request.query.order_id,
        limit: request.query.limit,
      });
      return { data: rows.map(intentView) };
    },
  );

  server.get(
    '/api/v1/payments/:id',
    {
      config: { access: needs('payments:read') },
      schema: {
        tags: ['payments'],
        summary: 'One of your payment intents (any for an admin)',
        params: IdParams,
        response: { 200: Envelope, 401: Problem, 404: Problem },
      },
    },
    async (request) => ({ data: intentView(await getIntent(ctx.db, request.params.id, callerOf(request))) }),
  );
}
