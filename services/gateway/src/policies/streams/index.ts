/**
 * Event streams (SSE: a request that asks for `text/event-stream`, as EventSource and
 * graphql-sse clients do) hold a connection as a WebSocket does, so they take a slot of the
 * consumer's connection cap on the route (429 past it) until the client goes away. Their
 * idle timeout is the route's `bodyTimeout`: the longest gap between two chunks.
 */
import { Type } from '@portico/config';
import { consumerOf } from '../../context.ts';
import { definePolicy } from '../../policy.ts';

const EVENT_STREAM = /(?:^|,)\s*text\/event-stream\s*(?:;|,|$)/i;

export const streams = definePolicy({
  name: 'streams',
  priority: 950,
  route: {
    maxConnections: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Open WebSocket and event-stream connections per consumer on this route',
      }),
    ),
  },
  defaults: { maxConnections: Type.Integer({ minimum: 1, default: 20 }) },
  create({ maxConnections: max = 20 }, route, gateway) {
    return (ctx, next) => {
      const accept = ctx.req.headers.accept;
      if (accept === undefined || !EVENT_STREAM.test(accept)) return next();
      const release = gateway.connections.acquire(`${route.name}:${consumerOf(ctx)}`, max);
      ctx.res.once('close', release);
      return next();
    };
  },
});
