import { runService } from '@portico/http';

await runService('payments', await import('./build.ts'));
