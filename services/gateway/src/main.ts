import { ConfigError } from '@portico/config';
import { runService } from '@portico/http';

try {
  await runService('gateway', await import('./build.ts'));
} catch (err) {
  // A bad gateway file stops start-up with what is wrong, not a stack trace.
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
