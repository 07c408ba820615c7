import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError, loadConfig, type Static, type TSchema } from '@portico/config';
import { stopTelemetry } from '@portico/telemetry';
import type { FastifyInstance } from 'fastify';

/** What every service module exports, so it can run alone or inside the all-in-one platform. */
export interface ServiceModule<S extends TSchema = TSchema> {
  ConfigSchema: S;
  build(config: Static<S>): Promise<FastifyInstance>;
}

export interface ServiceConfig {
  port: number;
  host: string;
  shutdownDelayMs?: number;
  shutdownTimeoutMs?: number;
  operatorPort: number;
  operatorHost: string;
}

/**
 * A service's `main.ts`: read config (file from `<NAME>_CONFIG_FILE`, then environment),
 * build, listen, and shut down gracefully on SIGTERM/SIGINT. A bad config exits 1 with the key named.
 *
 * Shutdown (what a rolling restart needs to lose no request):
 * 1. draining: `/health` answers 503 `{"status":"draining"}` and every answer carries
 *    `Connection: close`, so keep-alive clients (the gateway's pools) move to other instances;
 *    requests keep being served for `shutdownDelayMs` (SIGTERM only), while load balancers
 *    and health checks notice;
 * 2. the listener closes (new connections are refused; the gateway retries those elsewhere),
 *    idle connections close, requests and streams in flight finish, then the `onClose` hooks
 *    close databases and stores;
 * 3. whatever is still open after `shutdownTimeoutMs` is cut and the process exits 1.
 */
export async function runService<S extends TSchema>(
  name: string,
  module: ServiceModule<S>,
): Promise<FastifyInstance> {
  let config: Static<S>;
  let server: FastifyInstance;
  try {
    config = loadConfig(name, module.ConfigSchema, {
      file: process.env[`${name.toUpperCase()}_CONFIG_FILE`],
    });
    // What the schema cannot say (web's client secret, a gateway file) is build's ConfigError.
    server = await module.build(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const settings = config as unknown as ServiceConfig;
  const drain = drainable(server.server);
  await server.listen({ port: settings.port, host: settings.host });
  const operator = await server.operator.listen({ port: settings.operatorPort, host: settings.operatorHost });
  server.log.info({ url: operator }, 'operator endpoints (/metrics, /health) listening');
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const delay = signal === 'SIGTERM' ? (settings.shutdownDelayMs ?? 0) : 0;
    const budget = settings.shutdownTimeoutMs ?? 10_000;
    server.log.info({ signal, delay_ms: delay, budget_ms: budget }, 'draining');
    drain.start();
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const cut = setTimeout(() => {
      server.log.warn({ budget_ms: budget }, 'shutdown budget spent: cutting the connections still open');
      server.server.closeAllConnections();
      setTimeout(() => process.exit(1), 500).unref();
    }, budget);
    cut.unref();
    try {
      await server.close();
    } catch (err) {
      server.log.error({ err }, 'closing failed');
      process.exit(1);
    }
    clearTimeout(cut);
    // Spans still batched go to the collector before the process ends.
    await stopTelemetry().catch((err) => server.log.warn({ err }, 'flushing traces failed'));
    server.log.info('stopped');
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}

/**
 * Puts itself in front of the server's request listeners: once draining, `/health` is 503
 * and every answer closes its connection.
 */
function drainable(http: HttpServer) {
  let draining = false;
  const listeners = http.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  http.removeAllListeners('request');
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (draining) {
      res.shouldKeepAlive = false;
      res.setHeader('connection', 'close');
      if (req.url === '/health' || req.url?.startsWith('/health?')) {
        res.writeHead(503, {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-store',
        });
        res.end('{"status":"draining"}');
        return;
      }
    }
    for (const listener of listeners) listener.call(http, req, res);
  });
  return {
    start() {
      // Idle connections are left open until the listener closes: each one used meanwhile is
      // answered and then closed, so fewer race a client writing to them as they close.
      draining = true;
    },
  };
}
