/**
 * Mounts GraphQL on the catalog: schema from the SDL, resolvers over the same domain
 * services as REST, every product write (REST or GraphQL) published on pub/sub so
 * `productUpdated` subscribers on every instance hear it.
 */
import type { TokenVerifier } from '@portico/auth';
import type { Server } from '@portico/http';
import { createPubSub, type PubSub } from '@portico/store/pubsub';
import type { Database } from '@portico/store/sql';
import type { CatalogConfig } from '../config.ts';
import type { CatalogDatabase } from '../data/schema.ts';
import type { CategoryService } from '../domain/categories.ts';
import type { ProductService } from '../domain/products.ts';
import { createExecutor } from './executor.ts';
import { PRODUCT_CHANNEL } from './resolvers.ts';
import { createSchema, loadSchemaSource } from './schema.ts';
import { registerSchemaFile, SDL_PATH } from './sdl.ts';
import { GRAPHQL_PATH, registerTransports } from './transport.ts';

export { GRAPHQL_PATH, PRODUCT_CHANNEL, SDL_PATH };

export interface GraphQLOptions {
  config: Pick<CatalogConfig, 'graphql' | 'pubsub'>;
  database: Database<CatalogDatabase>;
  products: ProductService;
  categories: CategoryService;
  verifier: TokenVerifier;
  /** Used instead of one made from `config.pubsub`; the caller closes it. */
  pubsub?: PubSub;
}

export type GraphQLServer = Server & { pubsub: PubSub };

export async function registerGraphQL(server: Server, options: GraphQLOptions): Promise<void> {
  const { graphql, pubsub: pubsubConfig } = options.config;
  const pubsub =
    options.pubsub ??
    createPubSub({
      url: pubsubConfig.redisUrl || undefined,
      keyPrefix: pubsubConfig.keyPrefix,
      onError: (err) => server.log.warn({ err }, 'pub/sub error'),
    });
  const stopPublishing = options.products.subscribe((event) => {
    pubsub.publish(PRODUCT_CHANNEL, event).catch((err) => {
      server.log.error({ err, product: event.product.id }, 'could not publish a product event');
    });
  });
  server.decorate('pubsub', pubsub);
  server.addHook('onClose', async () => {
    stopPublishing();
    if (!options.pubsub) await pubsub.close();
  });
  if (!graphql.enabled) return;

  const source = loadSchemaSource();
  const schema = createSchema(source);
  registerSchemaFile(server, source);
  const executor = createExecutor(schema, {
    introspection: graphql.introspection,
    limits: {
      maxDepth: graphql.maxDepth,
      maxCost: graphql.maxCost,
      maxAliases: graphql.maxAliases,
      maxTokens: graphql.maxTokens,
    },
  });
  registerTransports(server, {
    schema,
    executor,
    graphiql: graphql.graphiql,
    deps: {
      database: options.database,
      products: options.products,
      categories: options.categories,
      pubsub,
      verifier: options.verifier,
    },
  });
}
