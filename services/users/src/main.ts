import { startTelemetry } from '@portico/telemetry';

// Before anything it instruments loads (index.ts of @portico/telemetry).
await startTelemetry('portico-users');
const { runService } = await import('@portico/http');
await runService('users', await import('./build.ts'));
