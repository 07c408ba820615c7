/**
 * Conditional requests (RFC 9110 §13): `If-None-Match` on reads answers 304,
 * `If-Match` on writes answers 412 when the client's copy is stale.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { commonErrors } from '@portico/problem';
import type { FastifyReply, FastifyRequest } from 'fastify';

export function etagFor(...parts: Array<string | number>): string {
  return `"${createHash('sha1').update(parts.join('\u0000')).digest('base64url').slice(0, 22)}"`;
}

function listed(header: string): string[] {
  return header.split(',').map((tag) => tag.trim());
}

const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);

/** True when the client's cached copy (If-None-Match, weak comparison) is current. */
export function isFresh(request: { headers: IncomingHttpHeaders }, etag: string): boolean {
  const header = request.headers['if-none-match'];
  if (!header) return false;
  return listed(header).some((tag) => tag === '*' || opaque(tag) === opaque(etag));
}

/** Throws 412 unless If-Match (strong comparison) names the current version; no header, no check. */
export function checkPreconditions(request: FastifyRequest, currentEtag: string): void {
  const header = request.headers['if-match'];
  if (!header) return;
  const ok = listed(header).some((tag) => tag === '*' || (!tag.startsWith('W/') && tag === currentEtag));
  if (!ok) {
    throw commonErrors.PRECONDITION_FAILED(
      'The resource has changed since you read it (If-Match does not match)',
      {
        extensions: { current_etag: currentEtag },
      },
    );
  }
}

/** 304 Not Modified: no body, no Content-Length/Type claiming one (RFC 9110 §15.4.5). */
export function notModified(reply: FastifyReply): FastifyReply {
  reply.code(304).removeHeader('content-type').removeHeader('content-length');
  return reply.send();
}
