/**
 * Validation at the edge (`validate` on a route): a request is checked against the operation
 * the gateway publishes for it (openapi/: the upstream's own operation at its gateway path,
 * through the route's rewrite) before it leaves the gateway:
 * - path, query and header parameters (text on the wire, so coerced to their schema's type);
 * - the content type against the request body's media types (415), and a JSON body against
 *   its schema (never coerced);
 * - a refusal is 400 `REQUEST_INVALID` with `errors: [{ field, in, code, message }]`.
 * Validators are compiled once per operation of a document and compiled again for the next
 * document (a refresh or a reload). Without a document for the route's upstream (its fetch
 * failed), or for an operation the document does not have, requests pass: validation fails open.
 * With `responses`, a JSON answer of a documented status is checked too: `log` logs and counts
 * a drift, `reject` turns it into 502 `RESPONSE_INVALID` (a test mode: it reads the whole body).
 */

import { Type } from '@portico/config';
import type { OpenApiDocument } from '@portico/http';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { type Context, type RouteView, replyBody } from '../../context.ts';
import { errors } from '../../errors.ts';
import {
  definePolicy,
  type FieldError,
  type Policy,
  type PolicyHooks,
  type ValidationResult,
} from '../../policy.ts';
import { expecting } from '../../schema.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export type { FieldError, ValidationResult };
export type DocumentSource = () => Promise<OpenApiDocument>;
export type ValidateHooks = Pick<PolicyHooks, 'validated' | 'drifted'>;

