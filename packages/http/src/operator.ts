/**
 * The operator listener: `/metrics`, the detailed `/health`, and what a service adds (the
 * gateway's `/usage`), on a port of its own — `<NAME>_OPERATOR_PORT`, bound to
 * `<NAME>_OPERATOR_HOST` (127.0.0.1 by default). The public port answers only a one-word
 * `/health`, so nothing an ingress routes can read upstream URLs, file paths, consumers
 * or metrics. `runService` and `npm start` open it next to the public port.
 */
import { createServer, type Server as HttpServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { commonErrors, isProblemError, PROBLEM_CONTENT_TYPE, type ProblemError } from '@portico/problem';
import { requestIdFrom } from './request-id.ts';

export interface OperatorAnswer {
  status?: number;
  type: string;
  body: string;
}

/** Answers a GET; `url` carries the query. A ProblemError thrown is answered as itself. */
export type OperatorHandler = (url: URL, headers: IncomingHttpHeaders) => Promise<OperatorAnswer>;

export interface Operator {
  /** Serves GET (and HEAD) `path` on the operator listener; a later handler for a path replaces the earlier. */
  route(path: string, handler: OperatorHandler): void;
  /** Opens the listener; resolves with its URL. */
  listen(options: { port: number; host: string }): Promise<string>;
  /** Where it listens, once it does. */
  readonly url: string | undefined;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    operator: Operator;
  }
}

export function createOperator(): Operator {
  const routes = new Map<string, OperatorHandler>();
  let server: HttpServer | undefined;
  let url: string | undefined;

  function problem(res: import('node:http').ServerResponse, err: ProblemError, id: string, path: string) {
    const body = JSON.stringify(err.toProblem(id, path));
    res.writeHead(err.status, {
      ...err.headers,
      'content-type': PROBLEM_CONTENT_TYPE,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-request-id': id,
    });
    res.end(body);
  }

  return {
    route(path, handler) {
      routes.set(path, handler);
    },
    get url() {
      return url;
    },
    listen({ port, host }) {
      server = createServer(async (req, res) => {
        const id = requestIdFrom(req);
        const path = (req.url ?? '/').split('?')[0]!;
        const handler = routes.get(path);
        if (!handler)
          return problem(res, commonErrors.NOT_FOUND(`No operator endpoint at ${path}`), id, path);
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          return problem(
            res,
            commonErrors.METHOD_NOT_ALLOWED(`${req.method} is not allowed on ${path}`, {
              headers: { allow: 'GET, HEAD' },
            }),
            id,
            path,
          );
        }
        try {
          const answer = await handler(new URL(req.url ?? '/', 'http://operator'), req.headers);
          res.writeHead(answer.status ?? 200, {
            'content-type': answer.type,
            'content-length': Buffer.byteLength(answer.body),
            'cache-control': 'no-store',
            'x-request-id': id,
          });
          res.end(req.method === 'HEAD' ? undefined : answer.body);
        } catch (err) {
          if (isProblemError(err)) return problem(res, err, id, path);
          problem(res, commonErrors.INTERNAL_ERROR('The operator endpoint failed', { cause: err }), id, path);
        }
      });
      const listening = server;
      return new Promise((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, host, () => {
          listening.off('error', reject);
          const address = listening.address() as AddressInfo;
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          url = `http://${shown}:${address.port}`;
          resolve(url);
        });
      });
    },
    close() {
      const open = server;
      server = undefined;
      url = undefined;
      if (!open?.listening) return Promise.resolve();
      return new Promise((resolve) => {
        open.close(() => resolve());
        open.closeAllConnections();
      });
    },
  };
}
