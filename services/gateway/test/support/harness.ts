/** Real upstreams and real gateways on port 0, for behaviour tests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenVerifier } from '@portico/auth';
import { loadConfig } from '@portico/config';
import type { KvStore } from '@portico/store/kv';
import type { FastifyInstance } from 'fastify';
import { build, ConfigSchema, type GatewayConfig, type GatewayFile } from '../../src/build.ts';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestUpstream {
  url: string;
  port: number;
  seen: Seen[];
  server: Server;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

/** Answers 200 with what it received as JSON, unless `handler` answers otherwise. */
export const echo: Handler = (_req, res, seen) => {
  const body = JSON.stringify(seen);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

export async function startUpstream(handler: Handler = echo, port = 0): Promise<TestUpstream> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(entry);
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"healthy"}');
        return;
      }
      handler(req, res, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    seen,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestGateway {
  url: string;
  /** The operator listener: /metrics, the detailed /health, /usage. */
  operatorUrl: string;
  server: FastifyInstance;
  close(): Promise<void>;
}

export async function startGateway(
  definition: GatewayFile | undefined,
  options: {
    verifier?: TokenVerifier;
    kv?: KvStore;
    config?: Partial<GatewayConfig>;
    logStream?: { write(line: string): void };
  } = {},
): Promise<TestGateway> {
  const config = loadConfig('gateway', ConfigSchema, {
    env: {},
    overrides: { port: 0, logLevel: 'silent', watch: false, ...options.config } as never,
  });
  const server = await build(config, {
    verifier: options.verifier,
    definition,
    kv: options.kv,
    logStream: options.logStream,
  });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.server.address() as AddressInfo).port;
  const operatorUrl = await server.operator.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${port}`, operatorUrl, server, close: () => server.close() };
}

/** A gateway file with one upstream and the given routes. */
export function definition(
  upstreams: Record<string, string[]>,
  routes: GatewayFile['routes'],
  extra: Partial<GatewayFile> = {},
): GatewayFile {
  return {
    upstreams: Object.fromEntries(
      Object.entries(upstreams).map(([name, instances]) => [
        name,
        { instances } as GatewayFile['upstreams'][string],
      ]),
    ),
    routes,
    ...extra,
  } as GatewayFile;
}

export async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

/** The value of the one sample of `name` whose labels include all of `labels`, or undefined. */
export function metric(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.split(' ').pop());
  }
  return undefined;
}