const Validate = expecting(
  Type.Union(
    [
      Type.Boolean(),
      Type.Object(
        {
          requests: Type.Optional(Type.Boolean({ description: 'Check requests (true)' })),
          responses: Type.Optional(
            Type.Union([Type.Literal('off'), Type.Literal('log'), Type.Literal('reject')], {
              description: 'Check JSON answers of documented statuses: log a drift, or answer 502 (off)',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ],
    {
      description:
        'Check requests against the published operation before they leave the gateway (400 / 415), and in a test mode the answers',
    },
  ),
  'must be true, false or { requests: true | false, responses: "off" | "log" | "reject" }',
  true,
);

type Json = Record<string, unknown>;
type Location = 'path' | 'query' | 'header';

interface CompiledOperation {
  params: ValidateFunction | undefined;
  /** Header parameters by lower-case name. */
  headers: string[];
  body:
    | { required: boolean; types: Array<{ type: string; validate: ValidateFunction | undefined }> }
    | undefined;
  responses: Map<string, ValidateFunction>;
}

interface Template {
  path: string;
  pattern: RegExp;
  names: string[];
  item: Record<string, unknown>;
  literal: number;
}

/** What one document compiles to: its path templates, and operations compiled on first use. */
interface Table {
  templates: Template[];
  /** The templates under each route's path: a request is matched against its route's only. */
  byRoute: Map<string, Template[]>;
  text: Ajv2020;
  strict: Ajv2020;
  /** `bad_schema`: the operation's schemas do not compile; its requests pass. */
  operations: Map<string, CompiledOperation | 'bad_schema'>;
}

const DOC_ID = 'https://portico.dev/gateway/openapi.json';
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;
const tables = new WeakMap<object, Table>();

export const validate = definePolicy({
  name: 'validate',
  // Last: the answer it checks is the upstream's, before field filters or the cache keep it.
  priority: 700,
  route: { validate: Type.Optional(Validate) },
  create: (options, route, gateway) => validator(route, options.validate, gateway.document, gateway.hooks),
});

/** The validate policy for one route (also called alone, in process, by bench/gateway/validate.ts). */
export function validator(
  route: RouteView,
  setting: boolean | { requests?: boolean; responses?: 'off' | 'log' | 'reject' } | undefined,
  document: DocumentSource | undefined,
  hooks: ValidateHooks,
): Policy | undefined {
  const options = setting === true ? { requests: true } : setting || undefined;
  // An aggregate has no one upstream document to check against.
  if (!options || !document || route.upstream === undefined) return undefined;
  const requests = options.requests ?? true;
  const responses = 'responses' in options ? options.responses : undefined;
  const mode = responses === 'log' || responses === 'reject' ? responses : undefined;

  return async (ctx, next) => {
    const found = await operationFor(ctx, route, document);
    if (typeof found === 'string') {
      if (requests) hooks.validated(ctx.route.name, 'request', found);
      if (mode) hooks.validated(ctx.route.name, 'response', found);
      return next();
    }
    if (requests) {
      const refusal = checkRequest(ctx, found.operation, found.params);
      hooks.validated(ctx.route.name, 'request', refusal ? 'refused' : 'passed');
      if (refusal) throw refusal;
    }
    await next();
    if (mode && ctx.reply) await checkResponse(ctx, found.operation, mode, hooks);
  };
}

async function operationFor(
  ctx: Context,
  route: RouteView,
  document: DocumentSource,
): Promise<{ operation: CompiledOperation; params: Record<string, string> } | ValidationResult> {
  let doc: OpenApiDocument;
  try {
    doc = await document();
  } catch {
    return 'no_document';
  }
  const missing = (doc as Json)['x-portico-missing-upstreams'] as string[] | undefined;
  if (route.upstream && missing?.includes(route.upstream)) return 'no_document';
  const table = tableFor(doc);
  const method = ctx.method === 'HEAD' ? 'get' : ctx.method.toLowerCase();
  let templates = table.byRoute.get(ctx.route.name);
  if (!templates) {
    const prefix = ctx.route.path === '/' ? '/' : `${ctx.route.path}/`;
    templates = table.templates.filter((t) => t.path === ctx.route.path || t.path.startsWith(prefix));
    table.byRoute.set(ctx.route.name, templates);
  }
  for (const template of templates) {
    const match = template.pattern.exec(ctx.path);
    if (!match) continue;
    const operation = template.item[method] as Json | undefined;
    if (!operation) continue;
    const params: Record<string, string> = {};
    try {
      template.names.forEach((name, i) => {
        params[name] = decodeURIComponent(match[i + 1]!);
      });
    } catch {
      return 'undocumented';
    }
    const key = `${method} ${template.pattern.source}`;
    let compiled = table.operations.get(key);
    if (!compiled) {
      try {
        compiled = compileOperation(table, doc, template.item, operation);
      } catch {
        // An upstream's schema Ajv refuses (a bad pattern, a reference to nowhere): fail open.
        compiled = 'bad_schema';
      }
      table.operations.set(key, compiled);
    }
    if (compiled === 'bad_schema') return compiled;
    return { operation: compiled, params };
  }
  return 'undocumented';
}

function tableFor(doc: OpenApiDocument): Table {
  // The document served while missing an upstream is a copy; its paths are the built one's.
  const paths = (doc.paths ?? {}) as Record<string, Record<string, unknown>>;
  let table = tables.get(paths);
  if (table) return table;
  const templates = Object.entries(paths).map(([path, item]): Template => {
    const names: string[] = [];
    const source = path
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const name = /^\{([^}]+)\}$/.exec(part)?.[1];
        if (name === undefined) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        names.push(name);
        return '([^/]+)';
      })
      .join('');
    return {
      path,
      pattern: new RegExp(`^${source}$`),
      names,
      item,
      literal: path.replace(/\{[^}]+\}/g, '').length,
    };
  });
  // `/things/search` before `/things/{id}`, as a router would.
  templates.sort((a, b) => a.names.length - b.names.length || b.literal - a.literal);
  const components = { components: { schemas: doc.components?.schemas ?? {} } };
  const make = (coerce: boolean) => {
    const ajv = new Ajv2020({
      strict: false,
      allErrors: true,
      coerceTypes: coerce ? 'array' : false,
      logger: false,
    });
    addFormats(ajv);
    ajv.addSchema({ $id: DOC_ID, ...components });
    return ajv;
  };
  table = { templates, byRoute: new Map(), text: make(true), strict: make(false), operations: new Map() };
  tables.set(paths, table);
  return table;
}

/** A schema whose `#/components/...` references point into the document added to the validator. */
function anchored(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema ?? {}).replaceAll('"#/components/', `"${DOC_ID}#/components/`));
}

