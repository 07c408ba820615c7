/**
 * Portico scaled out on one machine: every service as separate replicas (processes, or
 * containers on the host network) on one PostgreSQL and one Redis, HAProxy in front.
 * Each deployment gets its own PostgreSQL schemas, Redis key prefix and loopback ports,
 * so several can share the machine's databases.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '@portico/http/testing';
import pg from 'pg';
import { type Backend, type Haproxy, startHaproxy } from './haproxy.ts';
import type { Launcher, Replica } from './launcher.ts';

const ROOT = join(import.meta.dirname, '../../../..');
const run = promisify(execFile);

/** Replicas of each service, in start order: identity first (the others fetch its keys). */
export const TOPOLOGY = {
  identity: 2,
  catalog: 2,
  users: 1,
  orders: 1,
  payments: 2,
  gateway: 2,
  web: 2,
} as const;
export type Service = keyof typeof TOPOLOGY;
export const SERVICES = Object.keys(TOPOLOGY) as Service[];

/** The one route whose limit the scale-out test counts; every other limit is raised for load. */
export const LIMITED_ROUTE = { path: '/api/v1/categories', limit: 25 } as const;

export interface DeploymentOptions {
  launcher: Launcher;
  /** postgres:// URL; each service gets the schema `<prefix>_<service>`. */
  databaseUrl: string;
  redisUrl: string;
  /** A directory of its own: keys, the gateway and identity files, HAProxy's socket. */
  dir: string;
  /** Seconds before expiry the console refreshes an access token (a big value: every API call refreshes). */
  webRefreshLeewaySeconds?: number;
  /** How long a dead payments replica keeps the sync lease. */
  paymentsLeaseMs?: number;
  /**
   * SHUTDOWN_DELAY_MS of every replica: how long it keeps serving after SIGTERM while its
   * /health says draining. Longer than HAProxy needs to take it out (two checks 500 ms apart).
   */
  shutdownDelayMs?: number;
}

export interface ReplicaInfo {
  service: Service;
  /** `<service>-<n>`, n from 1; also HAProxy's server name. */
  name: string;
  port: number;
  /** Its operator listener: /metrics and the detailed /health. */
  operatorPort: number;
  process: Replica;
  /** Every process this replica has been, oldest first (restarts add one). */
  history: Replica[];
}

