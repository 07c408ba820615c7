/** /api/v1/payments: payment intents — create for an order, confirm with a card, read. Every POST is idempotent. */
import { needs } from '@portico/auth';
import type { Server } from '@portico/http';
import { toMinor } from '@portico/money';
import type { IdempotencyKeyService } from '../domain/idempotency-keys.ts';
import type { IntentService } from '../domain/intents.ts';
import { errors } from '../errors.ts';
import { callerOf } from './caller.ts';
import { idempotentRequests } from './idempotency.ts';
import {
  ConfirmIntentBody,
  CreateIntentBody,
  IdempotencyHeader,
  IdParams,
  IntentEnvelope,
  IntentList,
  IntentListQuery,
  Problem,
} from './schemas.ts';
import { intentJson } from './serialize.ts';

const problems = {
  400: Problem,
  401: Problem,
  404: Problem,
  409: Problem,
  422: Problem,
  503: Problem,
};

export function intentRoutes(server: Server, intents: IntentService, idempotencyKeys: IdempotencyKeyService) {
  const idempotency = idempotentRequests(idempotencyKeys);
  server.post(
    '/api/v1/payments',
    {
      config: { access: needs('payments:write') },
      schema: {
        tags: ['payments'],
        description:
          'A payment intent for one of your pending orders; its amount is the order total. amount/currency, when sent, must match (422 AMOUNT_MISMATCH).',
        headers: IdempotencyHeader,
        body: CreateIntentBody,
        response: { 201: IntentEnvelope, ...problems },
      },
    },
    async (request, reply) =>
      idempotency.run(request, reply, async () => {
        let amountMinor: number | undefined;
        if (request.body.amount !== undefined) {
          try {
            amountMinor = toMinor(request.body.amount);
          } catch {
            throw errors.AMOUNT_MISMATCH('amount must have at most two decimals');
          }
        }
        const intent = await intents.create({
          orderId: request.body.order_id,
          caller: callerOf(request),
          authorization: request.headers.authorization!,
          amountMinor,
          currency: request.body.currency,
          requestId: request.id,
        });
        const data = intentJson(intent);
        return { status: 201, headers: { location: data.links.self }, body: { data } };
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
        body: ConfirmIntentBody,
        response: { 200: IntentEnvelope, 402: Problem, ...problems, 504: Problem },
      },
    },
    async (request, reply) =>
      idempotency.run(request, reply, async () => {
        const { card } = request.body;
        const intent = await intents.confirm({
          intentId: request.params.id,
          caller: callerOf(request),
          authorization: request.headers.authorization!,
          card: { number: card.number, expMonth: card.exp_month, expYear: card.exp_year, cvc: card.cvc },
          requestId: request.id,
        });
        return { status: 200, body: { data: intentJson(intent) } };
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
        querystring: IntentListQuery,
        response: { 200: IntentList, 400: Problem, 401: Problem },
      },
    },
    async (request) => {
      const found = await intents.list(callerOf(request), {
        orderId: request.query.order_id,
        limit: request.query.limit,
      });
      return { data: found.map(intentJson) };
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
        response: { 200: IntentEnvelope, 401: Problem, 404: Problem },
      },
    },
    async (request) => ({ data: intentJson(await intents.get(request.params.id, callerOf(request))) }),
  );
}