/**
 * `{ $ref: '#/components/<kind>/<name>' }` → what it names (a parameter, request body or
 * response; the merged document keeps each upstream's). A reference to nowhere throws: the
 * operation is then `bad_schema` and fails open, counted, rather than skipping what it names.
 */
function resolve(doc: OpenApiDocument, value: unknown): Json | undefined {
  let found = value as Json | undefined;
  for (let hops = 0; typeof found?.$ref === 'string'; hops++) {
    const [, kind, name] = /^#\/components\/([^/]+)\/([^/]+)$/.exec(found.$ref) ?? [];
    const target = (doc.components as Record<string, Record<string, unknown>> | undefined)?.[kind!]?.[
      unescapePointer(name ?? '')
    ];
    if (!target || hops > 8) throw new Error(`cannot resolve ${found.$ref}`);
    found = target as Json;
  }
  return found;
}

function compileOperation(
  table: Table,
  doc: OpenApiDocument,
  item: Json,
  operation: Json,
): CompiledOperation {
  const byLocation: Record<Location, { properties: Json; required: string[] }> = {
    path: { properties: {}, required: [] },
    query: { properties: {}, required: [] },
    header: { properties: {}, required: [] },
  };
  const declared = [
    ...((item.parameters as unknown[]) ?? []),
    ...((operation.parameters as unknown[]) ?? []),
  ];
  for (const raw of declared) {
    const param = resolve(doc, raw);
    const where = param?.in as Location | undefined;
    if (!param || !where || !(where in byLocation) || typeof param.name !== 'string' || !param.schema)
      continue;
    const name = where === 'header' ? param.name.toLowerCase() : param.name;
    byLocation[where].properties[name] = param.schema;
    if (param.required || where === 'path') byLocation[where].required.push(name);
    else byLocation[where].required = byLocation[where].required.filter((n) => n !== name);
  }
  const hasParams = Object.values(byLocation).some((l) => Object.keys(l.properties).length);
  const params = hasParams
    ? table.text.compile(
        anchored({
          type: 'object',
          properties: Object.fromEntries(
            Object.entries(byLocation).map(([where, l]) => [where, { type: 'object', ...l }]),
          ),
        }),
      )
    : undefined;

  const requestBody = resolve(doc, operation.requestBody);
  const content = (requestBody?.content ?? {}) as Record<string, { schema?: unknown }>;
  const body = requestBody
    ? {
        required: requestBody.required === true,
        types: Object.entries(content).map(([type, media]) => ({
          type: type.toLowerCase(),
          validate:
            JSON_TYPE.test(type.toLowerCase()) && media.schema
              ? table.strict.compile(anchored(media.schema))
              : undefined,
        })),
      }
    : undefined;

  const responses = new Map<string, ValidateFunction>();
  for (const [status, raw] of Object.entries((operation.responses ?? {}) as Json)) {
    const media = Object.entries(
      (resolve(doc, raw)?.content ?? {}) as Record<string, { schema?: unknown }>,
    ).find(([type]) => JSON_TYPE.test(type.toLowerCase()));
    if (media?.[1].schema)
      responses.set(status.toUpperCase(), table.strict.compile(anchored(media[1].schema)));
  }
  return { params, headers: Object.keys(byLocation.header.properties), body, responses };
}

