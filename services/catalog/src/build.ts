/**
 * The catalog service: products and categories over REST (levels 2 and 3).
 * `build` wires it from validated config; `main.ts` only listens.
 */
import { setTimeout } from 'node:timers/promises';
import { enforceAccess, serviceTokenVerifier, type TokenVerifier } from '@portico/auth';
import { createServer, RESOURCE_HEADERS, type Server, securityHeaders } from '@portico/http';
import { type PubSub, subscribeDurably } from '@portico/store/pubsub';
import { openServiceDatabase } from '@portico/store/sql';
import { migrations } from '../migrations/index.ts';
import { categoryRoutes } from './api/categories.ts';
import { subscribeOrderEvents } from './api/order-events.ts';
import { productRoutes } from './api/products.ts';
import { createReadCache } from './api/read-cache.ts';
import { recommendationRoutes } from './api/recommendations.ts';
import { type CatalogConfig, ConfigSchema } from './config.ts';
import type { CatalogDatabase } from './data/schema.ts';
import { type CategoryService, createCategoryService } from './domain/categories.ts';
import { ensureDemoCatalog } from './domain/demo.ts';
import { createProductService, type ProductService } from './domain/products.ts';
import { createRecommendationService } from './domain/recommendations.ts';
import { type GraphQLServer, PRODUCT_CHANNEL, registerGraphQL } from './graphql/index.ts';

export type { CatalogConfig };
export { ConfigSchema };

export interface CatalogDeps {
  /** Token verifier override (tests pass a test issuer's). */
  verifier?: TokenVerifier;
  /** Pub/sub instead of `config.pubsub` (`npm start` shares one in-process bus with orders). */
  pubsub?: PubSub;
}

export type CatalogServer = Server & { products: ProductService; categories: CategoryService };

export async function build(config: CatalogConfig, deps: CatalogDeps = {}): Promise<CatalogServer> {
  const database = await openServiceDatabase<CatalogDatabase>(config, migrations);
  const products = createProductService(database);
  const categories = createCategoryService(database);
  if (config.demoData) await ensureDemoCatalog(database);

  const server = (await createServer({
    name: 'catalog',
    description: 'Products and categories: REST at /api/v1',
    tags: {
      products: 'The product catalog: prices in minor units, stock, ETags for conditional requests',
      categories: 'Categories that products belong to',
      recommendations: 'Products picked for a user from what they bought',
      graphql: 'The GraphQL API at /graphql (queries, mutations, subscriptions): its schema',
    },
    logLevel: config.logLevel === 'silent' ? false : config.logLevel,
    healthTimeoutMs: config.healthCheckTimeoutMs,
    health: { database: () => products.count({}) },
  })) as CatalogServer;
  await securityHeaders(server, RESOURCE_HEADERS);
  server.decorate('products', products);
  server.decorate('categories', categories);
  server.addHook('onClose', () => database.close());
  const verifier = deps.verifier ?? (await serviceTokenVerifier(server, config.auth, { name: 'catalog' }));
  enforceAccess(server, verifier);

  const readCache = createReadCache({ ttlMs: config.readCacheTtlMs });
  productRoutes(server, products, readCache);
  categoryRoutes(server, categories);
  await registerGraphQL(server, { config, database, products, categories, verifier, pubsub: deps.pubsub });
  const { pubsub } = server as CatalogServer & GraphQLServer;
  // Purchases come from the orders service's events, never from calling it while answering.
  const recommendations = createRecommendationService(database, {
    products,
    feedLive: () => orderEvents.live,
  });
  const orderEvents = subscribeOrderEvents(server, pubsub, recommendations);
  server.addHook('onClose', () => orderEvents.stop());
  await Promise.race([orderEvents.ready, setTimeout(2000, undefined, { ref: false })]);
  recommendationRoutes(server, recommendations);
  // A write on another instance reaches us through Redis pub/sub: forget cached reads at once, not
  // a TTL later (a gateway in front would otherwise cache the stale answer for its own, longer, TTL).
  if (pubsub.kind === 'redis') {
    const invalidation = subscribeDurably(pubsub, PRODUCT_CHANNEL, () => readCache.clear(), {
      onError: (err) =>
        server.log.warn({ err }, 'product changes from other instances not subscribed yet: tried again'),
    });
    server.addHook('onClose', () => invalidation.stop());
    await Promise.race([invalidation.ready, setTimeout(2000, undefined, { ref: false })]);
  }
  return server;
}
