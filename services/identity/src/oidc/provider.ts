/**
 * The OpenID Provider: oidc-provider configured for Portico. What is enforced where:
 * - only `response_type=code`, PKCE S256 required for every client (`pkce.required`);
 *   the library supports no `plain` method, no implicit flow and no password grant
 * - redirect URIs are matched exactly as registered (the library's rule)
 * - access tokens for the API are RFC 9068 JWTs (`typ: at+jwt`) with `sub`, `roles`,
 *   `scope`, `client_id`, audience = the API resource (RFC 8707 resource indicators)
 * - a public client's refresh tokens rotate on every use, and a used one presented again
 *   revokes the grant; a confidential client's are bound to its secret and do not rotate
 * - codes live `ttl.authorizationCodeSeconds` (60 s) and are single-use: a second use
 *   revokes the grant, and with it the refresh token issued for the first
 */
import { randomBytes } from 'node:crypto';
import { pageHeaders } from '@portico/http';
import helmet from 'helmet';
import Provider, {
  type Account,
  type AdapterConstructor,
  type ClientInstance,
  type Configuration,
  errors,
  type KoaContextWithOIDC,
  type TokenLike,
} from 'oidc-provider';
import { errorPage, logoutPage, logoutSuccessPage } from '../api/views.ts';
import type { ClientConfig, IdentityConfig } from '../config.ts';
import type { AccountService } from '../domain/accounts.ts';
import { scopePolicy } from '../domain/scope-policy.ts';
import { ACR_VALUES, accessTokenAuthentication } from './authentication-context.ts';
import type { ProviderKeys } from './keys.ts';
import { providerEdge, providerRouter } from './provider-edge.ts';
import { DEVICE_CODE_TTL_SECONDS, publicClientFeatures } from './public-clients.ts';
import { stepUpPolicy } from './step-up-policy.ts';

export interface ProviderDeps {
  adapter: AdapterConstructor;
  accounts: AccountService;
  keys: ProviderKeys;
}

export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'];

