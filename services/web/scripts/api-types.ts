/**
 * The console's API types (public/api/schema.generated.d.ts), from the document the gateway
 * serves at `/openapi.json` on the embedded configuration: the gateway's upstreams built in
 * process on their embedded defaults (a throw-away SQLite directory, listening on nothing, each
 * document read with `inject`), merged by the gateway built from the embedded gateway.yaml, and
 * turned into TypeScript by openapi-typescript. `npm run api-types -w services/web` writes the
 * file; test/api-types.test.ts fails while the committed one is stale, and once it is
 * regenerated `tsc` fails wherever the console uses what the contract changed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as catalog from '@portico/catalog';
import { loadConfig, type TSchema } from '@portico/config';
import * as gateway from '@portico/gateway';
import { EMBEDDED_FILE } from '@portico/gateway/config';
import type { OpenApiDocument, ServiceModule } from '@portico/http';
import * as identity from '@portico/identity';
import * as orders from '@portico/orders';
import * as payments from '@portico/payments';
import * as users from '@portico/users';
import type { FastifyInstance } from 'fastify';
import openapiTS, { astToString } from 'openapi-typescript';
import { parse } from 'yaml';

export const SCHEMA_FILE = new URL('../public/api/schema.generated.d.ts', import.meta.url);

/** The services the embedded gateway file names as upstreams, by that name. */
const UPSTREAMS: Record<string, ServiceModule<TSchema>> = {
  identity: identity as unknown as ServiceModule<TSchema>,
  catalog: catalog as unknown as ServiceModule<TSchema>,
  users: users as unknown as ServiceModule<TSchema>,
  orders: orders as unknown as ServiceModule<TSchema>,
  payments: payments as unknown as ServiceModule<TSchema>,
};

// Fixed, so the document does not depend on who runs this: no variable of the caller's is read.
const ENV = {
  CATALOG_DEMO_DATA: 'false',
  PORTICO_WEB_CLIENT_SECRET: 'api-types-only',
  PORTICO_SERVICE_CLIENT_SECRET: 'api-types-only',
};

async function documentOf(server: FastifyInstance, name: string): Promise<OpenApiDocument> {
  const res = await server.inject({ method: 'GET', url: '/openapi.json' });
  if (res.statusCode !== 200)
    throw new Error(`${name} /openapi.json answered ${res.statusCode}: ${res.body}`);
  return res.json() as OpenApiDocument;
}

/** The gateway's `/openapi.json` on the embedded configuration, built without a socket. */
export async function mergedDocument(): Promise<OpenApiDocument> {
  const file = parse(readFileSync(EMBEDDED_FILE, 'utf8')) as gateway.GatewayFile;
  const dir = mkdtempSync(join(tmpdir(), 'portico-api-types-'));
  const started: FastifyInstance[] = [];
  const byInstance = new Map<string, { name: string; server: FastifyInstance }>();
  try {
    for (const [name, upstream] of Object.entries(file.upstreams)) {
      const module = UPSTREAMS[name];
      if (!module)
        throw new Error(`the embedded gateway file names an upstream ${name} this script cannot build`);
      const schema = module.ConfigSchema as TSchema & { properties: object };
      const config = loadConfig(name, schema, {
        env: ENV,
        overrides: {
          logLevel: 'silent',
          ...('databaseUrl' in schema.properties ? { databaseUrl: `sqlite:${join(dir, `${name}.db`)}` } : {}),
          ...(name === 'identity' ? { keysFile: '', demoLoginsFile: '', demoAccounts: false } : {}),
        } as never,
      });
      const server = await module.build(config);
      started.push(server);
      for (const instance of upstream.instances) byInstance.set(instance, { name, server });
      // Nothing listens at the file's addresses: no health checks against them.
      delete upstream.healthCheck;
    }
    const config = loadConfig('gateway', gateway.ConfigSchema, {
      env: {},
      overrides: { logLevel: 'silent', watch: false } as never,
    });
    const server = await gateway.build(config, {
      definition: file,
      readDocument: async (instance) => {
        const upstream = byInstance.get(instance);
        if (!upstream) throw new Error(`no service built for ${instance}`);
        return documentOf(upstream.server, upstream.name);
      },
    });
    started.push(server);
    const document = (await documentOf(server, 'gateway')) as OpenApiDocument & {
      'x-portico-missing-upstreams'?: string[];
    };
    const missing = document['x-portico-missing-upstreams'];
    if (missing) throw new Error(`the merged document lacks ${missing.join(', ')}`);
    // Where this one process was asked from says nothing about the API.
    delete document.servers;
    return document;
  } finally {
    for (const server of started.reverse()) await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The types file's text for a document. */
export async function schemaTypes(document: OpenApiDocument): Promise<string> {
  const ast = await openapiTS(document as never, { silent: true, alphabetize: true });
  return [
    '// Generated from the gateway’s merged OpenAPI document by services/web/scripts/api-types.ts',
    '// (`npm run api-types -w services/web`): do not edit.',
    astToString(ast),
  ].join('\n');
}

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, await schemaTypes(await mergedDocument()));
  console.log(`wrote ${SCHEMA_FILE.pathname}`);
}
