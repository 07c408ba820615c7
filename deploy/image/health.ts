/**
 * The image's HEALTHCHECK: GET /health on every service the container runs, healthy only
 * when each answers 200. Which services is read from PID 1's command line (the entry point
 * and its argument), where they listen from the same `<NAME>_PORT` / `<NAME>_HOST`
 * variables and defaults the services read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ALL = ['identity', 'users', 'catalog', 'orders', 'payments', 'gateway', 'web'];
const services = join(import.meta.dirname, '../../services');

const command = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
const entry = command.findIndex((arg) => arg.endsWith('start.ts'));
const chosen = (entry >= 0 && command[entry + 1]) || 'platform';
const names = chosen === 'platform' ? ALL : [chosen];

const failures: string[] = [];
await Promise.all(
  names.map(async (name) => {
    const NAME = name.toUpperCase();
    const { ConfigSchema } = await import(pathToFileURL(join(services, name, 'src/config.ts')).href);
    const port = process.env[`${NAME}_PORT`] || ConfigSchema.properties.port.default;
    const configured = process.env[`${NAME}_HOST`] || ConfigSchema.properties.host.default;
    const host = configured === '0.0.0.0' ? '127.0.0.1' : configured === '::' ? '[::1]' : configured;
    try {
      const res = await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(4000) });
      if (res.status !== 200) failures.push(`${name}: /health answered ${res.status}`);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }),
);
if (failures.length > 0) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(`healthy: ${names.join(', ')}`);
