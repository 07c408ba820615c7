/**
 * The Requests page's data, for admins (`GET /api/console/requests`, `GET
 * /api/console/requests/:trace_id`): the recent requests this process traced, read from its
 * in-process store (@portico/telemetry). `npm start` runs every service in the console's
 * process, so that store holds the whole platform's traces; a console in a process of its own
 * keeps none unless PORTICO_RECENT_TRACES is set, and then only its own spans.
 * - signed out → 401; signed in without the `admin` role → 403: the session's roles, from the
 *   provider at sign-in and renewed at every token refresh, one of which runs here when due
 *   (oidc/tokens.ts), so a role taken away at identity is gone here when it is gone from the API
 * - a filter that is not one (`status=6xx`, `min_ms=-1`, an unknown key) → 400
 * - `limit: 0` and no rows when this process keeps no traces
 */
import { Type } from '@portico/config';
import { ProblemSchema, type Server } from '@portico/http';
import { commonErrors } from '@portico/problem';
import { recentTraceStore } from '@portico/telemetry';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';
import type { AccessTokens } from '../oidc/tokens.ts';
import type { Sessions } from '../session/sessions.ts';
import { recentRequests, servedBy } from '../traces/requests.ts';

const Query = Type.Object(
  {
    status: Type.Optional(Type.String({ pattern: '^[1-5]xx$', description: 'A status class: 2xx…5xx' })),
    route: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Part of the route or path' }),
    ),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The user’s id (`sub`)' })),
    min_ms: Type.Optional(Type.Number({ minimum: 0, description: 'Only requests slower than this' })),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  },
  { additionalProperties: false },
);

const RequestRow = Type.Object({
  trace_id: Type.String(),
  start: Type.String({ format: 'date-time' }),
  method: Type.String(),
  path: Type.String(),
  route: Type.String({
    description: 'The innermost route that matched (the answering service’s), else the path',
  }),
  status: Type.Union([Type.Integer(), Type.Null()]),
  user: Type.Union([Type.String(), Type.Null()], { description: 'The access token’s subject' }),
  duration_ms: Type.Number(),
  spans: Type.Integer(),
  error: Type.Boolean({ description: 'A span of it ended in error' }),
});

const Span = Type.Object({
  trace_id: Type.String(),
  span_id: Type.String(),
  parent_span_id: Type.Optional(Type.String()),
  name: Type.String(),
  kind: Type.String(),
  service: Type.String(),
  start: Type.String({ format: 'date-time' }),
  duration_ms: Type.Number(),
  status: Type.String(),
  status_message: Type.Optional(Type.String()),
  attributes: Type.Object({}, { additionalProperties: true }),
});

const Params = Type.Object({ trace_id: Type.String({ pattern: '^[0-9a-f]{32}$' }) });

const NO_STORE = { 'cache-control': 'no-store' };

export function requestRoutes(
  server: Server,
  { sessions, tokens }: { sessions: Sessions; tokens: AccessTokens },
) {
  async function requireAdmin(request: FastifyRequest, reply: FastifyReply) {
    const session = await sessions.read(request);
    await tokens.forSession(session, request.log);
    const user = session?.data.user;
    if (!user) throw errors.LOGIN_REQUIRED('Sign in to see recent requests');
    if (!user.roles.includes('admin'))
      throw commonErrors.FORBIDDEN('Only administrators can see recent requests');
    reply.headers(NO_STORE);
  }

  server.get(
    '/api/console/requests',
    {
      onRequest: requireAdmin,
      schema: {
        tags: ['requests'],
        summary: 'Recent requests traced in this process, newest first (admins)',
        querystring: Query,
        response: {
          200: Type.Object({
            limit: Type.Integer({ description: 'How many traces this process keeps; 0: none' }),
            requests: Type.Array(RequestRow),
          }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
        },
      },
    },
    async (request) => {
      const store = recentTraceStore();
      const filter = request.query as Parameters<typeof recentRequests>[1];
      return { limit: store?.limit ?? 0, requests: store ? recentRequests(store, filter) : [] };
    },
  );

  server.get(
    '/api/console/requests/:trace_id',
    {
      onRequest: requireAdmin,
      schema: {
        tags: ['requests'],
        summary: 'One recent trace’s spans, in start order (admins)',
        params: Params,
        response: {
          200: Type.Object({
            trace_id: Type.String(),
            spans: Type.Array(Span),
            dropped_spans: Type.Integer(),
          }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const { trace_id } = request.params as { trace_id: string };
      const store = recentTraceStore();
      const found = store?.get(trace_id);
      if (!found)
        throw commonErrors.NOT_FOUND(
          store
            ? `Trace ${trace_id} is not among the ${store.limit} kept`
            : 'This console keeps no traces (see docs/observability.md)',
        );
      return { ...found, spans: servedBy(found.spans) };
    },
  );
}