export function createProvider(config: IdentityConfig, deps: ProviderDeps): Provider {
  const { accounts } = deps;
  const audience = config.api.audience;
  const apiScopes = new Set(config.api.scopes.map((s) => s.name));

  const hasApiScope = (scope: unknown): boolean =>
    typeof scope === 'string' && scope.split(' ').some((s) => apiScopes.has(s));

  async function findAccount(_ctx: unknown, sub: string): Promise<Account | undefined> {
    const account = await accounts.findById(sub);
    // A disabled account has no claims to give: its refresh tokens and sessions stop working.
    if (!account || account.disabled) return undefined;
    return {
      accountId: account.id,
      async claims() {
        return {
          sub: account.id,
          name: account.name,
          preferred_username: account.username,
          email: account.email ?? undefined,
          email_verified: account.email ? account.emailVerified : undefined,
          updated_at: Math.floor(Date.parse(account.updatedAt) / 1000),
          roles: account.roles,
        };
      },
    };
  }

  const firstParty = new Set(config.clients.filter((c) => c.first_party).map((c) => c.client_id));
  const policy = scopePolicy(config.api.scopes);

  const configuration: Configuration = {
    adapter: deps.adapter,
    clients: withSecrets(config).map(toClientMetadata),
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    jwks: deps.keys.jwks,
    cookies: {
      keys: deps.keys.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    responseTypes: ['code'],
    acrValues: ACR_VALUES,
    scopes: [...OIDC_SCOPES, ...apiScopes],
    claims: {
      // How the user signed in (authentication-context.ts), in every ID token.
      openid: ['sub', 'acr', 'amr'],
      profile: ['name', 'preferred_username', 'updated_at', 'roles'],
      email: ['email', 'email_verified'],
    },
    pkce: { required: () => true },
    // OpenID Connect ties refresh tokens to offline_access and that to prompt=consent; a
    // first-party client, which is never shown a consent page, gets one without asking.
    issueRefreshToken: async (_ctx: unknown, client: ClientInstance, code: { scopes: Set<string> }) =>
      client.grantTypeAllowed('refresh_token') &&
      (code.scopes.has('offline_access') || firstParty.has(client.clientId)),
    findAccount,
    conformIdTokenClaims: true,
    // RFC 9700 §4.14.2: a public client's refresh tokens rotate, and a used one presented again
    // revokes the grant. A confidential client's are bound to its client authentication (the
    // sender constraint the RFC allows instead): they do not rotate, so replicas of the console
    // refreshing one session at once both succeed, without sticky sessions or a lease.
    rotateRefreshToken: (ctx: KoaContextWithOIDC) =>
      (ctx.oidc.client as { clientAuthMethod?: string } | undefined)?.clientAuthMethod === 'none',
    allowOmittingSingleRegisteredRedirectUri: false,
    interactions: {
      policy: stepUpPolicy(),
      url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    ttl: {
      AccessToken: () => config.api.accessTokenTtlSeconds,
      ClientCredentials: () => config.api.accessTokenTtlSeconds,
      AuthorizationCode: () => config.ttl.authorizationCodeSeconds,
      IdToken: () => config.ttl.idTokenSeconds,
      Interaction: () => config.ttl.interactionSeconds,
      DeviceCode: () => DEVICE_CODE_TTL_SECONDS,
      Session: () => config.ttl.sessionSeconds,
      Grant: () => config.ttl.refreshTokenSeconds,
      // A rotated refresh token inherits what is left of its predecessor's life: rotation
      // never extends a grant beyond its absolute lifetime.
      RefreshToken: (ctx: KoaContextWithOIDC | undefined) => {
        const rotated = ctx?.oidc?.entities.RotatedRefreshToken as TokenLike | undefined;
        return rotated?.remainingTTL ?? config.ttl.refreshTokenSeconds;
      },
    },
    // RFC 9068 §2.2.2: identity claims may ride in the access token when the user
    // consented to them (the profile/email scopes of the grant); roles always do, read
    // fresh from the account at every issue, so a role change shows at the next refresh.
    extraTokenClaims: async (ctx: KoaContextWithOIDC, token: TokenLike) => {
      if (token.kind !== 'AccessToken' || !token.accountId) return { roles: [] };
      const account = await accounts.findById(token.accountId);
      if (!account) return { roles: [] };
      const grant = ctx.oidc.entities.Grant as { getOIDCScope(): string } | undefined;
      const consented = new Set((grant?.getOIDCScope() ?? '').split(' '));
      return {
        roles: account.roles,
        ...accessTokenAuthentication(ctx),
        // Names the grant, so revoking it stops this token at every verifier (revocation list).
        ...(token.grantId ? { grant_id: token.grantId } : {}),
        ...(consented.has('profile') ? { name: account.name, preferred_username: account.username } : {}),
        ...(consented.has('email') && account.email ? { email: account.email } : {}),
      };
    },
    formats: {
      customizers: {
        // The grant's API scopes are filtered again by the roles read at this issue (the
        // `roles` claim above): a role taken away takes its scopes at the next refresh.
        // Client-credentials tokens have no account and keep their client's scopes.
        jwt: async (
          _ctx: KoaContextWithOIDC,
          token: TokenLike,
          jwt: { payload: Record<string, unknown> },
        ) => {
          if (!token.accountId || typeof jwt.payload.scope !== 'string') return;
          const roles = Array.isArray(jwt.payload.roles) ? (jwt.payload.roles as string[]) : [];
          jwt.payload.scope = policy.filter(jwt.payload.scope, roles);
        },
      },
    },
    features: {
      ...publicClientFeatures(config.dpop, deps.keys.cookieKeys),
      devInteractions: { enabled: false },
      claimsParameter: { enabled: false },
      clientCredentials: { enabled: true },
      // A client may introspect and revoke only what was issued to it.
      introspection: { enabled: true, allowedPolicy: ownToken },
      revocation: { enabled: true, allowedPolicy: ownToken },
      userinfo: { enabled: true },
      registration: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.type = 'html';
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.type = 'html';
          ctx.body = logoutSuccessPage(ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId);
        },
      },
      resourceIndicators: {
        enabled: true,
        // No `resource` in the authorization request: the grant is for the Portico API.
        defaultResource: async (_ctx: unknown, _client: ClientInstance, oneOf?: string[]) =>
          oneOf ?? audience,
        // A token request that asks for API scopes (or leaves scope out and the grant has
        // them) gets the API's JWT; asking only for OpenID scopes gets an opaque token for
        // the userinfo endpoint.
        useGrantedResource: async (ctx: KoaContextWithOIDC, model: { scope?: string }) =>
          hasApiScope(ctx.oidc.params?.scope ?? model.scope),
        getResourceServerInfo: async (_ctx: unknown, resource: string, client: ClientInstance) => {
          if (resource !== audience) throw new errors.InvalidTarget(`unknown resource ${resource}`);
          const allowed = new Set((client.scope ?? '').split(' '));
          return {
            scope: [...apiScopes].filter((s) => allowed.has(s)).join(' '),
            audience,
            accessTokenTTL: config.api.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256'],
      userinfoSigningAlgValues: ['RS256'],
    },
    renderError: async (ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = errorPage(out.error, out.error_description);
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  // Koa reads X-Forwarded-For from the left unless told how many entries its proxies wrote.
  (provider as unknown as { maxIpsCount: number }).maxIpsCount = config.proxyHops;
  // The provider's own pages (logout, errors, the form_post page) get the page policy of ours,
  // with a CSP of frame-ancestors alone: form_post submits itself with an inline script.
  const pageSecurity = helmet({
    ...pageHeaders({}),
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': helmet.contentSecurityPolicy.dangerouslyDisableDefaultSrc,
        'frame-ancestors': ["'none'"],
      },
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (/^text\/html/.test(ctx.type)) pageSecurity(ctx.req, ctx.res, () => {});
  });
  // Inside the page policy: a page the provider had rendered before an error escaped still gets it.
  provider.use(providerEdge(providerRouter(provider)));
  return provider;
}

async function ownToken(ctx: KoaContextWithOIDC, client: ClientInstance, token: TokenLike): Promise<boolean> {
  return token.clientId === client.clientId && ctx.oidc.client?.clientId === client.clientId;
}

/**
 * Confidential clients without a configured secret get `clientSecrets.<name>`, or else a
 * random one nobody knows: an unconfigured deployment fails closed, never on a known value.
 */
function withSecrets(config: IdentityConfig): ClientConfig[] {
  const given: Record<string, string> = {
    'portico-web': config.clientSecrets.web,
    'portico-service': config.clientSecrets.service,
  };
  return config.clients.map((client) =>
    client.token_endpoint_auth_method === 'none' || client.client_secret
      ? client
      : { ...client, client_secret: given[client.client_id] || randomBytes(32).toString('base64url') },
  );
}

/** Config clients as oidc-provider metadata: service clients have no redirects and no response types. */
function toClientMetadata(client: ClientConfig): Record<string, unknown> {
  const interactive = client.grant_types.includes('authorization_code');
  const { redirect_uris, post_logout_redirect_uris, first_party: _firstParty, ...rest } = client;
  return {
    ...rest,
    response_types: interactive ? ['code'] : [],
    ...(interactive ? { redirect_uris } : {}),
    ...(interactive && post_logout_redirect_uris.length > 0 ? { post_logout_redirect_uris } : {}),
  };
}
