/** Domain values as the orders API writes them: snake_case, decimals beside minor units, links. */

import type { OrderEventData, OrderEventMessage } from '@portico/events';
import { toDecimal } from '@portico/money';
import type { Cart, CartItem } from '../domain/carts.ts';
import type { Order, OrderItem } from '../domain/orders.ts';

export function cartItemJson(item: CartItem) {
  const lineTotal = item.unitPriceMinor * item.quantity;
  return {
    id: item.id,
    product_id: item.productId,
    name: item.name,
    unit_price: toDecimal(item.unitPriceMinor),
    unit_price_minor: item.unitPriceMinor,
    currency: item.currency,
    quantity: item.quantity,
    line_total: toDecimal(lineTotal),
    line_total_minor: lineTotal,
    added_at: item.addedAt,
    links: {
      self: `/api/v1/cart/items/${item.id}`,
      product: `/api/v1/products/${encodeURIComponent(item.productId)}`,
    },
  };
}

export function cartJson(cart: Cart) {
  const subtotal = cart.items.reduce((sum, item) => sum + item.unitPriceMinor * item.quantity, 0);
  return {
    data: {
      user_id: cart.userId,
      version: cart.version,
      currency: cart.items[0]?.currency ?? null,
      items: cart.items.map(cartItemJson),
      item_count: cart.items.reduce((sum, item) => sum + item.quantity, 0),
      subtotal: toDecimal(subtotal),
      subtotal_minor: subtotal,
      updated_at: cart.updatedAt,
    },
    links: { self: '/api/v1/cart', checkout: '/api/v1/orders' },
  };
}

function orderItemJson(item: OrderItem) {
  return {
    product_id: item.productId,
    category_id: item.categoryId,
    name: item.name,
    unit_price: toDecimal(item.unitPriceMinor),
    unit_price_minor: item.unitPriceMinor,
    quantity: item.quantity,
    line_total: toDecimal(item.lineTotalMinor),
    line_total_minor: item.lineTotalMinor,
  };
}

export function orderJson(order: Order) {
  const self = `/api/v1/orders/${order.id}`;
  return {
    id: order.id,
    user_id: order.userId,
    status: order.status,
    currency: order.currency,
    total: toDecimal(order.totalMinor),
    total_minor: order.totalMinor,
    items: order.items.map(orderItemJson),
    payment_id: order.paymentId,
    created_at: order.createdAt,
    updated_at: order.updatedAt,
    paid_at: order.paidAt,
    fulfilled_at: order.fulfilledAt,
    cancelled_at: order.cancelledAt,
    links: {
      self,
      ...(order.status === 'pending' ? { cancel: `${self}/cancel`, pay: '/api/v1/payments' } : {}),
    },
  };
}

/** The envelope every single-order answer has. */
export function orderEnvelope(order: Order) {
  const data = orderJson(order);
  return { data, links: { self: data.links.self } };
}

export function orderEventJson(event: OrderEventData): OrderEventMessage {
  return {
    type: event.type,
    order_id: event.orderId,
    user_id: event.userId,
    at: event.at,
    items: event.items.map((item) => ({
      product_id: item.productId,
      category_id: item.categoryId,
      quantity: item.quantity,
    })),
  };
}
