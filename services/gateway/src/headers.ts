/**
 * Header hygiene (RFC 9110 §7.6.1): hop-by-hop headers, and every header named in
 * `Connection`, belong to one connection and are dropped in both directions.
 * Identity headers are the gateway's to set: whatever a client sends under that
 * name is removed before the gateway adds the verified ones.
 *
 * The client's address (for rate limits, usage and X-Forwarded-For): X-Forwarded-For is read
 * from the right, each hop only when the address that handed it over is a trusted proxy, so a
 * client can put anything on the left of the list and never choose its own address
 * (the rule of RFC 7239 §8.3 for Forwarded, applied to X-Forwarded-For). Trusted proxies are
 * configured: none (the default), a number of hops, or addresses and CIDR ranges
 * (`trustedProxies` in @portico/http, shared with the console).
 */
import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { propagating } from '@portico/telemetry';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export const USER_ID_HEADER = 'x-gateway-user-id';
export const USER_ROLES_HEADER = 'x-gateway-user-roles';
const IDENTITY_PREFIX = 'x-gateway-';

/** W3C Trace Context: version 00, non-zero trace and parent ids. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // The usual value names only a header that is hop-by-hop anyway: nothing more to drop.
  if (!value || value === 'keep-alive') return undefined;
  const tokens = new Set<string>();
  for (const token of String(value).split(',')) tokens.add(token.trim().toLowerCase());
  return tokens;
}

/** Headers for the upstream request (a WebSocket's too: `ws` adds its own handshake headers). */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  requestId: string,
  clientIp: string,
): IncomingHttpHeaders {
  const incoming = req.headers;
  const named = connectionTokens(incoming.connection);
  const out: IncomingHttpHeaders = {};
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    if (name.startsWith(IDENTITY_PREFIX)) continue;
    switch (name) {
      case 'host':
      case 'content-length':
      case 'x-request-id':
      case 'traceparent':
      case 'tracestate':
      case 'x-forwarded-for':
      case 'x-forwarded-host':
      case 'x-forwarded-proto':
      case 'forwarded':
      case 'via':
      // Answered here (expect.ts); the body is read whole before the request goes upstream.
      case 'expect':
        continue;
    }
    out[name] = incoming[name];
  }
  out['x-request-id'] = requestId;
  const traceparent = incoming.traceparent;
  if (propagating()) {
    // Tracing is on: the server span continued the client's trace (or started one) and the
    // upstream client's span sends it on, as its own parent. Nothing to add here.
  } else if (typeof traceparent === 'string' && TRACEPARENT.test(traceparent)) {
    out.traceparent = traceparent;
    if (incoming.tracestate) out.tracestate = incoming.tracestate;
  } else {
    out.traceparent = newTraceparent();
  }
  const forwardedFor = incoming['x-forwarded-for'];
  out['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${clientIp}` : clientIp;
  if (incoming.host) out['x-forwarded-host'] = incoming.host;
  out['x-forwarded-proto'] = 'http';
  // RFC 9110 §7.6.3: an HTTP-to-HTTP gateway sends Via on every request it forwards.
  const via = incoming.via;
  out.via = via ? `${via}, 1.1 portico-gateway` : '1.1 portico-gateway';
  return out;
}

// Random ids for new traces, drawn from a pool refilled every 256 traces (one getrandom per refill).
const IDS = 24;
const pool = Buffer.allocUnsafe(IDS * 256);
let drawn = pool.length;

/** A sampled W3C traceparent with a new 16-byte trace id and 8-byte parent id. */
function newTraceparent(): string {
  if (drawn === pool.length) {
    randomFillSync(pool);
    drawn = 0;
  }
  const at = drawn;
  drawn += IDS;
  // One bit set in each id: all-zero ids are invalid (W3C Trace Context §3.2.2.3-4).
  pool[at] = pool[at]! | 1;
  pool[at + 16] = pool[at + 16]! | 1;
  return `00-${pool.toString('hex', at, at + 16)}-${pool.toString('hex', at + 16, at + IDS)}-01`;
}

/** The upstream's response headers without hop-by-hop ones. */
export function downstreamHeaders(
  headers: Record<string, string | string[] | undefined>,
): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * Ends a response with a small body in one socket write. Node joins the head and the first
 * chunk into one string write when the chunk is a string; a Buffer goes out as a writev of two.
 * latin1 maps bytes to characters one to one, so the bytes on the wire are unchanged.
 */
export function endWith(res: import('node:http').ServerResponse, body: Buffer): void {
  if (body.length <= 16_384) res.end(body.toString('latin1'), 'latin1');
  else res.end(body);
}
