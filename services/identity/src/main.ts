import { runService } from '@portico/http';

await runService('identity', await import('./build.ts'));
