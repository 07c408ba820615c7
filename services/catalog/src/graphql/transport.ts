/**
 * GraphQL on the wire, three ways, one pipeline (executor.ts: cached parse + validate +
 * limits; errors.ts: codes and masking):
 * - GraphQL over HTTP (GET and POST `/graphql`): graphql-http's spec handler, so request
 *   parsing, media types and status codes are the reference implementation's; execution
 *   is graphql-jit's compiled query.
 * - GraphQL over SSE (`Accept: text/event-stream` on `/graphql`, distinct-connections mode): graphql-sse.
 * - GraphQL over WebSocket (`graphql-transport-ws` on `/graphql`): graphql-ws.
 * GraphiQL answers browsers (`Accept: text/html`, no query) at the same URL.
 *
 * CSRF: only `application/json` POST bodies are read (a cross-site form cannot send one
 * without a preflight), GET never runs a mutation (405), and credentials travel only in
 * the Authorization header, which browsers never add on their own.
 */
import { gzipSync } from 'node:zlib';
import { PUBLIC_OPTIONAL_TOKEN } from '@portico/auth';
import { type CspDirectives, inlineScriptPageHeaders, type Server } from '@portico/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  getOperationAST,
  execute as graphqlExecute,
} from 'graphql';
import {
  createHandler as createHttpHandler,
  type Request as HttpRequest,
  type Response as HttpResponse,
  parseRequestParams,
  type RequestParams,
} from 'graphql-http';
import { isCompiledQuery } from 'graphql-jit';
import { createHandler as createSseHandler } from 'graphql-sse/lib/use/fastify';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { type ContextDeps, createContext, type GraphQLContext } from './context.ts';
import { formatError } from './errors.ts';
import type { Executor } from './executor.ts';

export const GRAPHQL_PATH = '/graphql';

export interface TransportOptions {
  schema: GraphQLSchema;
  executor: Executor;
  deps: ContextDeps;
  graphiql: boolean;
}

type HttpContext = GraphQLContext & { mediaType: string };
/** The libraries want an index signature; the context is ours on both ends. */
type AnyContext = Record<PropertyKey, unknown>;

const GRAPHQL_RESPONSE = 'application/graphql-response+json; charset=utf-8';
const JSON_RESPONSE = 'application/json; charset=utf-8';

/**
 * GraphiQL's page policy; `script-src` gets the hashes of its inline scripts. Its editor
 * (Monaco) starts its workers from blob: URLs and sets styles as it renders; queries go to this
 * origin over HTTP and WebSocket ('self' covers ws: on it).
 */
