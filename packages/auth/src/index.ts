export { parseBearer } from './bearer.ts';
export { AuthError, type BearerError } from './errors.ts';
export { type AuthorizeOptions, authenticate, authorize, bearerToken, isAdmin, isAllowed } from './hooks.ts';
export {
  type AccessClaims,
  createTokenVerifier,
  type TokenVerifier,
  type VerifierOptions,
} from './verifier.ts';
