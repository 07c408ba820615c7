/** Builds the catalog for a test: a database target, a test issuer and an admin and a customer token. */
import { ADMIN_SCOPES, createTestIssuer, type TestIssuer, USER_SCOPES } from '@portico/auth/testing';
import { type DeepPartial, loadConfig } from '@portico/config';
import type { DatabaseTarget } from '@portico/store/testing';
import { build, type CatalogConfig, type CatalogServer, ConfigSchema } from '../../src/build.ts';

export interface Harness {
  server: CatalogServer;
  issuer: TestIssuer;
  admin: Record<string, string>;
  customer: Record<string, string>;
  close(): Promise<void>;
}

export async function buildCatalog(
  target: DatabaseTarget,
  options: {
    demoData?: boolean;
    readCacheTtlMs?: number;
    issuer?: TestIssuer;
    config?: DeepPartial<CatalogConfig>;
  } = {},
): Promise<Harness> {
  const issuer = options.issuer ?? (await createTestIssuer());
  const config = loadConfig('catalog', ConfigSchema, {
    env: {},
    overrides: {
      databaseUrl: target.url,
      databaseSchema: target.schema ?? 'catalog',
      logLevel: 'silent',
      demoData: options.demoData ?? true,
      ...(options.readCacheTtlMs === undefined ? {} : { readCacheTtlMs: options.readCacheTtlMs }),
      ...options.config,
    },
  });
  const server = await build(config, { verifier: issuer.verifier });
  const bearer = async (roles: string[]) => ({
    authorization: `Bearer ${await issuer.sign({ sub: `user-${roles.join('-')}`, roles, scope: roles.includes('admin') ? ADMIN_SCOPES : USER_SCOPES })}`,
  });
  return {
    server,
    issuer,
    admin: await bearer(['admin']),
    customer: await bearer(['customer']),
    async close() {
      await server.close();
      await target.cleanup();
    },
  };
}
