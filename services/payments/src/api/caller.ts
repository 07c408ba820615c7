import { type AccessClaims, isAdmin } from '@portico/auth';
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../domain/intents.ts';

/** The authenticated caller; every route using it declares a scope, so a verified token is there. */
export function callerOf(request: FastifyRequest): Caller {
  const auth = request.auth as AccessClaims;
  return { userId: auth.sub, admin: isAdmin(auth) };
}
