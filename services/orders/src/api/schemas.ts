/** Wire shapes of the orders API: they validate, serialise, and document (OpenAPI). */
import { Type } from '@portico/config';
import { toDecimal as fromMinor } from '@portico/money';
import type { CartItemRow, OrderItemRow } from '../data/schema.ts';
import type { Cart } from '../domain/cart.ts';
import type { Order } from '../domain/orders.ts';

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const Amount = Type.Number({ description: 'Decimal amount with two decimals, e.g. 19.99' });
const Minor = Type.Integer({ description: 'The same amount in minor units (cents), e.g. 1999' });

export const ProblemSchema = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), code: Type.String() },
  { additionalProperties: true },
);

export const CartItemSchema = Type.Object({
  id: Type.String(),
  product_id: Type.String(),
  name: Type.String({ description: 'As the catalog named it when the item was added' }),
  unit_price: Amount,
  unit_price_minor: Minor,
  currency: Type.String(),
  quantity: Type.Integer(),
  line_total: Amount,
  line_total_minor: Minor,
  added_at: Timestamp,
  links: Type.Object({ self: Type.String(), product: Type.String() }),
});

export const CartSchema = Type.Object({
  data: Type.Object({
    user_id: Type.String(),
    version: Type.Integer({ description: 'Bumped by every change to the cart' }),
    currency: Type.Union([Type.String(), Type.Null()]),
    items: Type.Array(CartItemSchema),
    item_count: Type.Integer(),
    subtotal: Amount,
    subtotal_minor: Minor,
    updated_at: NullableTimestamp,
  }),
  links: Type.Object({ self: Type.String(), checkout: Type.String() }),
});

export const OrderItemSchema = Type.Object({
  product_id: Type.String(),
  category_id: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  unit_price: Amount,
  unit_price_minor: Minor,
  quantity: Type.Integer(),
  line_total: Amount,
  line_total_minor: Minor,
});

export const OrderStatusSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('paid'),
  Type.Literal('fulfilled'),
  Type.Literal('cancelled'),
]);

export const OrderSchema = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  status: OrderStatusSchema,
  currency: Type.String(),
  total: Amount,
  total_minor: Minor,
  items: Type.Array(OrderItemSchema),
  payment_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
  paid_at: NullableTimestamp,
  fulfilled_at: NullableTimestamp,
  cancelled_at: NullableTimestamp,
  links: Type.Object({
    self: Type.String(),
    cancel: Type.Optional(Type.String()),
    pay: Type.Optional(Type.String()),
  }),
});

export const OrderEnvelope = Type.Object({ data: OrderSchema, links: Type.Object({ self: Type.String() }) });

export const OrderListSchema = Type.Object({
  data: Type.Array(OrderSchema),
  pagination: Type.Object({
    page: Type.Integer(),
    per_page: Type.Integer(),
    total: Type.Integer(),
    has_next: Type.Boolean(),
    has_previous: Type.Boolean(),
  }),
  links: Type.Object({
    self: Type.String(),
    next: Type.Union([Type.String(), Type.Null()]),
    previous: Type.Union([Type.String(), Type.Null()]),
  }),
});

export function cartItemView(item: CartItemRow) {
  const lineTotal = item.unit_price_minor * item.quantity;
  return {
    id: item.id,
    product_id: item.product_id,
    name: item.name,
    unit_price: fromMinor(item.unit_price_minor),
    unit_price_minor: item.unit_price_minor,
    currency: item.currency,
    quantity: item.quantity,
    line_total: fromMinor(lineTotal),
    line_total_minor: lineTotal,
    added_at: item.added_at,
    links: {
      self: `/api/v1/cart/items/${item.id}`,
      product: `/api/v1/products/${encodeURIComponent(item.product_id)}`,
    },
  };
}

export function cartView(cart: Cart) {
  const subtotal = cart.items.reduce((sum, item) => sum + item.unit_price_minor * item.quantity, 0);
  return {
    data: {
      user_id: cart.userId,
      version: cart.version,
      currency: cart.items[0]?.currency ?? null,
      items: cart.items.map(cartItemView),
      item_count: cart.items.reduce((sum, item) => sum + item.quantity, 0),
      subtotal: fromMinor(subtotal),
      subtotal_minor: subtotal,
      updated_at: cart.updatedAt,
    },
    links: { self: '/api/v1/cart', checkout: '/api/v1/orders' },
  };
}

function orderItemView(item: OrderItemRow) {
  return {
    product_id: item.product_id,
    category_id: item.category_id,
    name: item.name,
    unit_price: fromMinor(item.unit_price_minor),
    unit_price_minor: item.unit_price_minor,
    quantity: item.quantity,
    line_total: fromMinor(item.line_total_minor),
    line_total_minor: item.line_total_minor,
  };
}

export function orderView(order: Order) {
  const self = `/api/v1/orders/${order.id}`;
  return {
    id: order.id,
    user_id: order.user_id,
    status: order.status,
    currency: order.currency,
    total: fromMinor(order.total_minor),
    total_minor: order.total_minor,
    items: order.items.map(orderItemView),
    payment_id: order.payment_id,
    created_at: order.created_at,
    updated_at: order.updated_at,
    paid_at: order.paid_at,
    fulfilled_at: order.fulfilled_at,
    cancelled_at: order.cancelled_at,
    links: {
      self,
      ...(order.status === 'pending' ? { cancel: `${self}/cancel`, pay: '/api/v1/payments' } : {}),
    },
  };
}
