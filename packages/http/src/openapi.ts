/**
 * The OpenAPI 3.1 document a service serves, completed in one place from what its routes say,
 * so that a route added without a word of documentation still comes out lint-clean
 * (Redocly `recommended`, Spectral `spectral:oas`):
 *
 * - every operation has an `operationId` (derived from method and path), a `summary` and a
 *   `description`, at least one tag, and a `security` (none said: `[]`, public);
 * - an operation that needs a token answers 401 (and 403 when it needs a scope), any one 400 and
 *   500, and one that named no success answer 200;
 * - every 4xx/5xx answer is `application/problem+json` with the shared `Problem` schema, 500
 *   included (the error handler sends it for anything unexpected);
 * - tags used are listed with a description; security schemes are those some operation uses,
 *   as described by whoever enforces them (`describeSecuritySchemes`, e.g. @portico/auth);
 * - `servers` is the origin the document was fetched from (`servedDocument`), and a path-only
 *   `externalDocs.url` is made absolute on it (linters want a URI there).
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemSchema } from './schemas.ts';

type Json = Record<string, unknown>;
export type SecuritySchemes = Record<string, Json>;
export type OpenApiDocument = Json & {
  info: Json;
  paths?: Record<string, Record<string, Operation>>;
  components?: Json & { schemas?: Json; securitySchemes?: SecuritySchemes };
  tags?: Array<{ name: string; description?: string }>;
};
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, Response>;
  [key: string]: unknown;
}
interface Response {
  description?: string;
  content?: Record<string, { schema?: Json }>;
  headers?: Json;
}

export interface OpenApiOptions {
  /** The service's name: the tag of operations that name none. */
  name: string;
  /** What each tag the routes use is about. */
  tags?: Record<string, string>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
export const PROBLEM_TYPE = 'application/problem+json';
const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

export const PROBLEM_COMPONENT = {
  ...ProblemSchema,
  examples: [
    {
      type: 'https://portico.dev/problems/not-found',
      title: 'Not Found',
      status: 404,
      detail: 'No product 0197a3c2-7d1e-7000-8000-000000000000',
      code: 'NOT_FOUND',
      request_id: '3f1c9a52e0b04c7e',
    },
  ],
} as unknown as Json;

// On the root server: an encapsulated plugin's instance inherits it (Fastify children are
// prototype-linked), so a scheme described inside a plugin reaches the one document.
const SCHEMES = Symbol('portico.openapi.securitySchemes');
type WithSchemes = { [SCHEMES]?: Array<() => SecuritySchemes> };

/**
 * Security schemes that operations of this server may name in `security`, read when the
 * document is built; only those some operation names are published.
 */
export function describeSecuritySchemes(server: FastifyInstance, schemes: () => SecuritySchemes): void {
  const holder = server as unknown as WithSchemes;
  holder[SCHEMES] ??= [];
  holder[SCHEMES].push(schemes);
}

export function securitySchemesOf(server: FastifyInstance): SecuritySchemes {
  const sources = (server as unknown as WithSchemes)[SCHEMES] ?? [];
  return Object.assign({}, ...sources.map((read) => read()));
}

export function holdSecuritySchemes(server: FastifyInstance): void {
  (server as unknown as WithSchemes)[SCHEMES] = [];
}

/** `GET /api/v1/orders/{id}/cancel` → `getOrdersByIdCancel`. */
export function operationIdFor(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v\d+(?=\/|$)/, '')
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      const param = /^\{(.+)\}$/.exec(segment);
      return (param ? ['by', ...split(param[1]!)] : split(segment)).map(capital).join('');
    });
  return method.toLowerCase() + (words.join('') || 'Root');
}
const split = (s: string) => s.split(/[^A-Za-z0-9]+/).filter(Boolean);
const capital = (s: string) => s[0]!.toUpperCase() + s.slice(1);

function isProblemLike(schema: Json | undefined): boolean {
  if (!schema) return true;
  if (schema.$ref === PROBLEM_REF.$ref) return true;
  const properties = schema.properties as Json | undefined;
  return Boolean(properties && 'title' in properties && 'status' in properties && 'type' in properties);
}

const needsToken = (op: Operation) => (op.security ?? []).some((r) => Object.keys(r).length > 0);
const tokenOptional = (op: Operation) => (op.security ?? []).some((r) => Object.keys(r).length === 0);
const needsScope = (op: Operation) => (op.security ?? []).some((r) => Object.values(r).some((s) => s.length));

