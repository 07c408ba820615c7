/** /api/v1/cart: the caller's own cart (the `add_to_cart` action of the catalog points here). */
import { needs } from '@portico/auth';
import { etagFor, isFresh, notModified, type Server } from '@portico/http';
import Type from 'typebox';
import { type Cart, type CartService, MAX_QUANTITY } from '../domain/carts.ts';
import { callerOf } from './caller.ts';
import { CartItemSchema, CartSchema, Problem } from './schemas.ts';
import { cartItemJson, cartJson } from './serialize.ts';

const Quantity = Type.Integer({ minimum: 1, maximum: MAX_QUANTITY });
const ItemParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const problems = { 400: Problem, 401: Problem, 404: Problem };

/** Changes with every change to the cart; a checkout may send it as If-Match. */
export function cartEtag(cart: Cart): string {
  return etagFor('cart', cart.userId, cart.version);
}

export function cartRoutes(server: Server, carts: CartService) {
  server.get(
    '/api/v1/cart',
    {
      config: { access: needs('orders:read') },
      schema: {
        tags: ['cart'],
        summary: 'Your cart, priced by the catalog now',
        response: { 200: CartSchema, 304: Type.Null(), 401: Problem },
      },
    },
    async (request, reply) => {
      const cart = await carts.get(callerOf(request).userId);
      const etag = cartEtag(cart);
      reply.header('etag', etag).header('cache-control', 'private, no-cache');
      if (isFresh(request, etag)) return notModified(reply);
      return cartJson(cart);
    },
  );

  server.post(
    '/api/v1/cart/items',
    {
      config: { access: needs('orders:write') },
      schema: {
        tags: ['cart'],
        summary: 'Add a product to your cart (or more of one already there)',
        body: Type.Object(
          {
            product_id: Type.String({ format: 'uuid' }),
            quantity: Type.Optional(Quantity),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: CartItemSchema }),
          201: Type.Object({ data: CartItemSchema }),
          ...problems,
          409: Problem,
          422: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => {
      const { item, created } = await carts.add({
        userId: callerOf(request).userId,
        productId: request.body.product_id,
        quantity: request.body.quantity ?? 1,
        requestId: request.id,
      });
      const view = cartItemJson(item);
      if (created) reply.code(201).header('location', view.links.self);
      return { data: view };
    },
  );

  server.patch(
    '/api/v1/cart/items/:id',
    {
      config: { access: needs('orders:write') },
      schema: {
        tags: ['cart'],
        summary: 'Set the quantity of a cart item',
        params: ItemParams,
        body: Type.Object({ quantity: Quantity }, { additionalProperties: false }),
        response: { 200: Type.Object({ data: CartItemSchema }), ...problems },
      },
    },
    async (request) => {
      const item = await carts.setQuantity(
        callerOf(request).userId,
        request.params.id,
        request.body.quantity,
      );
      return { data: cartItemJson(item) };
    },
  );

  server.delete(
    '/api/v1/cart/items/:id',
    {
      config: { access: needs('orders:write') },
      schema: {
        tags: ['cart'],
        summary: 'Remove an item from your cart',
        params: ItemParams,
        response: { 204: Type.Null(), ...problems },
      },
    },
    async (request, reply) => {
      await carts.remove(callerOf(request).userId, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
