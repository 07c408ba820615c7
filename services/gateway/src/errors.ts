/**
 * The gateway's own errors; each leaves as problem+json with the request id. Unlike an
 * unexpected 500, the details of these 5xx (which upstream, which branch, how long) say
 * nothing about internals and help the caller, so they are shown (`isGatewayError`).
 */
import { defineErrors } from '@portico/problem';

export const errors = defineErrors({
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BAD_PATH: 400,
  PAYLOAD_TOO_LARGE: 413,
  REQUEST_INVALID: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMIT_EXCEEDED: 429,
  TOO_MANY_AUTH_FAILURES: 429,
  TOO_MANY_CONNECTIONS: 429,
  UPSTREAM_ERROR: 502,
  RESPONSE_INVALID: 502,
  AGGREGATE_FAILED: 502,
  CIRCUIT_OPEN: 503,
  UPSTREAM_BUSY: 503,
  UPSTREAM_TIMEOUT: 504,
});

const OWN = new Set(Object.keys(errors));

export function isGatewayError(code: string): boolean {
  return OWN.has(code);
}