function problemResponse(status: string, description?: string): Response {
  return {
    description: description && description !== 'Default Response' ? description : reason(status),
    content: { [PROBLEM_TYPE]: { schema: PROBLEM_REF } },
  };
}
const reason = (status: string) =>
  STATUS_CODES[status] ?? (status.startsWith('4') ? 'Client error' : 'Error');

/** Fills what the routes did not say; `schemes` are the security schemes operations may name. */
export function completeDocument(
  document: OpenApiDocument,
  options: OpenApiOptions,
  schemes: SecuritySchemes,
): OpenApiDocument {
  const used = { tags: new Set<string>(), schemes: new Set<string>() };
  const ids = new Set<string>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      let id = op.operationId ?? operationIdFor(method, path);
      for (let n = 2; ids.has(id); n++) id = `${op.operationId ?? operationIdFor(method, path)}${n}`;
      ids.add(id);
      op.operationId = id;
      op.summary ??= firstSentence(op.description) ?? `${method.toUpperCase()} ${path}`;
      op.description ??= op.summary;
      if (!op.tags?.length) op.tags = [options.name];
      for (const tag of op.tags) used.tags.add(tag);
      // TypeBox lists a property with a default as required; the server fills it in, so a client may leave it out.
      for (const parameter of (op.parameters ?? []) as Array<Json & { schema?: Json }>)
        if (parameter.required === true && parameter.in !== 'path' && parameter.schema?.default !== undefined)
          delete parameter.required;
      op.security ??= [];
      for (const requirement of op.security)
        for (const name of Object.keys(requirement)) used.schemes.add(name);

      op.responses ??= {};
      const responses = op.responses;
      for (const [status, response] of Object.entries(responses)) {
        if (/^[2-3]/.test(status) && response.description === 'Default Response')
          response.description = reason(status);
        if (!/^[45]/.test(status)) continue;
        const schema = Object.values(response.content ?? {})[0]?.schema;
        if (isProblemLike(schema))
          responses[status] = {
            ...problemResponse(status, response.description),
            ...(response.headers ? { headers: response.headers } : {}),
          };
      }
      if ((needsToken(op) || tokenOptional(op)) && !responses['401'])
        responses['401'] = problemResponse('401');
      if (needsScope(op) && !responses['403']) responses['403'] = problemResponse('403');
      // A malformed request (bad URL encoding, a parameter or body its schema refuses) is 400 anywhere.
      const clientErrors = Object.keys(responses).some((status) => status.startsWith('4'));
      if ((op.parameters?.length || op.requestBody || !clientErrors) && !responses['400'])
        responses['400'] = problemResponse('400');
      responses['500'] ??= problemResponse('500');
      if (!Object.keys(responses).some((status) => /^[23]/.test(status) || status === 'default'))
        responses['200'] = { description: 'OK' };
    }
  }

  document.components ??= {};
  const components = document.components;
  if (Object.keys(document.paths ?? {}).length > 0)
    components.schemas = { ...components.schemas, Problem: PROBLEM_COMPONENT };
  const published: SecuritySchemes = {};
  for (const name of [...used.schemes].sort()) {
    const scheme = schemes[name] ?? components.securitySchemes?.[name];
    if (scheme) published[name] = scheme;
  }
  if (Object.keys(published).length > 0) components.securitySchemes = published;
  else delete components.securitySchemes;

  document.info = {
    contact: { name: 'Portico', url: 'https://portico.dev' },
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    ...document.info,
  };
  const described = new Map((document.tags ?? []).map((t) => [t.name, t]));
  document.tags = [...used.tags].map(
    (name) =>
      described.get(name) ?? {
        name,
        description: options.tags?.[name] ?? `Operations of the ${options.name} service on ${name}`,
      },
  );
  return document;
}

function firstSentence(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const sentence = /^(.+?[.!?])(?:\s|$)/s.exec(text)?.[1] ?? text;
  return sentence.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}

/** The document as served to one request: its `servers` is the origin the client reached. */
export function servedDocument(document: OpenApiDocument, request: FastifyRequest): OpenApiDocument {
  const origin = `${request.protocol}://${request.host}`;
  const external = document.externalDocs as { url?: string } | undefined;
  return {
    ...document,
    servers: [{ url: origin, description: 'This server' }],
    ...(external?.url?.startsWith('/')
      ? { externalDocs: { ...external, url: `${origin}${external.url}` } }
      : {}),
  };
}
