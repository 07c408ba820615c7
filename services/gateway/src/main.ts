import { runService } from '@portico/http';

await runService('gateway', await import('./build.ts'));
