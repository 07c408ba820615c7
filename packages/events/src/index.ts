/**
 * The events services send each other on the store's pub/sub: each channel, its message schema
 * and type, and the event's type in the domains' camelCase, written by the publisher. Publisher
 * and subscribers import them from here, so a service listening to another does not depend on
 * that service's package, and neither writes the event's shape again.
 */
export { ORDER_EVENTS_CHANNEL, OrderEvent, type OrderEventData, type OrderEventMessage } from './orders.ts';
