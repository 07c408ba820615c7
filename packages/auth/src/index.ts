export {
  type DeclaredRoute,
  declaredRoutes,
  enforceAccess,
  isPublic,
  needs,
  PUBLIC,
  PUBLIC_OPTIONAL_TOKEN,
  type PublicAccess,
  type RouteAccess,
  type ScopedAccess,
} from './access.ts';
export { parseBearer } from './bearer.ts';
export { type Credentials, parseAuthorization } from './credentials.ts';
export {
  accessTokenHash,
  assertScheme,
  boundKey,
  createDpopVerifier,
  DPOP_ALGORITHMS,
  type DpopOptions,
  type DpopRequest,
  type DpopVerifier,
  memoryReplayGuard,
  normalizeHtu,
  type ReplayGuard,
  storeReplayGuard,
} from './dpop.ts';
export { AuthError, type AuthErrorOptions, type AuthScheme, type BearerError } from './errors.ts';
export {
  type AuthorizeOptions,
  authenticate,
  authorize,
  bearerToken,
  isAdmin,
  isAllowed,
  requestCredentials,
  verifyRequest,
} from './hooks.ts';
export {
  accessSecuritySchemes,
  BEARER_SCHEME,
  describeAccess,
  describeScope,
  OAUTH2_SCHEME,
} from './openapi.ts';
export {
  createRevocationList,
  listenForRevocations,
  publishRevocation,
  REVOCATION_CHANNEL,
  type Revocation,
  type RevocationCheck,
  type RevocationList,
  revocationBus,
  subscribeRevocations,
} from './revocation.ts';
export { dpopOrigins, type ServiceAuthSettings, serviceTokenVerifier } from './service-verifier.ts';
export { assertMfa, hasMfa, MFA } from './step-up.ts';
export {
  type AccessClaims,
  createTokenVerifier,
  revoked,
  type TokenVerifier,
  type VerifierOptions,
} from './verifier.ts';
