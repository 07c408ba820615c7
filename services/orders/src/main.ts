import { startTelemetry } from '@portico/telemetry';

// Before anything it instruments loads (index.ts of @portico/telemetry).
await startTelemetry('portico-orders');
const { runService } = await import('@portico/http');
await runService('orders', await import('./build.ts'));
