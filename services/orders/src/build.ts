/**
 * The orders service (port 8003, the seed's `order-service`): carts and orders.
 * Prices, names and stock come from the catalog over HTTP at the moment of checkout;
 * placed and cancelled orders are announced on pub/sub (`orders.events`).
 */
import { enforceAccess, serviceTokenVerifier, type TokenVerifier } from '@portico/auth';
import { ORDER_EVENTS_CHANNEL } from '@portico/events';
import { createServer, RESOURCE_HEADERS, type Server, securityHeaders } from '@portico/http';
import { createPubSub, type PubSub } from '@portico/store/pubsub';
import { openServiceDatabase, sql } from '@portico/store/sql';
import { migrations } from '../migrations/index.ts';
import { cartRoutes } from './api/cart.ts';
import { orderRoutes } from './api/orders.ts';
import { orderEventJson } from './api/serialize.ts';
import { type CatalogClient, createCatalogClient } from './clients/catalog.ts';
import { ConfigSchema, type OrdersConfig } from './config.ts';
import type { OrdersDatabase } from './data/schema.ts';
import { type CartService, createCartService } from './domain/carts.ts';
import { createOrderService, type OrderService } from './domain/orders.ts';

export type { OrdersConfig };
export { ConfigSchema };

export interface OrdersDeps {
  /** Token verifier override (tests pass a test issuer's). */
  verifier?: TokenVerifier;
  /** Catalog client to use instead of HTTP to `config.catalog.url`. */
  catalog?: CatalogClient;
  /** Where order events go instead of `config.pubsub` (`npm start` shares one in-process bus). */
  pubsub?: PubSub;
}

export type OrdersServer = Server & { carts: CartService; orders: OrderService };

export async function build(config: OrdersConfig, deps: OrdersDeps = {}): Promise<OrdersServer> {
  const database = await openServiceDatabase<OrdersDatabase>(config, migrations);
  const catalog = deps.catalog ?? createCatalogClient(config.catalog);
  const server = (await createServer({
    name: 'orders',
    description: 'Carts and orders: checkout prices from the catalog, order state machine, ownership.',
    tags: {
      cart: 'The caller’s cart, priced by the catalog at every read',
      orders: 'Orders and their states: pending → paid → fulfilled, or cancelled',
    },
    logLevel: config.logLevel === 'silent' ? false : config.logLevel,
    healthTimeoutMs: config.healthCheckTimeoutMs,
    health: { database: () => sql`select 1`.execute(database.db) },
  })) as OrdersServer;
  await securityHeaders(server, RESOURCE_HEADERS);
  const pubsub =
    deps.pubsub ??
    createPubSub({
      url: config.pubsub.redisUrl || undefined,
      keyPrefix: config.pubsub.keyPrefix,
      onError: (err) => server.log.warn({ err }, 'pub/sub error'),
    });
  const carts = createCartService(database, catalog);
  const orders = createOrderService(database, {
    carts,
    catalog,
    // At most once, after the commit: a lost event costs a recommendation, never an order.
    publish: (event) =>
      void pubsub.publish(ORDER_EVENTS_CHANNEL, orderEventJson(event)).catch((err) => {
        server.log.warn({ err, order: event.orderId }, 'could not announce an order event');
      }),
  });
  server.decorate('carts', carts);
  server.decorate('orders', orders);
  server.addHook('onClose', async () => {
    if (!deps.pubsub) await pubsub.close();
    await catalog.close();
    await database.close();
  });
  const verifier = deps.verifier ?? (await serviceTokenVerifier(server, config.auth, { name: 'orders' }));
  enforceAccess(server, verifier);
  cartRoutes(server, carts);
  orderRoutes(server, orders);
  return server;
}
