import { ConfigError } from '@portico/config';
import { startTelemetry } from '@portico/telemetry';

// Before anything it instruments loads (index.ts of @portico/telemetry).
await startTelemetry('portico-gateway');
const { runService } = await import('@portico/http');
try {
  await runService('gateway', await import('./build.ts'));
} catch (err) {
  // A bad gateway file stops start-up with what is wrong, not a stack trace.
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
