import type { AccessClaims } from '@portico/auth';
import { isAdmin } from '@portico/auth';
import type { Kysely } from '@portico/store/sql';
import type { FastifyRequest } from 'fastify';
import type { CatalogClient } from '../data/catalog.ts';
import type { OrdersDb } from '../data/schema.ts';
import type { Caller } from '../domain/orders.ts';

export interface Context {
  db: Kysely<OrdersDb>;
  catalog: CatalogClient;
}

/** The authenticated caller; every route using it declares a scope, so a verified token is there. */
export function callerOf(request: FastifyRequest): Caller {
  const auth = request.auth as AccessClaims;
  return { userId: auth.sub, admin: isAdmin(auth) };
}
