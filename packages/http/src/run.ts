import { ConfigError, loadConfig, type Static, type TSchema } from '@portico/config';
import type { FastifyInstance } from 'fastify';

/** What every service module exports, so it can run alone or inside the all-in-one platform. */
export interface ServiceModule<S extends TSchema = TSchema> {
  ConfigSchema: S;
  build(config: Static<S>): Promise<FastifyInstance>;
}

export interface ServiceConfig {
  port: number;
  host: string;
  operatorPort: number;
  operatorHost: string;
}

/**
 * A service's `main.ts`: read config (file from `<NAME>_CONFIG_FILE`, then environment),
 * build, listen, and close cleanly on SIGINT/SIGTERM. A bad config exits 1 with the key named.
 */
export async function runService<S extends TSchema>(
  name: string,
  module: ServiceModule<S>,
): Promise<FastifyInstance> {
  let config: Static<S>;
  try {
    config = loadConfig(name, module.ConfigSchema, {
      file: process.env[`${name.toUpperCase()}_CONFIG_FILE`],
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const server = await module.build(config);
  const { port, host, operatorPort, operatorHost } = config as unknown as ServiceConfig;
  await server.listen({ port, host });
  const operator = await server.operator.listen({ port: operatorPort, host: operatorHost });
  server.log.info({ url: operator }, 'operator endpoints (/metrics, /health) listening');
  const stop = async (signal: string) => {
    server.log.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}
