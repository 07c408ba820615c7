/**
 * The services `npm start` runs in one process, in start order. Each module exports
 * `ConfigSchema` and `build(config)`; its defaults are the embedded ones (SQLite files
 * under PORTICO_DATA_DIR, in-process stores, the seed's ports on localhost).
 */
import * as catalog from '@portico/catalog';
import * as gateway from '@portico/gateway';
import type { ServiceModule } from '@portico/http';
import * as identity from '@portico/identity';
import * as orders from '@portico/orders';
import * as payments from '@portico/payments';
import * as users from '@portico/users';
import * as web from '@portico/web';

export interface PlatformService {
  name: string;
  module: ServiceModule;
}

/** Start order: the identity provider first (others fetch its keys), the console last. */
export const services: PlatformService[] = [
  { name: 'identity', module: identity as unknown as ServiceModule },
  { name: 'catalog', module: catalog as unknown as ServiceModule },
  { name: 'users', module: users as unknown as ServiceModule },
  { name: 'orders', module: orders as unknown as ServiceModule },
  { name: 'payments', module: payments as unknown as ServiceModule },
  { name: 'gateway', module: gateway as unknown as ServiceModule },
  { name: 'web', module: web as unknown as ServiceModule },
];
