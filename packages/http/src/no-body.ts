/**
 * A documented route that takes no request body refuses one: `POST /orders` with `{"items": …}`
 * would otherwise be answered as if the items were never sent. An empty body, `null` or `{}`
 * is no body. Routes without a response schema (GraphQL, mounted apps) read their bodies
 * themselves and are left alone.
 */
import { commonErrors } from '@portico/problem';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function refuseUnexpectedBodies(server: FastifyInstance): void {
  server.addHook('onRoute', (route: RouteOptions) => {
    const schema = route.schema as { body?: unknown; response?: unknown } | undefined;
    if (!schema?.response || schema.body !== undefined) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => WRITES.has(m))) return;
    const existing = route.preValidation;
    route.preValidation = [refuseBody, ...(existing === undefined ? [] : [existing].flat())];
  });
}

function refuseBody(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  done(bodyProblem(request.body));
}

function bodyProblem(body: unknown): Error | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body))
    return commonErrors.VALIDATION_ERROR('This endpoint takes no body');
  const fields = Object.keys(body);
  if (fields.length === 0) return undefined;
  return commonErrors.UNKNOWN_FIELD(`Unknown field: ${fields[0]} (this endpoint takes no body)`, {
    extensions: {
      errors: fields.map((field) => ({ field, code: 'UNKNOWN_FIELD', message: `Unknown field: ${field}` })),
    },
  });
}
