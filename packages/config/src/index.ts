/**
 * Typed configuration: defaults from the schema, then a file (JSON or YAML), then
 * environment variables named by each property's `env` annotation, then explicit
 * overrides. The result is checked against the schema before anything starts, and
 * a bad value stops start-up with a message that names the key and where it came from.
 */
import { readFileSync } from 'node:fs';
import type { Static, TSchema } from 'typebox';
import Value from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { formatWords } from './url.ts';

export type { Static, TObject, TProperties, TSchema } from 'typebox';
export { default as Type } from 'typebox';

export class ConfigError extends Error {
  readonly issues: string[];
  constructor(name: string, issues: string[]) {
    super(`invalid ${name} configuration:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export interface LoadOptions<T extends TSchema> {
  /** Environment to read `env`-annotated keys from. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** A JSON or YAML file whose values sit under the defaults and the environment. */
  file?: string;
  /** Values set by code (the all-in-one launcher, tests); they win over everything. */
  overrides?: DeepPartial<Static<T>>;
}

export type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

interface SchemaNode {
  type?: string | string[];
  env?: string;
  /** A refusal names where the value came from, never the value itself. */
  secret?: boolean;
  properties?: Record<string, SchemaNode>;
}

/**
 * @example
 * const Schema = Type.Object({ port: Type.Integer({ default: 8002, env: 'CATALOG_PORT' }) });
 * const config = loadConfig('catalog', Schema); // CATALOG_PORT=abc → ConfigError naming `port`
 */
export function loadConfig<T extends TSchema>(
  name: string,
  schema: T,
  options: LoadOptions<T> = {},
): Static<T> {
  const env = options.env ?? process.env;
  const sources = new Map<string, string>();
  let value: Record<string, unknown> = {};

  if (options.file) {
    value = readConfigFile(name, options.file);
    markSources(value, '', `file ${options.file}`, sources);
  }
  applyEnv(schema as SchemaNode, value, '', env, sources);
  if (options.overrides) value = merge(value, options.overrides as Record<string, unknown>);
  if ((schema as SchemaNode).properties?.operatorPort) operatorPortFollows(value);

  value = Value.Default(schema, value) as Record<string, unknown>;
  value = Value.Convert(schema, value) as Record<string, unknown>;
  if (!Value.Check(schema, value)) {
    const issues: string[] = [];
    for (const error of Value.Errors(schema, value)) {
      if (error.keyword === 'boolean') continue; // restated by its parent's additionalProperties error
      const key = error.instancePath.slice(1).replaceAll('/', '.');
      if (error.keyword === '~refine') {
        issues.push(ruleBroken(key, error.message, sources));
        continue;
      }
      const params = error.params as { additionalProperties?: string[]; format?: string };
      const extra = params.additionalProperties;
      const where = sources.get(key);
      const message = (error.keyword === 'format' && formatWords(params.format!)) || error.message;
      const label = extra
        ? `unknown key${extra.length > 1 ? 's' : ''} ${extra.map((k) => (key ? `${key}.${k}` : k)).join(', ')}`
        : `${key || '(root)'} ${message}`;
      issues.push(where ? `${label} (from ${where})` : label);
    }
    throw new ConfigError(name, issues);
  }
  return value as Static<T>;
}

/**
 * A rule across keys (`Type.Refine` on an object, see `authSettings`) names them as `{key}`:
 * they are said in full (`{audience}` in `auth` is `auth.audience`), with where each came from.
 */
function ruleBroken(at: string, message: string, sources: Map<string, string>): string {
  const named: string[] = [];
  const text = message.replace(/\{(\w+)\}/g, (_, name: string) => {
    const key = at ? `${at}.${name}` : name;
    named.push(key);
    return key;
  });
  const where = [...new Set(named)].flatMap((key) => {
    const source = sources.get(key);
    return source ? [source] : [];
  });
  return where.length > 0 ? `${text} (from ${where.join(', ')})` : text;
}

/**
 * A public port chosen at run time moves the operator port with it (port + 10000; 0 stays 0, and
 * past 65535 it is 0 too), so two instances on other ports never fight over the default one.
 */
function operatorPortFollows(value: Record<string, unknown>): void {
  if (value.port === undefined || value.operatorPort !== undefined) return;
  const port = Number(value.port);
  if (!Number.isInteger(port)) return;
  value.operatorPort = port === 0 || port + 10_000 > 65_535 ? 0 : port + 10_000;
}

function readConfigFile(name: string, file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(name, [`cannot read ${file}: ${(err as Error).message}`]);
  }
  try {
    const parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('the top level must be a mapping');
    }
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(name, [`cannot parse ${file}: ${(err as Error).message}`]);
  }
}

function applyEnv(
  node: SchemaNode,
  target: Record<string, unknown>,
  prefix: string,
  env: Record<string, string | undefined>,
  sources: Map<string, string>,
): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child.env !== undefined) {
      const raw = env[child.env];
      if (raw !== undefined && raw !== '') {
        target[key] = raw;
        sources.set(path, child.secret ? child.env : `${child.env}=${JSON.stringify(raw)}`);
      }
    } else if (child.properties) {
      const nested = (target[key] ?? {}) as Record<string, unknown>;
      applyEnv(child, nested, path, env, sources);
      if (Object.keys(nested).length > 0) target[key] = nested;
    }
  }
}

function markSources(
  value: Record<string, unknown>,
  prefix: string,
  source: string,
  sources: Map<string, string>,
) {
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    sources.set(path, source);
    if (child && typeof child === 'object' && !Array.isArray(child)) {
      markSources(child as Record<string, unknown>, path, source, sources);
    }
  }
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    // Objects are always copied: defaults are filled in place later, and must not reach the caller's overrides.
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value)
        ? merge(
            prev && typeof prev === 'object' ? (prev as Record<string, unknown>) : {},
            value as Record<string, unknown>,
          )
        : value;
  }
  return out;
}

export { authKeys, authSettings, dataDir, dpopRule, listenSettings, serviceSettings } from './common.ts';
export { isUrl, Origin, Proxies, Resource, Url, type UrlKind } from './url.ts';
