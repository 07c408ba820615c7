/**
 * How a Portico API's access is described in OpenAPI: the identity's OAuth 2.0 flows (an
 * operation needing a scope names it under `oauth2`) and the bearer JWT itself (operations that
 * take any token from the issuer, or one optionally). The flows list every scope the service's
 * routes need, so each operation's scope is one a client can ask identity for.
 */
import { describeSecuritySchemes, type SecuritySchemes } from '@portico/http';
import type { FastifyInstance } from 'fastify';

export const OAUTH2_SCHEME = 'oauth2';
/** The OpenAPI security scheme of operations that take a token without naming a scope. */
export const BEARER_SCHEME = 'bearer';

/** `orders:read` → `Read orders`; `orders:pay` → `Pay orders`. */
export function describeScope(scope: string): string {
  const [resource = scope, action] = scope.split(':');
  if (action === 'read') return `Read ${resource}`;
  if (action === 'write') return `Create, change and delete ${resource}`;
  return action ? `${action[0]!.toUpperCase()}${action.slice(1)} ${resource}` : `The ${scope} scope`;
}

export function accessSecuritySchemes(issuer: string | undefined, scopes: Iterable<string>): SecuritySchemes {
  const base = (issuer ?? 'http://localhost:9000').replace(/\/+$/, '');
  const described = Object.fromEntries([...new Set(scopes)].sort().map((s) => [s, describeScope(s)]));
  return {
    [OAUTH2_SCHEME]: {
      type: 'oauth2',
      description: `OAuth 2.0 at the identity service (${base}, discovery at /.well-known/openid-configuration): authorization code with PKCE for people, client credentials for services. Access tokens are RFC 9068 JWTs.`,
      flows: {
        authorizationCode: {
          authorizationUrl: `${base}/auth`,
          tokenUrl: `${base}/token`,
          refreshUrl: `${base}/token`,
          scopes: described,
        },
        clientCredentials: { tokenUrl: `${base}/token`, scopes: described },
      },
    },
    [BEARER_SCHEME]: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: `An RFC 9068 access token issued by ${base}`,
    },
  };
}

/** The server's document gets these schemes, with the scopes its routes need when it is built. */
export function describeAccess(
  server: FastifyInstance,
  issuer: string | undefined,
  scopes: () => Iterable<string>,
): void {
  describeSecuritySchemes(server, () => accessSecuritySchemes(issuer, scopes()));
}
