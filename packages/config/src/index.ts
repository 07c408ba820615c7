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
      const extra = (error.params as { additionalProperties?: string[] }).additionalProperties;
      const where = sources.get(key);
      const label = extra
        ? `unknown key${extra.length > 1 ? 's' : ''} ${extra.map((k) => (key ? `${key}.${k}` : k)).join(', ')}`
        : `${key || '(root)'} ${error.message}`;
      issues.push(where ? `${label} (from ${where})` : label);
    }
    throw new ConfigError(name, issues);
  }
  return value as Static<T>;
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
        sources.set(path, `${child.env}=${JSON.stringify(raw)}`);
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

export { authSettings, dataDir, listenSettings, serviceSettings } from './common.ts';
