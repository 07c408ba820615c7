/**
 * One GraphQL server for the bench, by name: `portico` (the catalog as it ships: the HTTP
 * kit plus our graphql-http + graphql-jit transport), `mercurius` and `yoga` in their default
 * set-up. All three serve the same executable schema (SDL + resolvers) over the same
 * services and the same demo data in SQLite, with the same per-request context (loaders).
 * `mercurius-jit` is Mercurius with its opt-in graphql-jit (`jit: 1`), for reference;
 * `portico-bare` is our transport on a bare Fastify, to see what the HTTP kit costs.
 * Usage: node bench/graphql/server.ts <portico|portico-bare|mercurius|mercurius-jit|yoga> <port>
 */
import { createServer as createHttpServer } from 'node:http';
import { createTestIssuer } from '@portico/auth/testing';
import { build, ConfigSchema } from '@portico/catalog';
import { loadConfig } from '@portico/config';
import { createPubSub } from '@portico/store/pubsub';
import { openDatabase } from '@portico/store/sql';
import Fastify from 'fastify';
import { createYoga } from 'graphql-yoga';
import mercurius from 'mercurius';
import { migrations } from '../../services/catalog/migrations/index.ts';
import type { CatalogDatabase } from '../../services/catalog/src/data/schema.ts';
import { createCategoryService } from '../../services/catalog/src/domain/categories.ts';
import { ensureDemoCatalog } from '../../services/catalog/src/domain/demo.ts';
import { createProductService } from '../../services/catalog/src/domain/products.ts';
import { type ContextDeps, createContext } from '../../services/catalog/src/graphql/context.ts';
import { createExecutor } from '../../services/catalog/src/graphql/executor.ts';
import { DEFAULT_LIMITS } from '../../services/catalog/src/graphql/protection.ts';
import { createSchema } from '../../services/catalog/src/graphql/schema.ts';
import { registerTransports } from '../../services/catalog/src/graphql/transport.ts';

const [kind, portText] = process.argv.slice(2);
const port = Number(portText);
const issuer = await createTestIssuer();

if (kind === 'portico') {
  const config = loadConfig('catalog', ConfigSchema, {
    env: {},
    overrides: { databaseUrl: 'sqlite::memory:', logLevel: 'silent', port, readCacheTtlMs: 0 },
  });
  const server = await build(config, { verifier: issuer.verifier });
  await server.listen({ port, host: '127.0.0.1' });
} else {
  const database = openDatabase<CatalogDatabase>({ url: 'sqlite::memory:' });
  await database.migrate(migrations);
  await ensureDemoCatalog(database);
  const deps: ContextDeps = {
    database,
    products: createProductService(database),
    categories: createCategoryService(database),
    pubsub: createPubSub(),
    verifier: issuer.verifier,
  };
  const schema = createSchema();
  if (kind === 'portico-bare') {
    const app = Fastify();
    const executor = createExecutor(schema, { introspection: true, limits: DEFAULT_LIMITS });
    registerTransports(app as never, { schema, executor, deps, graphiql: false });
    await app.listen({ port, host: '127.0.0.1' });
  } else if (kind === 'mercurius' || kind === 'mercurius-jit') {
    const app = Fastify();
    await app.register(mercurius, {
      schema,
      // Not the default: compiles a query with graphql-jit once it has been seen this many times.
      ...(kind === 'mercurius-jit' ? { jit: 1 } : {}),
      context: (request) => createContext(deps, request.headers.authorization),
    });
    await app.listen({ port, host: '127.0.0.1' });
  } else if (kind === 'yoga') {
    const yoga = createYoga({
      schema,
      logging: false,
      context: ({ request }) => createContext(deps, request.headers.get('authorization') ?? undefined),
    });
    const server = createHttpServer(yoga);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  } else {
    throw new Error(`unknown server ${kind}: portico, mercurius or yoga`);
  }
}
process.on('SIGTERM', () => process.exit(0));
