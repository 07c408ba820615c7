/**
 * `npm start`: the whole platform on embedded defaults, one process, one port per
 * service. Prints where to go once every service listens; Ctrl-C closes them all.
 */
import { ConfigError, dataDir, loadConfig } from '@portico/config';
import type { PubSub } from '@portico/store/pubsub';
import { recentTraceStore, startTelemetry, stopTelemetry } from '@portico/telemetry';
import type { FastifyInstance } from 'fastify';
import { banner, type DemoLogin } from './banner.ts';
import { provideEmbeddedSecrets } from './secrets.ts';

const t0 = performance.now();
const started: FastifyInstance[] = [];
const urls: Record<string, string> = {};
const operators: Record<string, string> = {};
let identity: { demoLogins?: DemoLogin[]; demoLoginsFile?: string } = {};

async function stop(code: number) {
  await Promise.allSettled(started.map((server) => server.close()));
  await stopTelemetry().catch(() => {});
  process.exit(code);
}
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

// Before the services' modules load: the instrumentations patch them as they do. Without an
// exporter configured, the last 200 traces stay in process (/traces on each operator port).
await startTelemetry('portico', { recentTraces: 200 });
// Before the services' modules load: their config defaults read these variables.
provideEmbeddedSecrets(dataDir);
const { services } = await import('./services.ts');
const { createMemoryPubSub } = await import('@portico/store/pubsub');
// Services exchange events on pub/sub (orders → catalog). In one process without Redis they
// share one in-process bus; with REDIS_URL each connects to Redis itself.
const bus: PubSub | undefined = process.env.REDIS_URL ? undefined : createMemoryPubSub();
type Build = (config: unknown, deps: { pubsub?: PubSub }) => Promise<FastifyInstance>;

// The developer set-up: GraphiQL and introspection on (both off by default elsewhere). The
// console calls the gateway over loopback: it is the trusted hop that names each visitor.
const env = {
  LOG_LEVEL: 'warn',
  GRAPHQL_INTROSPECTION: 'true',
  GRAPHQL_GRAPHIQL: 'true',
  GATEWAY_TRUSTED_PROXIES: 'loopback',
  ...process.env,
};
// Every service's settings are checked before any starts, and every bad one is said at once.
const configs = new Map<string, unknown>();
const refused: string[] = [];
for (const { name, module } of services) {
  try {
    configs.set(name, loadConfig(name, module.ConfigSchema, { env }));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    refused.push(err.message);
  }
}
if (refused.length > 0) {
  console.error(refused.join('\n'));
  await stop(1);
}

for (const { name, module } of services) {
  let port = 0;
  let portKey = 'PORT';
  try {
    const config = configs.get(name);
    const server = await (module.build as Build)(config, bus ? { pubsub: bus } : {});
    started.push(server);
    const { host, operatorPort, operatorHost } = config as {
      host: string;
      operatorPort: number;
      operatorHost: string;
    };
    port = (config as { port: number }).port;
    await server.listen({ port, host });
    urls[name] = `http://${host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host}:${port}`;
    port = operatorPort;
    portKey = 'OPERATOR_PORT';
    operators[name] = await server.operator.listen({ port: operatorPort, host: operatorHost });
    if (name === 'identity') identity = server as typeof identity;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(
        `${name} cannot listen on port ${port}: something else uses it (another \`npm start\`?). ` +
          `Stop it, or choose another port with ${name.toUpperCase()}_${portKey}.`,
      );
    } else {
      console.error(err instanceof ConfigError ? err.message : err);
    }
    await stop(1);
  }
}

console.log(
  `\n${banner({
    ms: Math.round(performance.now() - t0),
    dataDir,
    urls,
    operators,
    logins: identity.demoLogins ?? [],
    loginsFile: identity.demoLoginsFile,
    traces: recentTraceStore() !== undefined,
  })}`,
);
