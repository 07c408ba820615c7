/**
 * The orders service's events (`orders.events`), heard on the store's pub/sub and kept as
 * purchases for recommendations. Each message is checked against the `OrderEvent` schema the
 * orders service publishes with (`@portico/events`); one that does not match is logged and dropped.
 */

import { ORDER_EVENTS_CHANNEL, OrderEvent, type OrderEventMessage } from '@portico/events';
import type { Server } from '@portico/http';
import { type DurableSubscription, type PubSub, subscribeDurably } from '@portico/store/pubsub';
import { Compile } from 'typebox/compile';
import type { RecommendationService } from '../domain/recommendations.ts';

const isOrderEvent = Compile(OrderEvent);

export function subscribeOrderEvents(
  server: Server,
  pubsub: PubSub,
  recommendations: RecommendationService,
): DurableSubscription {
  const record = async (event: OrderEventMessage) => {
    await recommendations.record({
      type: event.type,
      orderId: event.order_id,
      userId: event.user_id,
      at: event.at,
      items: event.items.map((item) => ({
        productId: item.product_id,
        categoryId: item.category_id,
        quantity: item.quantity,
      })),
    });
  };
  return subscribeDurably(
    pubsub,
    ORDER_EVENTS_CHANNEL,
    (message) => {
      if (!isOrderEvent.Check(message)) {
        server.log.warn({ message }, 'an order event of an unknown shape was dropped');
        return;
      }
      record(message).catch((err) =>
        server.log.warn({ err, order: message.order_id }, 'an order event was not kept'),
      );
    },
    {
      onError: (err) =>
        server.log.warn({ err }, 'order events not subscribed yet (recommendations degraded): tried again'),
    },
  );
}
