/**
 * The image's HEALTHCHECK: GET /health on every service the container runs, healthy only
 * when each answers 200. Which services is read from PID 1's command line (the entry point
 * and its argument); where they listen from the `<NAME>_PORT` / `<NAME>_HOST` variables the
 * services read, or their defaults. It imports nothing else, so it starts fast on a busy host.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_PORTS } from './ports.ts';

const command = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
const entry = command.findIndex((arg) => arg.endsWith('start.ts'));
const chosen = (entry >= 0 && command[entry + 1]) || 'platform';
const names = chosen === 'platform' ? Object.keys(DEFAULT_PORTS) : [chosen];

const failures: string[] = [];
await Promise.all(
  names.map(async (name) => {
    const NAME = name.toUpperCase();
    const port = process.env[`${NAME}_PORT`] || DEFAULT_PORTS[name];
    const configured = process.env[`${NAME}_HOST`] || '127.0.0.1';
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
