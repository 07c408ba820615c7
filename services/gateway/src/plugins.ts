/**
 * Policies written outside Portico, named by the gateway file's `plugins:` (Kong's plugin
 * server and Zuplo's custom policies, in-process): each entry is a path, read from the
 * gateway file's folder, or a package name, and its module's default export is a
 * `definePolicy({...})` from `@portico/gateway/policy`. Loaded before the file is checked, so
 * a plugin's keys are part of the schema the routes are held to; a module that is not a
 * policy is refused with the gateway file's other problems, naming the entry.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, Type } from '@portico/config';
import type { GatewayFile } from './config.ts';
import type { AnyPolicy } from './policy.ts';

const Declared = Type.Object({ plugins: Type.Optional(Type.Array(Type.String())) });

/** The `plugins:` of a gateway file, read before the rest of it is checked. */
export function declaredPlugins(source: string | GatewayFile): string[] {
  if (typeof source !== 'string') return source.plugins ?? [];
  try {
    return loadConfig('gateway file', Declared, { file: source, env: {} }).plugins ?? [];
  } catch {
    // Unreadable, or `plugins` is not a list of strings: the full check says so.
    return [];
  }
}

/** Imports each plugin; `from` is the gateway file's folder (the working directory for a definition in code). */
export async function loadPlugins(specifiers: readonly string[], from: string): Promise<AnyPolicy[]> {
  const loaded: AnyPolicy[] = [];
  const issues: string[] = [];
  for (const [i, specifier] of specifiers.entries()) {
    const local = specifier.startsWith('.') || isAbsolute(specifier);
    const target = local ? pathToFileURL(resolve(from, specifier)).href : specifier;
    let module: { default?: unknown };
    try {
      module = await import(target);
    } catch (err) {
      issues.push(`plugins.${i} "${specifier}" cannot be loaded (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    const definition = module.default as Partial<AnyPolicy> | undefined;
    if (
      !definition ||
      typeof definition.name !== 'string' ||
      typeof definition.priority !== 'number' ||
      typeof definition.create !== 'function' ||
      typeof definition.route !== 'object'
    ) {
      issues.push(
        `plugins.${i} "${specifier}" does not export a policy as default (definePolicy({ name, priority, route, create }))`,
      );
      continue;
    }
    loaded.push(definition as AnyPolicy);
  }
  if (issues.length > 0) throw new ConfigError('gateway file', issues);
  return loaded;
}

/** The plugins a gateway file (or a definition in code) names, loaded. */
export function pluginsOf(source: string | GatewayFile): Promise<AnyPolicy[]> {
  const from = typeof source === 'string' ? dirname(resolve(source)) : process.cwd();
  return loadPlugins(declaredPlugins(source), from);
}
