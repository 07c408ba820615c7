/**
 * RFC 6750 §2.1: `Authorization: Bearer <token68>`.
 * - The scheme name is case-insensitive (RFC 9110 §11.1): `bearer`, `BEARER` are the same.
 * - One or more spaces may separate scheme and token; nothing may follow the token.
 * - No header → `undefined`; any other shape → `invalid_request`.
 * Every place that reads a bearer token (services, GraphQL, the gateway, WebSocket upgrades)
 * goes through this one function, so they cannot drift apart.
 */
import { AuthError } from './errors.ts';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function parseBearer(header: string | readonly string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) throw new AuthError('invalid_request', 'The Authorization header must be "Bearer <token>"');
  return match[1];
}