function checkRequest(ctx: Context, operation: CompiledOperation, path: Record<string, string>) {
  if (operation.params) {
    // Copies: coercion changes what it checks, and what goes upstream is the request as sent.
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of new URLSearchParams(ctx.search)) {
      const seen = query[name];
      query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
    const header: Record<string, string> = {};
    for (const name of operation.headers) {
      const value = ctx.req.headers[name];
      if (value !== undefined) header[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    if (!operation.params({ path: { ...path }, query, header }))
      return invalid(fieldErrors(operation.params.errors ?? []));
  }

  const body = operation.body;
  if (!body) return undefined;
  const raw = ctx.body;
  if (!raw || raw.length === 0) {
    return body.required
      ? invalid([
          { field: 'body', in: 'body', code: 'MISSING_FIELD', message: 'The request body is required' },
        ])
      : undefined;
  }
  const type = String(ctx.req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  const media =
    body.types.find((m) => m.type === type) ??
    body.types.find((m) => m.type === `${type.split('/')[0]}/*`) ??
    body.types.find((m) => m.type === '*/*');
  if (!media) {
    const accepted = body.types.map((m) => m.type).join(', ');
    return errors.UNSUPPORTED_MEDIA_TYPE(
      `${type ? `Content-Type ${type}` : 'A body without a Content-Type'} is not accepted here; send ${accepted}`,
      { extensions: { accepted: body.types.map((m) => m.type) } },
    );
  }
  if (!media.validate) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return invalid([
      { field: 'body', in: 'body', code: 'MALFORMED_JSON', message: 'The request body is not valid JSON' },
    ]);
  }
  if (!media.validate(value)) return invalid(fieldErrors(media.validate.errors ?? [], 'body'));
  return undefined;
}

function invalid(list: FieldError[]) {
  const first = list[0]!;
  const where = first.in === 'body' ? '' : ` (in ${first.in})`;
  return errors.REQUEST_INVALID(`${first.message}${where}`, { extensions: { errors: list } });
}

/** Ajv's errors as fields: `/query/limit` → { field: 'limit', in: 'query' }; a body's as dot paths. */
function fieldErrors(list: ErrorObject[], location?: 'body'): FieldError[] {
  const out: FieldError[] = [];
  for (const error of list) {
    let segments = error.instancePath.split('/').slice(1).map(unescapePointer);
    const where = location ?? (segments[0] as FieldError['in']);
    if (!location) segments = segments.slice(1);
    if (error.keyword === 'required') segments.push(String(error.params.missingProperty));
    if (error.keyword === 'additionalProperties') segments.push(String(error.params.additionalProperty));
    const field = segments.join('.') || (location ?? where);
    const code =
      error.keyword === 'required'
        ? 'MISSING_FIELD'
        : error.keyword === 'additionalProperties'
          ? 'UNKNOWN_FIELD'
          : 'VALIDATION_ERROR';
    const message =
      code === 'MISSING_FIELD'
        ? `Missing required field: ${field}`
        : code === 'UNKNOWN_FIELD'
          ? `Unknown field: ${field}`
          : `${field} ${error.message ?? 'is invalid'}`;
    if (!out.some((e) => e.field === field && e.in === where && e.message === message))
      out.push({ field, in: where, code, message });
  }
  return out;
}

const unescapePointer = (segment: string) => segment.replaceAll('~1', '/').replaceAll('~0', '~');

async function checkResponse(
  ctx: Context,
  operation: CompiledOperation,
  mode: 'log' | 'reject',
  hooks: ValidateHooks,
) {
  const reply = ctx.reply!;
  const status = String(reply.status);
  const schema =
    operation.responses.get(status) ??
    operation.responses.get(`${status[0]}XX`) ??
    operation.responses.get('DEFAULT');
  const type = String(reply.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  const encoding = String(reply.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (!schema || !JSON_TYPE.test(type) || encoding !== 'identity' || reply.body === undefined) {
    hooks.validated(ctx.route.name, 'response', 'skipped');
    return;
  }
  const raw = (await replyBody(reply))!;
  let list: FieldError[] = [];
  try {
    if (!schema(JSON.parse(raw.toString('utf8')))) list = fieldErrors(schema.errors ?? [], 'body');
  } catch {
    list = [
      { field: 'body', in: 'body', code: 'MALFORMED_JSON', message: 'The response body is not valid JSON' },
    ];
  }
  if (list.length === 0) {
    hooks.validated(ctx.route.name, 'response', 'passed');
    return;
  }
  hooks.validated(ctx.route.name, 'response', 'drift');
  hooks.drifted(ctx.route.name, { method: ctx.method, path: ctx.path, status: reply.status, errors: list });
  if (mode === 'reject')
    throw errors.RESPONSE_INVALID(
      `The upstream's ${reply.status} answer does not match its published contract: ${list[0]!.message}`,
      { extensions: { errors: list } },
    );
}
