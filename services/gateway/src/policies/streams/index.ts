/**
 * Long-lived connections: WebSocket sessions, and event streams (SSE: a request that asks for
 * `text/event-stream`, as EventSource and graphql-sse clients do), which hold a connection as
 * a WebSocket does. Each takes a slot of the consumer's connection cap on the route (429 past
 * `maxConnections`) until its socket closes. An event stream's idle timeout is the route's
 * `bodyTimeout` (the longest gap between two chunks); a WebSocket's is `idleTimeout`.
 */
import { Type } from '@portico/config';
import { consumerOf } from '../../context.ts';
import { definePolicy } from '../../policy.ts';

const EVENT_STREAM = /(?:^|,)\s*text\/event-stream\s*(?:;|,|$)/i;

export const streams = definePolicy({
  name: 'streams',
  priority: 950,
  upgrades: true,
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
      if (!ctx.upgrade && (accept === undefined || !EVENT_STREAM.test(accept))) return next();
      const release = gateway.connections.acquire(`${route.name}:${consumerOf(ctx)}`, max);
      ctx.res.once('close', release);
      return next();
    };
  },
});
