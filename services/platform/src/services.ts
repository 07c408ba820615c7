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
  /** Lines for the start-up banner, given the address it listens on and the built server. */
  banner?: (url: string, server?: unknown) => string[];
}

export const services: PlatformService[] = [
  { name: 'identity', module: identity as unknown as ServiceModule, banner: identity.banner },
  {
    name: 'catalog',
    module: catalog as unknown as ServiceModule,
    banner: (url) => [
      `catalog     ${url}/api/v1/products   (docs ${url}/docs)`,
      `graphql     ${url}/graphql   (GraphiQL in a browser; ${url.replace(/^http/, 'ws')}/graphql for graphql-ws)`,
    ],
  },
  {
    name: 'users',
    module: users as unknown as ServiceModule,
    banner: (url) => [`users       ${url}/api/v1/users/me`],
  },
  {
    name: 'orders',
    module: orders as unknown as ServiceModule,
    banner: (url) => [`orders      ${url}/api/v1/orders   (cart ${url}/api/v1/cart)`],
  },
  {
    name: 'payments',
    module: payments as unknown as ServiceModule,
    banner: (url) => [`payments    ${url}/api/v1/payments`],
  },
  {
    name: 'gateway',
    module: gateway as unknown as ServiceModule,
    banner: (url) => [`gateway     ${url}/api/v1/products   (health ${url}/health, metrics ${url}/metrics)`],
  },
  {
    name: 'web',
    module: web as unknown as ServiceModule,
    banner: (url) => [`console     ${url}   (the web console: sign in with a demo login)`],
  },
];
