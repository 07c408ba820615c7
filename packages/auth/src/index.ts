export { parseBearer } from './bearer.ts';
export { AuthError, type BearerError } from './errors.ts';
export { type AuthorizeOptions, authenticate, authorize, bearerToken, isAdmin, isAllowed } from './hooks.ts';
export {
  createRevocationList,
  publishRevocation,
  REVOCATION_CHANNEL,
  type Revocation,
  type RevocationCheck,
  type RevocationList,
  revocationBus,
  subscribeRevocations,
} from './revocation.ts';
export {
  type AccessClaims,
  createTokenVerifier,
  revoked,
  type TokenVerifier,
  type VerifierOptions,
} from './verifier.ts';
