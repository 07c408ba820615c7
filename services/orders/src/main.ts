import { runService } from '@portico/http';

await runService('orders', await import('./build.ts'));
