import Type from 'typebox';

/** The channel the orders service announces placed and cancelled orders on. */
export const ORDER_EVENTS_CHANNEL = 'orders.events';

/** An order placed or cancelled: what was bought, by whom (no prices). Published after the commit. */
export const OrderEvent = Type.Object({
  type: Type.Union([Type.Literal('order.placed'), Type.Literal('order.cancelled')]),
  order_id: Type.String(),
  user_id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  items: Type.Array(
    Type.Object({
      product_id: Type.String(),
      category_id: Type.Union([Type.String(), Type.Null()]),
      quantity: Type.Integer({ minimum: 1 }),
    }),
  ),
});
