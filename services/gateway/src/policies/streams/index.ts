/**
 * Event streams (SSE: a request that asks for `text/event-stream`, as EventSource and
 * graphql-sse clients do) hold a connection as a WebSocket does, so they take a slot of the
 * consumer's connection cap on the route (429 past it) until the client goes away. Their
 * idle timeout is the route's `bodyTimeout`: the longest gap between two chunks.
 */
import type { RouteDef } from '../../config.ts';
import type { Connections } from '../../connections.ts';
import { consumerOf, type Policy } from '../../context.ts';

const EVENT_STREAM = /(?:^|,)\s*text\/event-stream\s*(?:;|,|$)/i;

export function streams(route: RouteDef, max: number, connections: Connections): Policy {
  return (ctx, next) => {
    const accept = ctx.req.headers.accept;
    if (accept === undefined || !EVENT_STREAM.test(accept)) return next();
    const release = connections.acquire(`${route.name}:${consumerOf(ctx)}`, max);
    ctx.res.once('close', release);
    return next();
  };
}
