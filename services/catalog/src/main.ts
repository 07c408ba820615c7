import { startTelemetry } from '@portico/telemetry';

// Before anything it instruments loads (index.ts of @portico/telemetry).
await startTelemetry('portico-catalog');
const { runService } = await import('@portico/http');
await runService('catalog', await import('./build.ts'));
