/**
 * The edge under attack: a real catalog (SQLite in memory, demo data) behind a real gateway,
 * both on port 0, with a test issuer whose tokens both verify. `raw` speaks HTTP/1.1 over a
 * plain socket, so framing the clients would refuse to send can be sent.
 */
import { connect } from 'node:net';
import { createTestIssuer, type TestIssuer } from '@portico/auth/testing';
import { build as buildCatalog, ConfigSchema as CatalogSchema } from '@portico/catalog';
import { loadConfig } from '@portico/config';
import type { FastifyInstance } from 'fastify';
import type { GatewayFile } from '../../src/build.ts';
import { definition, startGateway, type TestGateway } from '../support/harness.ts';

export interface Edge {
  gateway: TestGateway;
  catalog: FastifyInstance;
  catalogUrl: string;
  issuer: TestIssuer;
  /** Signatures the gateway has checked so far (cache misses that reached the verifier). */
  verifications(): number;
  /** Bearer header for a customer with the given scopes. */
  bearer(scope?: string, sub?: string): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

export async function startEdge(
  routes: (catalog: string) => GatewayFile['routes'],
  extra: Partial<GatewayFile> = {},
  upstreams: Record<string, string[]> = {},
): Promise<Edge> {
  const issuer = await createTestIssuer();
  const config = loadConfig('catalog', CatalogSchema, {
    env: {},
    overrides: { databaseUrl: 'sqlite::memory:', logLevel: 'silent' } as never,
  });
  const catalog = await buildCatalog(config, { verifier: issuer.verifier });
  const catalogUrl = await catalog.listen({ port: 0, host: '127.0.0.1' });
  let verifications = 0;
  const gateway = await startGateway(
    definition({ catalog: [catalogUrl], ...upstreams }, routes('catalog'), extra),
    {
      verifier: {
        verify(token) {
          verifications++;
          return issuer.verifier.verify(token);
        },
      },
    },
  );
  return {
    gateway,
    catalog,
    catalogUrl,
    issuer,
    verifications: () => verifications,
    async bearer(scope = 'openid', sub = `user-${Math.random().toString(36).slice(2)}`) {
      return { authorization: `Bearer ${await issuer.sign({ sub, roles: ['customer'], scope })}` };
    },
    async close() {
      await gateway.close();
      await catalog.close();
    },
  };
}

/** Sends `request` as bytes and resolves with everything the server wrote before it closed (or `waitMs` of quiet). */
export function raw(url: string, request: string | Buffer, waitMs = 3000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let timer = setTimeout(() => socket.end(), waitMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      clearTimeout(timer);
      timer = setTimeout(() => socket.end(), 500);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(request);
  });
}

/** Status codes of every response in a raw answer, in order. */
export function statuses(answer: string): number[] {
  return [...answer.matchAll(/HTTP\/1\.1 (\d{3}) [A-Z]/g)].map((m) => Number(m[1]));
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
