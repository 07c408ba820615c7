import cluster from 'node:cluster';
import { ConfigError, loadConfig } from '@portico/config';
import { startTelemetry } from '@portico/telemetry';

// Before anything it instruments loads (index.ts of @portico/telemetry).
await startTelemetry('portico-gateway');
const { runService } = await import('@portico/http');
const { ConfigSchema } = await import('./config.ts');
const { checkWorkers, superviseWorkers } = await import('./workers.ts');
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