export interface Deployment {
  /** What clients use: HAProxy's frontend for the service. */
  url(service: Service): string;
  /** One replica, bypassing HAProxy. */
  replicaUrl(name: string): string;
  /** One replica's operator listener (/metrics). */
  operatorUrl(name: string): string;
  replicas: ReplicaInfo[];
  replica(name: string): ReplicaInfo;
  schema(service: Service): string;
  redisPrefix: string;
  /** alice's and admin's passwords, as the identity replicas made them. */
  logins: Record<string, string>;
  webClientSecret: string;
  haproxy: Haproxy;
  /** Signals a replica and waits for it to stop. */
  stopReplica(name: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | string>;
  /**
   * Takes a replica out of HAProxy's rotation (the runtime API's drain) and resolves once it
   * has no request in flight there, or after `timeoutMs`; returns how long that took.
   */
  drainReplica(name: string, timeoutMs?: number): Promise<number>;
  /** Starts a stopped replica again on its port, puts it back in HAProxy's rotation, waits until it is UP. */
  startReplica(name: string): Promise<void>;
  /** Resolves once the replica answers /health and HAProxy has it UP. */
  waitUp(name: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startDeployment(options: DeploymentOptions): Promise<Deployment> {
  const { launcher, databaseUrl, redisUrl, dir } = options;
  const id = randomBytes(4).toString('hex');
  const schemaPrefix = `scale_${id}`;
  const redisPrefix = `portico:scale:${id}:`;
  const webClientSecret = randomBytes(32).toString('base64url');
  const serviceClientSecret = randomBytes(32).toString('base64url');

  const frontends = {} as Record<Service, number>;
  const replicas: ReplicaInfo[] = [];
  for (const service of SERVICES) {
    frontends[service] = await freePort();
    for (let n = 1; n <= TOPOLOGY[service]; n++) {
      replicas.push({
        service,
        name: `${service}-${n}`,
        port: await freePort(),
        operatorPort: await freePort(),
        process: undefined!,
        history: [],
      });
    }
  }
  const url = (service: Service) => `http://127.0.0.1:${frontends[service]}`;
  const replica = (name: string) => {
    const found = replicas.find((r) => r.name === name);
    if (!found) throw new Error(`no replica ${name}`);
    return found;
  };
  const schema = (service: Service) => `${schemaPrefix}_${service}`;

  // The identity provider's signing keys, shared by its replicas: made once, as an operator would.
  const keysFile = join(dir, 'identity-keys.json');
  await run(process.execPath, [join(ROOT, 'services/identity/src/cli/rotate-keys.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, IDENTITY_KEYS_FILE: keysFile, PORTICO_DATA_DIR: dir },
  });
  const identityFile = join(dir, 'identity.yaml');
  writeFileSync(identityFile, identityYaml(url('web')));
  const gatewayFile = join(dir, 'gateway.yaml');
  writeFileSync(gatewayFile, gatewayYaml(url));
  const webFile = join(dir, 'web.yaml');
  writeFileSync(webFile, `oidc: { refreshLeewaySeconds: ${options.webRefreshLeewaySeconds ?? 60} }\n`);

  const env = (info: ReplicaInfo): Record<string, string> => {
    const NAME = info.service.toUpperCase();
    const common = {
      LOG_LEVEL: 'warn',
      PORTICO_DATA_DIR: dir,
      SHUTDOWN_DELAY_MS: String(options.shutdownDelayMs ?? 2000),
      DATABASE_URL: databaseUrl,
      [`${NAME}_DATABASE_SCHEMA`]: schema(info.service),
      [`${NAME}_PORT`]: String(info.port),
      [`${NAME}_HOST`]: '127.0.0.1',
      [`${NAME}_OPERATOR_PORT`]: String(info.operatorPort),
      AUTH_ISSUER: url('identity'),
      AUTH_AUDIENCE: url('gateway'),
      AUTH_JWKS_URI: `${url('identity')}/jwks`,
      // Identity publishes revocations here; the gateways and services hear them.
      REDIS_URL: redisUrl,
      AUTH_REVOCATION_PREFIX: redisPrefix,
    };
    switch (info.service) {
      case 'identity':
        return {
          ...common,
          IDENTITY_CONFIG_FILE: identityFile,
          IDENTITY_ISSUER: url('identity'),
          IDENTITY_API_AUDIENCE: url('gateway'),
          IDENTITY_KEYS_FILE: keysFile,
          IDENTITY_DEMO_LOGINS_FILE: join(dir, `${info.name}-logins.json`),
          PORTICO_WEB_CLIENT_SECRET: webClientSecret,
          PORTICO_SERVICE_CLIENT_SECRET: serviceClientSecret,
        };
      case 'catalog':
        return { ...common, PUBSUB_KEY_PREFIX: redisPrefix };
      case 'users':
        return common;
      case 'orders':
        // Orders announce placed and cancelled orders on the catalogs' pub/sub.
        return { ...common, PUBSUB_KEY_PREFIX: redisPrefix, CATALOG_URL: url('catalog') };
      case 'payments':
        return {
          ...common,
          ORDERS_URL: url('orders'),
          PAYMENTS_TOKEN_URL: `${url('identity')}/token`,
          PORTICO_SERVICE_CLIENT_SECRET: serviceClientSecret,
          PAYMENTS_ORDER_SYNC_INTERVAL_MS: '200',
          PAYMENTS_ORDER_SYNC_LEASE_MS: String(options.paymentsLeaseMs ?? 2000),
        };
      case 'gateway':
        return {
          ...common,
          GATEWAY_FILE: gatewayFile,
          GATEWAY_WATCH: 'false',
          GATEWAY_REDIS_PREFIX: `${redisPrefix}gw:`,
        };
      case 'web':
        return {
          ...common,
          WEB_CONFIG_FILE: webFile,
          WEB_PUBLIC_URL: url('web'),
          WEB_GATEWAY_URL: url('gateway'),
          WEB_OIDC_ISSUER: url('identity'),
          PORTICO_WEB_CLIENT_SECRET: webClientSecret,
        };
    }
  };

  let stopped = false;
  const launch = (info: ReplicaInfo) => {
    // A restart still under way when the deployment stops must not leave a replica behind.
    if (stopped) throw new Error(`${info.name} not started: the deployment is stopping`);
    info.process = launcher.start(info.service, info.name, env(info));
    info.history.push(info.process);
  };

  const waitHealthy = async (info: ReplicaInfo, deadline: number) => {
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${info.port}/health`).catch(() => undefined);
      await res?.body?.cancel();
      if (res?.ok) return;
      const code = await Promise.race([info.process.exited, sleep(100, undefined)]);
      if (code !== undefined) throw new ExitedWhileStarting(info, code);
      if (stopped) throw new Error(`${info.name}: the deployment is stopping`);
      if (Date.now() > deadline)
        throw new Error(`${info.name} not healthy in time:\n${info.process.output()}`);
    }
  };

  const backends: Backend[] = SERVICES.map((service) => ({
    service,
    port: frontends[service],
    servers: replicas.filter((r) => r.service === service).map((r) => ({ name: r.name, port: r.port })),
  }));
  const haproxy = await startHaproxy(dir, backends);

  /**
   * Launches a replica and waits until it answers /health. One that exits while starting
   * (PostgreSQL or Redis too slow to answer on a busy machine) is started again, as an
   * orchestrator restarts a container that failed, at most `attempts` times.
   */
  const launchHealthy = async (info: ReplicaInfo, deadline: number, attempts = 3) => {
    for (let attempt = 1; ; attempt++) {
      launch(info);
      try {
        return await waitHealthy(info, deadline);
      } catch (err) {
        if (!(err instanceof ExitedWhileStarting) || attempt >= attempts || stopped) throw err;
      }
    }
  };

  const waitUp = async (name: string, timeoutMs = 300_000) => {
    const deadline = Date.now() + timeoutMs;
    await waitHealthy(replica(name), deadline);
    while ((await haproxy.status()).get(name) !== 'UP') {
      if (Date.now() > deadline) throw new Error(`HAProxy never saw ${name} UP`);
      await sleep(100);
    }
  };

  const deployment: Deployment = {
    url,
    replicaUrl: (name) => `http://127.0.0.1:${replica(name).port}`,
    operatorUrl: (name) => `http://127.0.0.1:${replica(name).operatorPort}`,
    replicas,
    replica,
    schema,
    redisPrefix,
    logins: {},
    webClientSecret,
    haproxy,
    async stopReplica(name, signal) {
      const info = replica(name);
      await info.process.signal(signal);
      return info.process.exited;
    },
    async drainReplica(name, timeoutMs = 30_000) {
      const t0 = Date.now();
      const { service } = replica(name);
      await haproxy.drain(service, name);
      for (;;) {
        const stat = (await haproxy.servers()).get(name);
        if (!stat || (stat.sessions === 0 && stat.queued === 0)) break;
        if (Date.now() - t0 > timeoutMs) break;
        await sleep(50);
      }
      return Date.now() - t0;
    },
    async startReplica(name) {
      const info = replica(name);
      await launchHealthy(info, Date.now() + 300_000);
      await haproxy.ready(info.service, name);
      await waitUp(name);
    },
    waitUp,
    async stop() {
      stopped = true;
      await Promise.all(
        [...replicas].reverse().map(async (r) => {
          await r.process?.signal('SIGTERM');
          const stopped = await Promise.race([r.process?.exited, sleep(10_000, 'timeout')]);
          if (stopped === 'timeout') await r.process.signal('SIGKILL');
        }),
      );
      await haproxy.stop();
      await dropSchemas(databaseUrl, SERVICES.map(schema));
    },
  };

  try {
    // Identity's replicas together, then every other replica at once: each service's
    // replicas run their migrations on a fresh schema at the same moment.
    const start = async (group: ReplicaInfo[]) => {
      const deadline = Date.now() + 420_000;
      // Once each: a replica that fails here (a migration that conflicted) fails the start.
      await Promise.all(group.map((r) => launchHealthy(r, deadline, 1)));
    };
    await start(replicas.filter((r) => r.service === 'identity'));
    await start(replicas.filter((r) => r.service !== 'identity'));
    await Promise.all(replicas.map((r) => waitUp(r.name)));
    // Each identity replica made the demo accounts it got to first; together they made both.
    for (const r of replicas.filter((x) => x.service === 'identity')) {
      try {
        const file = JSON.parse(readFileSync(join(dir, `${r.name}-logins.json`), 'utf8'));
        for (const login of file.logins) deployment.logins[login.username] = login.password;
      } catch {}
    }
  } catch (err) {
    await deployment.stop().catch(() => {});
    throw err;
  }
  return deployment;
}

class ExitedWhileStarting extends Error {
  constructor(info: ReplicaInfo, code: number | string) {
    super(`${info.name} exited (${code}) while starting:\n${info.process.output()}`);
  }
}

async function dropSchemas(databaseUrl: string, schemas: string[]) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`drop schema if exists ${s} cascade`);
  } finally {
    await client.end();
  }
}

/**
 * The embedded gateway file with its upstreams on HAProxy and limits raised for load, but one.
 * Each upstream's one instance is HAProxy's frontend, which checks, drains and retries over
 * the replicas itself. Ejecting that one address refuses every request to the service (503
 * CIRCUIT_OPEN), so the gateway's own means are kept for an outage: no periodic check, and
 * the checks its /health makes (HAProxy asks every 500 ms) eject only after ten failures in
 * a row; no stall ejection; a breaker that opens after 100 failures in a row, not five slow
 * answers on a busy machine.
 */
function gatewayYaml(url: (service: Service) => string): string {
  const embedded = readFileSync(join(ROOT, 'services/gateway/gateway.yaml'), 'utf8');
  const ports: Record<string, Service> = {
    '8001': 'users',
    '8002': 'catalog',
    '8003': 'orders',
    '8004': 'payments',
    '9000': 'identity',
  };
  return embedded
    .replace(
      /\[http:\/\/127\.0\.0\.1:(800[1-4]|9000)\], healthCheck: \{[^}]*\}/g,
      (_, port: string) =>
        `[${url(ports[port]!)}], healthCheck: { unhealthyAfter: 10 }, breaker: { stallAfter: 0, failures: 100 }`,
    )
    .replace(/origins: \[http:\/\/localhost:3000\]/, `origins: [${url('web')}]`)
    .replace(
      /- name: (\S+)\n((?: {4}.*\n)*?) {4}rateLimit: \{ limit: (\d+), window: 1m \}/g,
      (_all, name, between, limit) => {
        const value = name === 'categories' ? LIMITED_ROUTE.limit : Number(limit) * 1000;
        return `- name: ${name}\n${between}    rateLimit: { limit: ${value}, window: 1m }`;
      },
    );
}

/** Identity's clients with the console's public address; demo accounts on for the test's logins. */
function identityYaml(webUrl: string): string {
  const api =
    'catalog:read catalog:write orders:read orders:write payments:read payments:write users:read users:write';
  return `api: { accessTokenTtlSeconds: 3600 }
clients:
  - client_id: portico-web
    client_name: Portico console
    token_endpoint_auth_method: client_secret_basic
    grant_types: [authorization_code, refresh_token]
    redirect_uris: [${webUrl}/callback]
    post_logout_redirect_uris: [${webUrl}/]
    scope: openid profile email offline_access ${api}
    first_party: true
  - client_id: portico-cli
    client_name: Portico token CLI
    token_endpoint_auth_method: none
    grant_types: [authorization_code, refresh_token]
    redirect_uris: [http://127.0.0.1/callback]
    scope: openid profile email offline_access ${api}
    application_type: native
    first_party: true
  - client_id: portico-service
    client_name: Portico service-to-service
    token_endpoint_auth_method: client_secret_basic
    grant_types: [client_credentials]
    scope: ${api} orders:pay
`;
}
