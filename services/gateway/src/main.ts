import cluster from 'node:cluster';
import { ConfigError, loadConfig } from '@portico/config';
import { runService } from '@portico/http';
import { ConfigSchema } from './config.ts';
import { checkWorkers, superviseWorkers } from './workers.ts';

try {
  const config = loadConfig('gateway', ConfigSchema, { file: process.env.GATEWAY_CONFIG_FILE });
  checkWorkers(config);
  if (config.workers > 1 && cluster.isPrimary) process.exit(await superviseWorkers(config.workers));
  else await runService('gateway', await import('./build.ts'));
} catch (err) {
  // A bad gateway file stops start-up with what is wrong, not a stack trace.
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
