/**
 * Live product changes for the browser as server-sent events (`GET /events/products`):
 * the BFF holds a graphql-ws subscription (`productUpdated`) on the gateway's /graphql
 * with the session's token, so the browser needs neither a token nor a cross-origin socket.
 * Browsers asking for the same subscription with the same credential share one upstream
 * subscription (live-hub.ts): anonymous visitors cost the gateway one socket, not one each.
 * Each event is `event: product` with the product as JSON in the REST API's shape
 * (live-product.ts maps GraphQL's), so the page knows one product shape; an event without
 * every field is a `problem` instead of half a product. `: ping` comments keep proxies
 * from closing an idle stream; EventSource reconnects by itself when the stream ends.
 */
import type { Server } from '@portico/http';
import type { WebConfig } from '../config.ts';
import type { AccessTokens } from '../oidc/tokens.ts';
import type { Sessions } from '../session/sessions.ts';
import { liveHub } from './live-hub.ts';
import { restProduct } from './live-product.ts';

export interface LiveDeps {
  config: WebConfig;
  sessions: Sessions;
  tokens: AccessTokens;
}

export function liveRoutes(server: Server, { config, sessions, tokens }: LiveDeps) {
  const url = `${config.gatewayUrl.replace(/^http/, 'ws')}/graphql`;
  const hub = liveHub(url, server.log);
  server.addHook('preClose', async () => hub.close());

  server.get(
    '/events/products',
    { schema: { tags: ['live'], summary: 'Product changes as server-sent events (text/event-stream)' } },
    async (request, reply) => {
      const session = await sessions.read(request);
      const token = await tokens.forSession(session, request.log).catch(() => undefined);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      res.write('retry: 3000\n\n');

      const heartbeat = setInterval(() => res.write(': ping\n\n'), config.live.heartbeatSeconds * 1000);
      let closed = false;
      let leave = () => {};
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        leave();
        res.end();
      };
      request.raw.on('close', close);
      leave = hub.join(config.live.subscription, token, {
        // Tell the page when the upstream socket is up (a subscription says nothing until a change).
        ready: () => {
          if (!closed) res.write('event: ready\ndata: {}\n\n');
        },
        next: (result) => {
          if (closed) return;
          if (result.data?.productUpdated) {
            const product = restProduct(result.data.productUpdated);
            if (product) {
              res.write(`event: product\ndata: ${JSON.stringify(product)}\n\n`);
            } else {
              request.log.warn({ event: result.data.productUpdated }, 'a live product event lacks fields');
              res.write(
                `event: problem\ndata: ${JSON.stringify({ detail: 'A product change came without every field' })}\n\n`,
              );
            }
          } else if (result.errors) {
            res.write(`event: problem\ndata: ${JSON.stringify({ errors: result.errors })}\n\n`);
          }
        },
        end: (detail) => {
          if (detail && !closed) res.write(`event: problem\ndata: ${JSON.stringify({ detail })}\n\n`);
          close();
        },
      });
      // The browser may have gone while the session was read.
      if (request.raw.destroyed || res.destroyed) close();
    },
  );
}
