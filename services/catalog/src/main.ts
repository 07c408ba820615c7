import { runService } from '@portico/http';
import * as catalog from './build.ts';

await runService('catalog', catalog);
