/**
 * One OpenAPI document for everything the gateway serves, merged from its upstreams' own:
 * - an upstream operation is published when a route takes its method and its path, seen
 *   through the route's rewrite, reaches that route (the longest path wins, as for requests);
 * - a rewrite is turned back only when its pattern is an anchored literal prefix
 *   (`^/api/v1/identity` → `/admin`); the operations behind any other are left out;
 * - the gateway's own answers are added where the route can give them: 401/403 for a route
 *   that needs a token, 413 for a body, 429 and the `RateLimit` headers for a limited route,
 *   502/503/504 for an upstream that fails, is down or is slow; 400/415 where it validates requests;
 * - an aggregate route is described from its branches' answers.
 */
import { accessSecuritySchemes } from '@portico/auth';
import {
  completeDocument,
  type OpenApiDocument,
  operationIdFor,
  PROBLEM_TYPE,
  type SecuritySchemes,
} from '@portico/http';
import type { RouteDef } from '../config.ts';
import { ruleFor } from '../policies/auth/index.ts';
import type { CompiledRoute, Runtime } from '../runtime.ts';

type Json = Record<string, unknown>;
interface Operation extends Json {
  operationId?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  responses?: Record<string, Json & { headers?: Json }>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const BODY_METHODS = new Set(['post', 'put', 'patch']);
const PROBLEM = { [PROBLEM_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } };
const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });

const HEADERS: Json = {
  RateLimit: {
    description: 'What is left of the route’s limit for this consumer (draft-ietf-httpapi-ratelimit-headers)',
    schema: { type: 'string', examples: ['"products";r=199;t=60'] },
  },
  'RateLimit-Policy': {
    description: 'The route’s limit: requests per window of seconds',
    schema: { type: 'string', examples: ['"products";q=200;w=60'] },
  },
  'Retry-After': {
    description: 'Seconds until the limit lets this consumer through again',
    schema: { type: 'integer', minimum: 0 },
  },
};

export interface MergeOptions {
  /** The token issuer: the OAuth 2.0 flows and bearer scheme of the published document. */
  issuer: string;
  version?: string;
}

/** `^/api/v1/identity` → `/api/v1/identity`; undefined when the pattern is more than a literal prefix. */
export function literalPrefix(pattern: string): string | undefined {
  const match = /^\^((?:[^\\^$.|?*+()[\]{}]|\\[^A-Za-z0-9])*)$/.exec(pattern);
  return match ? match[1]!.replace(/\\(.)/g, '$1') : undefined;
}

/** The gateway path whose request reaches `upstreamPath` on the route's upstream, if one does. */
export function gatewayPath(def: RouteDef, upstreamPath: string): string | undefined {
  const rewrite = def.transform?.rewrite;
  if (!rewrite) return upstreamPath;
  const prefix = literalPrefix(rewrite.pattern);
  if (prefix === undefined || rewrite.replacement.includes('$')) return undefined;
  if (!upstreamPath.startsWith(rewrite.replacement)) return undefined;
  const path = prefix + upstreamPath.slice(rewrite.replacement.length);
  return path.replace(new RegExp(rewrite.pattern), rewrite.replacement) === upstreamPath ? path : undefined;
}

const sample = (templated: string) => templated.replace(/\{[^}]+\}/g, 'x');

/** The components an upstream's operations refer to, kept in the merged document. */
const KINDS = ['schemas', 'parameters', 'requestBodies', 'responses', 'headers', 'examples'] as const;
type Kind = (typeof KINDS)[number];
type Components = Record<Kind, Json>;

/** The upstream's document with component names that clash with another's made its own. */
function ownComponents(upstream: string, doc: OpenApiDocument, kept: Components): OpenApiDocument {
  const declared = (doc.components ?? {}) as Partial<Record<Kind, Json>>;
  const clashes = KINDS.flatMap((kind) =>
    Object.entries(declared[kind] ?? {})
      .filter(
        ([name, value]) =>
          !(kind === 'schemas' && name === 'Problem') &&
          name in kept[kind] &&
          JSON.stringify(kept[kind][name]) !== JSON.stringify(value),
      )
      .map(([name]) => [kind, name] as const),
  );
  let text = JSON.stringify(doc);
  for (const [kind, name] of clashes)
    text = text.replaceAll(`"#/components/${kind}/${name}"`, `"#/components/${kind}/${upstream}_${name}"`);
  const own = JSON.parse(text) as OpenApiDocument;
  const components = own.components as Record<Kind, Json>;
  for (const [kind, name] of clashes) {
    components[kind][`${upstream}_${name}`] = components[kind][name];
    delete components[kind][name];
  }
  return own;
}

