/**
 * /api/v1/orders: checkout, read, list, cancel; fulfil for admins; mark-paid for the
 * payments service (a token with the `orders:pay` scope).
 */
import { needs } from '@portico/auth';
import { checkPreconditions, type Server } from '@portico/http';
import Type from 'typebox';
import type { OrderService } from '../domain/orders.ts';
import { callerOf } from './caller.ts';
import { cartEtag } from './cart.ts';
import { OrderEnvelope, OrderListSchema, OrderStatusSchema, Problem } from './schemas.ts';
import { orderEnvelope, orderJson } from './serialize.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const UserId = Type.String({ minLength: 1, maxLength: 200 });
const problems = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

export function orderRoutes(server: Server, orders: OrderService) {
  server.post(
    '/api/v1/orders',
    {
      config: { access: needs('orders:write') },
      schema: {
        tags: ['orders'],
        description:
          "Turns the caller's cart into an order priced by the catalog now; empties the cart. If-Match with the cart's ETag orders exactly the cart you saw (412 otherwise).",
        response: {
          201: OrderEnvelope,
          ...problems,
          409: Problem,
          412: Problem,
          422: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => {
      const order = await orders.checkout(callerOf(request).userId, request.id, (cart) =>
        checkPreconditions(request, cartEtag(cart)),
      );
      const body = orderEnvelope(order);
      return reply.code(201).header('location', body.links.self).send(body);
    },
  );

  server.get(
    '/api/v1/orders',
    {
      config: { access: needs('orders:read') },
      schema: {
        tags: ['orders'],
        description:
          "The caller's orders, newest first. user_id other than your own needs the admin role; admins without user_id see everyone's.",
        querystring: Type.Object(
          {
            user_id: Type.Optional(UserId),
            status: Type.Optional(OrderStatusSchema),
            page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: OrderListSchema, ...problems },
      },
    },
    async (request) => {
      const { page, limit, status } = request.query;
      const { orders: found, total } = await orders.list(callerOf(request), {
        userId: request.query.user_id,
        status,
        page,
        limit,
      });
      const link = (p: number) => {
        const qs = new URLSearchParams();
        if (request.query.user_id !== undefined) qs.set('user_id', request.query.user_id);
        if (status !== undefined) qs.set('status', status);
        qs.set('page', String(p));
        qs.set('limit', String(limit));
        return `/api/v1/orders?${qs}`;
      };
      const hasNext = page * limit < total;
      return {
        data: found.map(orderJson),
        pagination: { page, per_page: limit, total, has_next: hasNext, has_previous: page > 1 },
        links: {
          self: link(page),
          next: hasNext ? link(page + 1) : null,
          previous: page > 1 ? link(page - 1) : null,
        },
      };
    },
  );

  server.get(
    '/api/v1/orders/:id',
    {
      config: { access: needs('orders:read') },
      schema: {
        tags: ['orders'],
        summary: 'One of your orders (any order for an admin)',
        params: IdParams,
        response: { 200: OrderEnvelope, ...problems },
      },
    },
    async (request) => {
      return orderEnvelope(await orders.get(request.params.id, callerOf(request)));
    },
  );

  server.post(
    '/api/v1/orders/:id/cancel',
    {
      config: { access: needs('orders:write') },
      schema: {
        tags: ['orders'],
        description: 'pending → cancelled; a paid order cannot be cancelled (409).',
        params: IdParams,
        response: { 200: OrderEnvelope, ...problems, 409: Problem },
      },
    },
    async (request) => {
      return orderEnvelope(await orders.cancel(request.params.id, callerOf(request)));
    },
  );

  server.post(
    '/api/v1/orders/:id/fulfil',
    {
      config: { access: needs('orders:write', { roles: ['admin'] }) },
      schema: {
        tags: ['orders'],
        description: 'paid → fulfilled (admins).',
        params: IdParams,
        response: { 200: OrderEnvelope, ...problems, 409: Problem },
      },
    },
    async (request) => {
      return orderEnvelope(await orders.fulfil(request.params.id, callerOf(request)));
    },
  );

  server.post(
    '/api/v1/orders/:id/mark-paid',
    {
      config: { access: needs('orders:pay') },
      schema: {
        tags: ['orders'],
        description:
          'pending → paid, called by the payments service (scope orders:pay). Idempotent per payment_id: a repeat answers 200 and changes nothing.',
        params: IdParams,
        body: Type.Object(
          {
            payment_id: Type.String({ minLength: 1, maxLength: 100 }),
            amount_minor: Type.Integer({ minimum: 0 }),
            currency: Type.String({ pattern: '^[A-Z]{3}$' }),
          },
          { additionalProperties: false },
        ),
        response: { 200: OrderEnvelope, ...problems, 409: Problem, 422: Problem },
      },
    },
    async (request) => {
      const { order } = await orders.markPaid(request.params.id, {
        paymentId: request.body.payment_id,
        amountMinor: request.body.amount_minor,
        currency: request.body.currency,
      });
      return orderEnvelope(order);
    },
  );
}
