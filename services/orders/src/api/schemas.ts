/**
 * Wire shapes of the orders service: they validate, serialise, and document (OpenAPI). Other
 * services check what they read from orders against these (`@portico/orders/schemas`), so
 * this file imports nothing but TypeBox and the common Problem schema.
 */
import Type from 'typebox';

export { ProblemSchema as Problem } from '@portico/http';

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const Amount = Type.Number({ description: 'Decimal amount with two decimals, e.g. 19.99' });
const Minor = Type.Integer({ description: 'The same amount in minor units (cents), e.g. 1999' });

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