const GRAPHIQL_CSP = {
  'default-src': ["'none'"],
  'script-src': [],
  'worker-src': ['blob:'],
  'style-src': ["'unsafe-inline'"],
  'img-src': ['data:'],
  'font-src': ['data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
} satisfies CspDirectives;
type GraphiqlHeaders = ReturnType<typeof inlineScriptPageHeaders>;

/** graphql-http's own choice of media type, repeated so our fast path answers as it would. */
function acceptedMediaType(accept: string | undefined): string {
  for (const item of (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const type = item.split(';')[0];
    if (type === 'application/graphql-response+json') return GRAPHQL_RESPONSE;
    if (type === 'application/json' || type === 'application/*' || type === '*/*') return JSON_RESPONSE;
  }
  return JSON_RESPONSE;
}

/**
 * graphql-http's request parsing, its refusals answered as the client's mistake: it throws plain
 * errors ("Invalid operationName", a batch's "JSON body must be an object"), which the one error
 * formatter would mask as internal. A request that is not a GraphQL-over-HTTP request is a 400.
 */
async function requestParams(
  req: HttpRequest<FastifyRequest, unknown>,
): Promise<RequestParams | HttpResponse> {
  try {
    return await parseRequestParams(req);
  } catch (err) {
    const message = Array.isArray(req.body)
      ? 'Batched requests (a JSON array) are not supported: send one operation per request'
      : (err as Error).message;
    const errors = [{ message, extensions: { code: 'BAD_REQUEST', http: { status: 400 } } }];
    return [
      JSON.stringify({ errors }),
      { status: 400, statusText: 'Bad Request', headers: { 'content-type': JSON_RESPONSE } },
    ];
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function formatAll(errors: readonly GraphQLError[], log: (err: unknown) => void): GraphQLFormattedError[] {
  return errors.map((error) => formatError(error, log));
}

export function registerTransports(server: Server, options: TransportOptions): void {
  const { schema, executor, deps } = options;
  const logInternal = (err: unknown) => server.log.error({ err }, 'GraphQL resolver failed');

  const http = createHttpHandler<FastifyRequest, { reply: FastifyReply }, AnyContext>({
    schema,
    validationRules: executor.rules,
    parseRequestParams: requestParams,
    // graphql-http only JSON-encodes what this returns: the formatted shape is what goes out.
    formatError: (error) => formatError(error, logInternal) as unknown as GraphQLError,
    onSubscribe(req, params) {
      const prepared = executor.prepare(params.query);
      if ('errors' in prepared) return [...prepared.errors];
      if (getOperationAST(prepared.document, params.operationName)?.operation === 'subscription') {
        return [
          new GraphQLError(
            'Subscriptions are served over WebSocket (graphql-transport-ws) or SSE (Accept: text/event-stream) at this URL',
            { extensions: { code: 'SUBSCRIPTION_NEEDS_STREAM', http: { status: 400 } } },
          ),
        ];
      }
      const raw = req.raw;
      const context = createContext(deps, headerValue(raw.headers.authorization), raw.auth) as HttpContext;
      context.mediaType = acceptedMediaType(headerValue(raw.headers.accept));
      return {
        schema,
        document: prepared.document,
        operationName: params.operationName,
        variableValues: params.variables,
        contextValue: context as unknown as AnyContext,
      };
    },
    execute(args) {
      const compiled = executor.compiled(args.document, args.operationName);
      if (compiled === undefined) return graphqlExecute(args);
      if (!isCompiledQuery(compiled)) return compiled;
      return compiled.query(
        undefined,
        args.contextValue,
        args.variableValues ?? {},
      ) as Promise<ExecutionResult>;
    },
    onOperation(_req, args, result) {
      const { mediaType } = args.contextValue as unknown as HttpContext;
      const execution = result as ExecutionResult;
      const headers = { 'content-type': mediaType };
      if (!('data' in execution) || execution.data === undefined) {
        // Variable coercion failed: the operation never ran, a request error (GraphQL over HTTP §7.1.2).
        const errors = formatAll(execution.errors ?? [], logInternal);
        return [
          JSON.stringify({ errors }),
          mediaType === GRAPHQL_RESPONSE
            ? { status: 400, statusText: 'Bad Request', headers }
            : { status: 200, statusText: 'OK', headers },
        ];
      }
      if (execution.errors?.length) {
        const body = { data: execution.data, errors: formatAll(execution.errors, logInternal) };
        return [JSON.stringify(body), { status: 200, statusText: 'OK', headers }];
      }
      return [JSON.stringify(execution), { status: 200, statusText: 'OK', headers }];
    },
  });

  const sse = createSseHandler<AnyContext>({
    schema,
    onSubscribe(req, params) {
      const prepared = executor.prepare(params.query);
      if ('errors' in prepared)
        return { errors: formatAll(prepared.errors, logInternal) } as unknown as ExecutionResult;
      const operation = getOperationAST(prepared.document, params.operationName);
      if (operation?.operation === 'mutation' && req.method === 'GET') {
        return [null, { status: 405, statusText: 'Method Not Allowed', headers: { allow: 'POST' } }];
      }
      return {
        schema,
        document: prepared.document,
        operationName: params.operationName,
        variableValues: params.variables,
        contextValue: createContext(
          deps,
          headerValue(req.raw.headers.authorization),
          (req.raw as Partial<FastifyRequest>).auth,
        ) as unknown as AnyContext,
      } satisfies ExecutionArgs;
    },
    onNext(_ctx, _req, result) {
      if (!result.errors) return;
      return { ...result, errors: formatAll(result.errors, logInternal) } as unknown as ExecutionResult;
    },
  });

  // GraphiQL with its bundle inlined (no CDN: it works offline and leaks nothing to third
  // parties). The page is 9 MB, so it is built on the first visit, not at start, and kept gzipped,
  // with its CSP: its inline scripts named by hashes of this HTML, its editor's workers from
  // blob: URLs, and nothing loaded from anywhere but here.
  let graphiqlPage: Promise<{ html: string; gzip: Buffer; headers: GraphiqlHeaders }> | undefined;
  const graphiql = options.graphiql
    ? () =>
        (graphiqlPage ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => {
          const html = renderGraphiQL({
            endpoint: GRAPHQL_PATH,
            title: 'Portico catalog',
            subscriptionsProtocol: 'WS',
          });
          return { html, gzip: gzipSync(html), headers: inlineScriptPageHeaders(html, GRAPHIQL_CSP) };
        }))
    : undefined;

  // A connection that carried an event stream never counts as idle (its response was taken
  // over from Fastify): shutting down ends it, or close would wait for the client to go.
  const streams = new Set<import('node:net').Socket>();
  server.addHook('preClose', (done) => {
    for (const stream of streams) stream.destroy();
    done();
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const accept = request.headers.accept ?? '';
    if (accept.includes('text/event-stream')) {
      reply.hijack();
      const socket = request.raw.socket;
      streams.add(socket);
      socket.once('close', () => streams.delete(socket));
      return sse(request, reply);
    }
    if (
      graphiql &&
      request.method === 'GET' &&
      accept.includes('text/html') &&
      !(request.query as Record<string, unknown>).query
    ) {
      const page = await graphiql();
      reply.helmet(page.headers);
      reply.type('text/html; charset=utf-8').header('vary', 'Accept, Accept-Encoding');
      if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
        return reply.header('content-encoding', 'gzip').send(page.gzip);
      }
      return reply.send(page.html);
    }
    const [body, init] = await http({
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: request.body as HttpRequest<unknown, unknown>['body'],
      raw: request,
      context: { reply },
    });
    reply.code(init.status);
    if (init.headers) reply.headers(init.headers);
    return reply.send(body ?? undefined);
  };

  server.register(async (scope) => {
    // GraphQL over HTTP clients send `application/json; charset=utf-8`; the kit's JSON parser
    // is matched on the whole header, so this scope parses the media type itself (same parser).
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'string' },
      scope.getDefaultJsonParser('error', 'error'),
    );
    // GraphQL authorises per field (context.ts), so the endpoint is public; a token that is sent
    // is verified first (HTTP and SSE alike), so a bad one is a 401 before the document is read.
    scope.route({
      method: ['GET', 'POST'],
      url: GRAPHQL_PATH,
      config: { access: PUBLIC_OPTIONAL_TOKEN },
      schema: { hide: true },
      handler: handle,
    });
  });
  registerWebSocket(server, options, logInternal);
}

function connectionAuthorization(ctx: {
  connectionParams?: Readonly<Record<string, unknown>>;
  extra: { request: import('node:http').IncomingMessage };
}): string | undefined {
  const fromParams = ctx.connectionParams?.authorization;
  return typeof fromParams === 'string' ? fromParams : headerValue(ctx.extra.request.headers.authorization);
}

function registerWebSocket(server: Server, options: TransportOptions, logInternal: (err: unknown) => void) {
  const { schema, executor, deps } = options;
  // A message is held to the same limit as an HTTP body (ws defaults to 100 MiB); larger closes 1009.
  const wss = new WebSocketServer({ noServer: true, maxPayload: server.initialConfig.bodyLimit });
  useServer<{ authorization?: string } | undefined, { request: import('node:http').IncomingMessage }>(
    {
      schema,
      // The same rule as HTTP: credentials (the `authorization` connection param, else the
      // upgrade's header) are verified when the socket opens, before any document is looked
      // at; bad ones close it with 4403 Forbidden.
      async onConnect(ctx) {
        try {
          await createContext(deps, connectionAuthorization(ctx)).auth();
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe(ctx, _id, payload) {
        const prepared = executor.prepare(payload.query);
        if ('errors' in prepared) return prepared.errors;
        const authorization = connectionAuthorization(ctx);
        return {
          schema,
          document: prepared.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: createContext(deps, authorization),
        };
      },
      onError: (_ctx, _id, _payload, errors) => formatAll(errors, logInternal),
      onNext(_ctx, _id, _payload, _args, result) {
        if (!result.errors) return;
        return { ...result, errors: formatAll(result.errors, logInternal) };
      },
    },
    wss,
  );

  const onUpgrade = (
    request: import('node:http').IncomingMessage,
    socket: import('node:stream').Duplex,
    head: Buffer,
  ) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== GRAPHQL_PATH) return; // another listener (or none) owns this path
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  server.server.on('upgrade', onUpgrade);
  server.addHook('preClose', async () => {
    server.server.off('upgrade', onUpgrade);
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
}
