/**
 * The Fastify server every Portico service starts from: request ids, pino logs,
 * problem+json for every error, 404/405 with `Allow`, strict JSON bodies (415 for
 * anything else), a one-word public `/health`, and OpenAPI 3.1 at `/openapi.json` with a
 * reference UI at `/docs`, generated from the same route schemas that validate and completed by
 * openapi.ts (operation ids, security, problem+json errors) so it lints clean.
 * `/metrics`, the detailed `/health` and, when the process keeps them, recent `/traces` are on
 * `server.operator` (operator.ts), a listener of their own that `runService` and `npm start`
 * open on the operator port. One log line per request (request-log.ts), readable on a terminal
 * and JSON elsewhere (log-format.ts).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { commonErrors } from '@portico/problem';
import { noteService, tracingOn } from '@portico/telemetry';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import type { Registry } from 'prom-client';
import secureJson from 'secure-json-parse';
import { bodyRefused, sendProblem, toProblemError } from './errors.ts';
import { type HealthCheck, registerHealth } from './health.ts';
import { terminalStream } from './log-format.ts';
import { answerClientError, repeatedHeaderProblem, repeatedSingleHeader } from './message-framing.ts';
import { registerMetrics } from './metrics.ts';
import { refuseUnexpectedBodies } from './no-body.ts';
import {
  completeDocument,
  holdSecuritySchemes,
  type OpenApiDocument,
  securitySchemesOf,
  servedDocument,
} from './openapi.ts';
import { createOperator } from './operator.ts';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.ts';
import { logRequest } from './request-log.ts';
import { DOCS_HEADERS, securityHeaders } from './security-headers.ts';
import { registerTraces } from './traces.ts';
import { validatorCompiler } from './validation.ts';

export interface ServerOptions {
  /** The service's name: logs, metrics and the OpenAPI title carry it. */
  name: string;
  version?: string;
  description?: string;
  /** What each OpenAPI tag of the service's routes is about. */
  tags?: Record<string, string>;
  /**
   * Serve this document at `/openapi.json` and `/docs` instead of the one made from the routes
   * (the gateway publishes the document merged from its upstreams').
   */
  document?: () => Promise<object>;
  /** pino level, or false for no logs (tests). @default 'info' */
  logLevel?: string | false;
  /** Largest accepted request body in bytes. @default 1 MiB */
  bodyLimit?: number;
  /** Readiness checks reported by `/health` (database, upstreams…). */
  health?: Record<string, HealthCheck>;
  /** Longest `/health` waits for one check (`HEALTH_CHECK_TIMEOUT_MS`). @default 500 */
  healthTimeoutMs?: number;
  /** Extra Fastify options (trustProxy, http2…). */
  fastify?: Partial<FastifyServerOptions>;
}

export type Server = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
> & { metrics: Registry };

// The media type's essence, whatever parameters follow (charset=utf-8), in any case (RFC 9110 §8.3.1).
const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export async function createServer(options: ServerOptions): Promise<Server> {
  const stream = options.logLevel === false ? undefined : terminalStream();
  const server = Fastify({
    logger:
      options.logLevel === false
        ? false
        : {
            level: options.logLevel ?? 'info',
            base: { service: options.name },
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            ...(stream ? { stream } : {}),
          },
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    genReqId: requestIdFrom,
    // Fastify's two lines per request (incoming, completed) give way to one (request-log.ts).
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    // A request that reaches a closing server (on a keep-alive connection the client picked
    // just before it closed) is served, not answered 503: draining sets `Connection: close`,
    // in-flight work finishes before the database closes, and a 503 here is a lost request.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    clientErrorHandler: answerClientError,
    ...options.fastify,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as Server;

  server.setValidatorCompiler(validatorCompiler());

  // JSON only, including the `+json` family (merge-patch, problem); text/plain is refused with 415.
  server.removeContentTypeParser(['application/json', 'text/plain']);
  // An empty body is no body (POST /orders with a JSON content type and nothing to say);
  // a route that needs one still answers 400 from its schema.
  // Fastify's own parser answers every refusal as invalid JSON, a `__proto__` key included.
  server.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, secureJson.parse(body as string, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      done(bodyRefused(err), undefined);
    }
  });

  refuseUnexpectedBodies(server);

  // Callback-style hooks on the hot path: no promise per request.
  server.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    const repeated = repeatedSingleHeader(request.raw.rawHeaders);
    done(repeated === undefined ? undefined : repeatedHeaderProblem(repeated));
  });

  server.addHook('onResponse', (request, reply, done) => {
    logRequest(request, reply);
    done();
  });

  server.setErrorHandler((err, request, reply) => sendProblem(request, reply, toProblemError(err)));

  // 405 needs to know which methods a path has: a shadow router answers that without touching Fastify's.
  const shadow = FindMyWay();
  server.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (!shadow.hasRoute(method as HTTPMethod, route.url))
        shadow.on(method as HTTPMethod, route.url, () => {});
    }
  });
  server.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = (['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).filter((m) =>
      shadow.find(m, path),
    );
    if (allowed.length > 0) {
      return sendProblem(
        request,
        reply,
        commonErrors.METHOD_NOT_ALLOWED(`${request.method} is not allowed on ${path}`, {
          headers: { allow: [...allowed, 'OPTIONS'].join(', ') },
        }),
      );
    }
    return sendProblem(request, reply, commonErrors.NOT_FOUND(`No resource at ${path}`));
  });

  holdSecuritySchemes(server);
  await server.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `Portico ${options.name}`,
        version: options.version ?? '0.1.0',
        description: options.description ?? `The Portico ${options.name} service`,
      },
    },
    // @fastify/swagger reads each operation's schemes while it builds: they must be there first.
    transform: (input) => {
      const { schema, url, openapiObject } = input as typeof input & { openapiObject: OpenApiDocument };
      openapiObject.components ??= {};
      const components = openapiObject.components;
      components.securitySchemes ??= securitySchemesOf(server);
      return { schema, url };
    },
    transformObject: (documents) =>
      completeDocument(
        (documents as { openapiObject: OpenApiDocument }).openapiObject,
        { name: options.name, tags: options.tags ?? {} },
        (documents as { openapiObject: OpenApiDocument }).openapiObject.components?.securitySchemes ?? {},
      ) as never,
  });
  // A given document is loaded before the UI's own JSON route answers, which reads it synchronously.
  const loaded = new WeakMap<object, OpenApiDocument>();
  const load = options.document;
  await server.register(async (docs) => {
    await securityHeaders(docs, DOCS_HEADERS);
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { deepLinking: true },
      ...(load
        ? {
            uiHooks: {
              preHandler: async (request: FastifyRequest) => {
                if (/\/(?:json|yaml)$/.test(request.url.split('?')[0]!))
                  loaded.set(request, (await load()) as OpenApiDocument);
              },
            },
          }
        : {}),
      transformSpecification: (document, request) =>
        servedDocument(loaded.get(request) ?? (document as OpenApiDocument), request),
    });
  });
  server.get('/openapi.json', { schema: { hide: true } }, async (request) =>
    servedDocument((load ? await load() : server.swagger()) as OpenApiDocument, request),
  );

  const operator = createOperator();
  server.decorate('operator', operator);
  server.addHook('onClose', () => operator.close());
  server.metrics = registerMetrics(server, options.name);
  // The HTTP server span is the active one in the server's own `request` listeners.
  if (tracingOn()) server.server.prependListener('request', () => noteService(options.name));
  registerHealth(server, options.name, options.health ?? {}, server.metrics, options.healthTimeoutMs);
  registerTraces(operator);
  return server;
}
