import { runService } from '@portico/http';

await runService('web', await import('./build.ts'));
