/**
 * The headers every catalog read carries, and the 304 it answers when the client's copy is current.
 */
import { isFresh, notModified } from '@portico/http';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const READ_CACHE_CONTROL = 'public, max-age=5';

/** Sets the read's ETag and Cache-Control; true (and 304 sent) when If-None-Match names it. */
export function answeredNotModified(request: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  reply.header('etag', etag).header('cache-control', READ_CACHE_CONTROL);
  if (!isFresh(request, etag)) return false;
  notModified(reply);
  return true;
}
