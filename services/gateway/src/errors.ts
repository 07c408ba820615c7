/**
 * The gateway's own errors; each leaves as problem+json with the request id. Unlike an
 * unexpected 500, the details of these 5xx (which upstream, which branch, how long) say
 * nothing about internals and help the caller, so they are shown (`isGatewayError`).
 */
import { defineErrors } from '@portico/problem';

export const errors = defineErrors({
  ROUTE_NOT_FOUND: { status: 404, title: 'Not Found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method Not Allowed' },
  BAD_PATH: { status: 400, title: 'Bad Request' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload Too Large' },
  REQUEST_INVALID: { status: 400, title: 'Bad Request' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported Media Type' },
  RATE_LIMIT_EXCEEDED: { status: 429, title: 'Too Many Requests' },
  TOO_MANY_AUTH_FAILURES: { status: 429, title: 'Too Many Requests' },
  TOO_MANY_CONNECTIONS: { status: 429, title: 'Too Many Requests' },
  UPSTREAM_ERROR: { status: 502, title: 'Bad Gateway' },
  RESPONSE_INVALID: { status: 502, title: 'Bad Gateway' },
  AGGREGATE_FAILED: { status: 502, title: 'Bad Gateway' },
  CIRCUIT_OPEN: { status: 503, title: 'Service Unavailable' },
  UPSTREAM_BUSY: { status: 503, title: 'Service Unavailable' },
  UPSTREAM_TIMEOUT: { status: 504, title: 'Gateway Timeout' },
});

const OWN = new Set(Object.keys(errors));

export function isGatewayError(code: string): boolean {
  return OWN.has(code);
}
