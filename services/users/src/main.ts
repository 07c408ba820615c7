import { runService } from '@portico/http';

await runService('users', await import('./build.ts'));
