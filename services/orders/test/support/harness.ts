/** Builds the orders service for a test: a database target, a catalog URL and a test issuer. */
import type { TestIssuer } from '@portico/auth/testing';
import { loadConfig } from '@portico/config';
import type { DatabaseTarget } from '@portico/store/testing';
import { build, ConfigSchema, type OrdersDeps } from '../../src/build.ts';

export async function buildOrders(
  target: DatabaseTarget,
  catalogUrl: string,
  issuer: TestIssuer,
  catalogTimeoutMs = 5000,
  deps: Omit<OrdersDeps, 'verifier'> = {},
) {
  const config = loadConfig('orders', ConfigSchema, {
    env: {},
    overrides: {
      logLevel: 'silent',
      databaseUrl: target.url,
      ...(target.schema ? { databaseSchema: target.schema } : {}),
      catalog: { url: catalogUrl, timeoutMs: catalogTimeoutMs },
    },
  });
  return build(config, { verifier: issuer.verifier, ...deps });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
