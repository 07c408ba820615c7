import { startTelemetry } from '@portico/telemetry';

// Before anything it instruments loads (index.ts of @portico/telemetry).
await startTelemetry('portico-web');
const { runService } = await import('@portico/http');
await runService('web', await import('./build.ts'));
