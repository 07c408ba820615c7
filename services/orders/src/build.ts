/**
 * The orders service (port 8003, the seed's `order-service`): carts and orders.
 * Prices, names and stock come from the catalog over HTTP at the moment of checkout.
 */
import { enforceAccess, serviceTokenVerifier, type TokenVerifier } from '@portico/auth';
import { createServer, type Server } from '@portico/http';
import { openDatabase, sql } from '@portico/store/sql';
import { registerCartRoutes } from './api/cart.ts';
import { registerOrderRoutes } from './api/orders.ts';
import { type Config, ConfigSchema } from './config.ts';
import { type CatalogClient, createCatalogClient } from './data/catalog.ts';
import { migrations, type OrdersDb } from './data/schema.ts';

export { ConfigSchema };

export interface Deps {
  /** Token verifier to use instead of the configured issuer's JWKS (tests pass a test issuer's). */
  verifier?: TokenVerifier;
  /** Catalog client to use instead of HTTP to `config.catalog.url`. */
  catalog?: CatalogClient;
}

export async function build(config: Config, deps: Deps = {}): Promise<Server> {
  const database = openDatabase<OrdersDb>({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
    acquireTimeoutMs: config.databaseAcquireTimeoutMs,
  });
  await database.migrate(migrations);
  const { db } = database;
  const catalog = deps.catalog ?? createCatalogClient(config.catalog);

  const server = await createServer({
    name: 'orders',
    description: 'Carts and orders: checkout prices from the catalog, order state machine, ownership.',
    tags: {
      cart: 'The caller’s cart, priced by the catalog at every read',
      orders: 'Orders and their states: pending → paid → fulfilled, or cancelled',
    },
    logLevel: config.logLevel === 'silent' ? false : config.logLevel,
    healthTimeoutMs: config.healthCheckTimeoutMs,
    health: { database: () => sql`select 1`.execute(db) },
  });
  const verifier = deps.verifier ?? (await serviceTokenVerifier(server, config.auth, { name: 'orders' }));
  enforceAccess(server, verifier);
  const context = { db, catalog };
  registerCartRoutes(server, context);
  registerOrderRoutes(server, context);

  server.addHook('onClose', async () => {
    await catalog.close();
    await database.close();
  });
  return server;
}