export function mergeDocuments(
  runtime: Pick<Runtime, 'routes' | 'match'>,
  documents: ReadonlyMap<string, OpenApiDocument>,
  options: MergeOptions,
): OpenApiDocument {
  const paths: Record<string, Record<string, Operation>> = {};
  const kept: Components = {
    schemas: {},
    parameters: {},
    requestBodies: {},
    responses: {},
    headers: {},
    examples: {},
  };
  const tags = new Map<string, { name: string; description?: string }>();
  const usedHeaders = new Set<string>();
  const docs = new Map<string, OpenApiDocument>();
  for (const [name, doc] of documents) {
    const own = ownComponents(name, doc, kept);
    for (const kind of KINDS) Object.assign(kept[kind], (own.components as Partial<Components>)?.[kind]);
    for (const tag of own.tags ?? []) if (!tags.has(tag.name)) tags.set(tag.name, tag);
    docs.set(name, own);
  }

  for (const route of runtime.routes) {
    if (route.def.aggregate) {
      if (route.methods.has('GET')) {
        paths[route.path] = { get: withGatewayAnswers(aggregateOperation(route, docs), route, 'get') };
        tags.set('aggregates', {
          name: 'aggregates',
          description: 'Answers the gateway composes from several services in one call',
        });
      }
      continue;
    }
    const doc = route.def.upstream ? docs.get(route.def.upstream) : undefined;
    for (const [upstreamPath, item] of Object.entries(doc?.paths ?? {})) {
      const path = gatewayPath(route.def, upstreamPath);
      if (path === undefined) continue;
      for (const method of METHODS) {
        const operation = item[method] as Operation | undefined;
        if (!operation) continue;
        if (runtime.match(sample(path), method.toUpperCase())?.name !== route.name) continue;
        if (!route.methods.has(method.toUpperCase())) continue;
        const published = structuredClone(operation);
        // An operation that says no `security` of its own has the document's (OpenAPI 3.1 §4.8.10).
        if (published.security === undefined && Array.isArray(doc?.security))
          published.security = structuredClone(doc.security as Operation['security']);
        const shared = (item.parameters ?? []) as Json[];
        // Parameters of the path item hold for each of its operations; an operation's own win.
        if (shared.length) {
          const own = (published.parameters ?? []) as Json[];
          const key = (p: Json) => `${p.in} ${p.name}`;
          const overridden = new Set(own.map(key));
          published.parameters = [...structuredClone(shared).filter((p) => !overridden.has(key(p))), ...own];
        }
        if (path !== upstreamPath) published.operationId = operationIdFor(method, path);
        paths[path] ??= {};
        paths[path][method] = withGatewayAnswers(published, route, method);
      }
    }
  }

  function withGatewayAnswers(operation: Operation, route: CompiledRoute, method: string): Operation {
    operation.responses ??= {};
    const responses = operation.responses;
    const add = (status: string, description: string, extra: Json = {}) => {
      responses[status] ??= { description, content: PROBLEM, ...extra };
    };
    const rule = ruleFor(route.def.auth, method.toUpperCase());
    if (rule !== 'public') {
      // The gateway checks a token before the upstream does: a route it guards is never anonymous.
      const anonymous = !operation.security?.length || operation.security.some((r) => !Object.keys(r).length);
      if (anonymous) operation.security = [{ bearer: [] }];
      add('401', 'No access token (AUTHENTICATION_REQUIRED) or not a valid one (INVALID_TOKEN)');
      if (typeof rule === 'object' || route.def.scopes)
        add('403', 'The token lacks a scope or role this route needs (INSUFFICIENT_SCOPE)');
    }
    if (BODY_METHODS.has(method))
      add('413', 'The request body is larger than the route allows (PAYLOAD_TOO_LARGE)');
    const validate = route.def.validate;
    if (validate && (validate === true || validate.requests !== false)) {
      add('400', 'A parameter or the body does not match this operation (REQUEST_INVALID)');
      if (operation.requestBody)
        add('415', 'The Content-Type is not one this operation takes (UNSUPPORTED_MEDIA_TYPE)');
    }
    if (route.def.rateLimit) {
      const failures =
        rule === 'public' ? '' : ', or too many failed authentications (TOO_MANY_AUTH_FAILURES)';
      add('429', `Too many requests from this consumer on this route (RATE_LIMIT_EXCEEDED)${failures}`, {
        headers: { 'RateLimit-Policy': ref('RateLimit-Policy'), 'Retry-After': ref('Retry-After') },
      });
      for (const name of ['RateLimit-Policy', 'Retry-After']) usedHeaders.add(name);
      for (const [status, response] of Object.entries(responses)) {
        if (!/^[23]/.test(status)) continue;
        response.headers = {
          ...response.headers,
          RateLimit: ref('RateLimit'),
          'RateLimit-Policy': ref('RateLimit-Policy'),
        };
        usedHeaders.add('RateLimit');
      }
    } else if (rule !== 'public') {
      add('429', 'Too many failed authentications from this address (TOO_MANY_AUTH_FAILURES)');
    }
    add(
      '502',
      route.def.aggregate
        ? 'No part of the aggregate could be fetched (AGGREGATE_FAILED)'
        : 'The upstream failed or answered nothing usable (UPSTREAM_ERROR)',
    );
    if (!route.def.aggregate) {
      add(
        '503',
        'No instance of the upstream takes requests now (CIRCUIT_OPEN) or its queue is full (UPSTREAM_BUSY)',
      );
      add('504', 'The upstream did not answer in time (UPSTREAM_TIMEOUT)');
    }
    return operation;
  }

  const sdl = graphqlSchemaPath(paths);
  const document: OpenApiDocument = {
    openapi: '3.1.0',
    info: {
      title: 'Portico API',
      version: options.version ?? '0.1.0',
      description: `Everything the Portico gateway serves, merged from its services’ own documents: paths as the gateway exposes them, with its own answers (auth, limits, upstream failures).${sdl ? ` The GraphQL API's schema (SDL) is at [${sdl}](${sdl}).` : ''}`,
    },
    ...(sdl ? { externalDocs: { description: 'The GraphQL schema (SDL)', url: sdl } } : {}),
    paths,
    components: componentsOf(kept, usedHeaders),
    tags: [...tags.values()],
  };
  return completeDocument(document, { name: 'gateway' }, schemesFor(paths, docs, options.issuer));
}

