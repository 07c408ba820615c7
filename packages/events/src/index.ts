/**
 * The events services send each other on the store's pub/sub: each channel and its message
 * schema, written by the publisher. Publisher and subscribers import them from here, so a
 * service listening to another does not depend on that service's package.
 */
export { ORDER_EVENTS_CHANNEL, OrderEvent, type OrderEventData, type OrderEventMessage } from './orders.ts';
