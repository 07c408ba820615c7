import type { FastifyInstance } from 'fastify';

export interface ListenOptions {
  port: number;
  host?: string;
}

/** Starts a server and closes it cleanly (in-flight requests finish) on SIGINT/SIGTERM. */
export async function listen(server: FastifyInstance, options: ListenOptions): Promise<string> {
  const address = await server.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const stop = async (signal: string) => {
    server.log.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return address;
}