/** The gateway path of the operation an upstream marks `x-graphql-schema` (the catalog's SDL), if routed. */
function graphqlSchemaPath(paths: Record<string, Record<string, Operation>>): string | undefined {
  return Object.entries(paths).find(([, item]) => item.get?.['x-graphql-schema'] === true)?.[0];
}

/** The upstreams' components (only the kinds they declare) and the gateway's own headers it uses. */
function componentsOf(kept: Components, usedHeaders: Set<string>): Json {
  for (const name of [...usedHeaders].sort()) kept.headers[name] = HEADERS[name];
  return Object.fromEntries(
    KINDS.filter((kind) => kind === 'schemas' || Object.keys(kept[kind]).length).map((kind) => [
      kind,
      kept[kind],
    ]),
  );
}

/** The identity's flows with every scope an operation names, and any other scheme an upstream declares. */
function schemesFor(
  paths: Record<string, Record<string, Operation>>,
  docs: ReadonlyMap<string, OpenApiDocument>,
  issuer: string,
): SecuritySchemes {
  const scopes = new Set<string>();
  for (const item of Object.values(paths))
    for (const operation of Object.values(item))
      for (const requirement of operation.security ?? [])
        for (const s of requirement.oauth2 ?? []) scopes.add(s);
  const declared: SecuritySchemes = {};
  for (const doc of docs.values()) Object.assign(declared, doc.components?.securitySchemes ?? {});
  return { ...declared, ...accessSecuritySchemes(issuer, scopes) };
}

function aggregateOperation(route: CompiledRoute, docs: ReadonlyMap<string, OpenApiDocument>): Operation {
  const branches = Object.entries(route.def.aggregate!.branches);
  const properties: Json = {};
  for (const [name, branch] of branches) {
    const answer = branchAnswer(docs.get(branch.upstream), branch.path.split('?')[0]!);
    properties[name] = {
      description: `${branch.upstream} GET ${branch.path} (null when it failed; see errors)`,
      anyOf: [answer ?? {}, { type: 'null' }],
    };
  }
  properties.errors = {
    type: 'object',
    description: 'Why a part is null: its status, code and detail',
    additionalProperties: {
      type: 'object',
      required: ['status', 'code', 'detail'],
      properties: { status: { type: 'integer' }, code: { type: 'string' }, detail: { type: 'string' } },
    },
  };
  properties.request_id = { type: 'string' };
  const names = branches.map(([name]) => name);
  return {
    operationId: operationIdFor('get', route.path),
    summary: `${names.join(', ')} in one call`,
    description: `Fetched in parallel by the gateway, each part with its own timeout; a part that fails is null with an entry in errors, and 502 only when all fail. \`{sub}\` in a branch path is the caller.`,
    tags: ['aggregates'],
    responses: {
      '200': {
        description: 'OK',
        content: {
          'application/json': { schema: { type: 'object', required: [...names, 'request_id'], properties } },
        },
      },
    },
  };
}

function branchAnswer(doc: OpenApiDocument | undefined, path: string): Json | undefined {
  for (const [template, item] of Object.entries(doc?.paths ?? {})) {
    const literal = (part: string) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(
      `^${template
        .split(/\{[^}]+\}/)
        .map(literal)
        .join('[^/]+')}$`,
    );
    if (!pattern.test(path)) continue;
    const ok = (item.get as Operation | undefined)?.responses?.['200'] as
      | { content?: Record<string, { schema?: Json }> }
      | undefined;
    return ok?.content?.['application/json']?.schema;
  }
  return undefined;
}
