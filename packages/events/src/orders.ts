import Type, { type Static } from 'typebox';

/** The channel the orders service announces placed and cancelled orders on. */
export const ORDER_EVENTS_CHANNEL = 'orders.events';

/**
 * An order placed or cancelled: what was bought, by whom (no prices). Published after the commit.
 * The wire shape (snake_case); the services' domains use `OrderEventData`, its fields in their names.
 */
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

/** An order event as a message on the wire. */
export type OrderEventMessage = Static<typeof OrderEvent>;

/** An order event in the domains' camelCase: what orders announces and the catalog records. */
export interface OrderEventData {
  type: OrderEventMessage['type'];
  orderId: string;
  userId: string;
  at: string;
  items: Array<{ productId: string; categoryId: string | null; quantity: number }>;
}
