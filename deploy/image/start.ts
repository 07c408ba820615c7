/**
 * The image's entry point.
 *   (no argument)       the whole platform in one process, what `npm start` runs
 *   SERVICE             that service alone, as its `src/main.ts` runs it
 *   migrate SERVICE     apply SERVICE's migrations and exit (a Kubernetes init container):
 *                       builds the service, which migrates its database, and closes it unserved
 *
 * Node is PID 1 (no init process): the kernel gives PID 1 no default action for SIGTERM,
 * so it stops the container only because the platform and `runService` handle it (close
 * the servers, exit 0). Until a service has installed that handler, the one below makes a
 * SIGTERM during start-up (migrations, a database that does not answer) end the process
 * at once instead of being ignored until the runtime's kill timeout. Nothing here spawns
 * child processes, so PID 1 has no orphans to reap.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const services = join(import.meta.dirname, '../../services');
const args = process.argv.slice(2);
const migrate = args[0] === 'migrate';
const [name = 'platform', ...rest] = migrate ? args.slice(1) : args;
const file = (service: string, path: string) => pathToFileURL(join(services, service, path)).href;

if (
  rest.length > 0 ||
  !/^[a-z]+$/.test(name) ||
  !existsSync(join(services, name, 'src/main.ts')) ||
  (migrate && name === 'platform')
) {
  console.error(
    'usage: portico [SERVICE | migrate SERVICE]\n' +
      '  no argument: the whole platform in one process\n' +
      '  SERVICE: identity, users, catalog, orders, payments, gateway or web (one per container)\n' +
      '  migrate SERVICE: apply that service’s database migrations and exit',
  );
  process.exit(64);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    // The service's own handler, once installed, runs after this one and closes cleanly.
    if (process.listenerCount(signal) === 0) process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
  });
}

if (migrate) {
  const { ConfigError, loadConfig } = await import('@portico/config');
  const module = await import(file(name, 'src/build.ts'));
  try {
    const config = loadConfig(name, module.ConfigSchema, {
      file: process.env[`${name.toUpperCase()}_CONFIG_FILE`],
    });
    const server = await module.build(config);
    await server.close();
    console.log(`${name}: migrations applied`);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  }
} else {
  await import(file(name, 'src/main.ts'));
}
