import { type AccessClaims, AuthError, parseBearer, type TokenVerifier } from '@portico/auth';
import type { PubSub } from '@portico/store/pubsub';
import type { Database } from '@portico/store/sql';
import type { CatalogDatabase } from '../data/schema.ts';
import type { CategoryService } from '../domain/categories.ts';
import { canWriteCatalog, WRITE_SCOPE } from '../domain/permissions.ts';
import type { ProductService } from '../domain/products.ts';
import { createLoaders, type Loaders } from './loaders.ts';

/** What every resolver can reach; one per operation, so loaders batch and cache per request only. */
export interface GraphQLContext {
  products: ProductService;
  categories: CategoryService;
  pubsub: PubSub;
  readonly loaders: Loaders;
  /** The caller's verified claims, or undefined without a token; a bad token throws INVALID_TOKEN. */
  auth(): Promise<AccessClaims | undefined>;
}

export interface ContextDeps {
  database: Database<CatalogDatabase>;
  products: ProductService;
  categories: CategoryService;
  pubsub: PubSub;
  verifier: TokenVerifier;
}

/**
 * `authorization` is the header value (HTTP, SSE) or the `authorization` connection param
 * (graphql-ws). Tokens are verified only when a resolver asks, so reads pay nothing.
 * `verified` is what the route's access check already made of the request's token (HTTP and
 * SSE): a DPoP-bound token's proof is checked there, against the request, and a WebSocket
 * message has no request to check it against, so graphql-ws takes Bearer tokens only.
 */
export function createContext(
  deps: ContextDeps,
  authorization: string | undefined,
  verified?: AccessClaims,
): GraphQLContext {
  let loaders: Loaders | undefined;
  let claims: Promise<AccessClaims | undefined> | undefined;
  return {
    products: deps.products,
    categories: deps.categories,
    pubsub: deps.pubsub,
    get loaders() {
      loaders ??= createLoaders(deps);
      return loaders;
    },
    auth() {
      claims ??= (async () => {
        if (verified) return verified;
        const token = parseBearer(authorization === '' ? undefined : authorization);
        return token === undefined ? undefined : deps.verifier.verify(token);
      })();
      return claims;
    },
  };
}

/** The domain's rule for writes, as REST applies it too. */
export async function requireWriter(context: GraphQLContext): Promise<AccessClaims> {
  const claims = await context.auth();
  if (!claims) throw new AuthError(undefined, 'This operation needs an access token');
  if (!canWriteCatalog(claims.scopes)) {
    throw new AuthError('insufficient_scope', `This operation needs the ${WRITE_SCOPE} scope`, {
      scope: WRITE_SCOPE,
    });
  }
  return claims;
}
