import { startTelemetry } from '@portico/telemetry';

// Before anything it instruments loads (index.ts of @portico/telemetry).
await startTelemetry('portico-payments');
const { runService } = await import('@portico/http');
await runService('payments', await import('./build.ts'));
