import { startTelemetry } from '@portico/telemetry';

// Before anything it instruments loads (index.ts of @portico/telemetry).
await startTelemetry('portico-identity');
const { runService } = await import('@portico/http');
await runService('identity', await import('./build.ts'));
