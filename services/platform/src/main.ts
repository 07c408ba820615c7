/**
 * `npm start`: the whole platform on embedded defaults, one process, one port per
 * service. Prints where to go once every service listens; Ctrl-C closes them all.
 */
import { ConfigError, loadConfig } from '@portico/config';
import type { FastifyInstance } from 'fastify';
import { services } from './services.ts';

const t0 = performance.now();
const started: FastifyInstance[] = [];
const lines: string[] = [];

async function stop(code: number) {
  await Promise.allSettled(started.map((server) => server.close()));
  process.exit(code);
}
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

try {
  for (const { name, module, banner } of services) {
    const config = loadConfig(name, module.ConfigSchema, { env: { LOG_LEVEL: 'warn', ...process.env } });
    const server = await module.build(config);
    started.push(server);
    const { port, host } = config as { port: number; host: string };
    await server.listen({ port, host });
    const url = `http://${host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host}:${port}`;
    lines.push(...(banner?.(url, server) ?? [`${name.padEnd(11)} ${url}`]));
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  await stop(1);
}

const ms = Math.round(performance.now() - t0);
console.log(
  `\nPortico is ready in ${ms} ms (embedded defaults, data in ${process.env.PORTICO_DATA_DIR ?? '.data'}/)\n`,
);
for (const line of lines) console.log(`  ${line}`);
console.log('\nCtrl-C stops everything.\n');
