/**
 * The route × scope table, read from the routes' own declarations (@portico/auth `config.access`):
 * `npm run -s docs:scopes` writes docs/scopes.md, and a test fails when the committed one is stale.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeclaredRoute, declaredRoutes, isPublic, type TokenVerifier } from '@portico/auth';
import { loadConfig, type TSchema } from '@portico/config';
import type { ServiceModule } from '@portico/http';
import type { FastifyInstance } from 'fastify';
import { services } from './services.ts';

/** The resource services: every route they have declares its access. */
export const SCOPED_SERVICES = ['catalog', 'users', 'orders', 'payments'] as const;
export type ScopedService = (typeof SCOPED_SERVICES)[number];

type Build = (config: unknown, deps: { verifier?: TokenVerifier }) => Promise<FastifyInstance>;

/** Builds a resource service on a throw-away SQLite file, to read or call its routes. */
export async function buildScoped(
  name: ScopedService,
  options: { dir: string; verifier?: TokenVerifier },
): Promise<FastifyInstance> {
  const module = services.find((s) => s.name === name)!.module as ServiceModule<TSchema>;
  const config = loadConfig(name, module.ConfigSchema, {
    env: { CATALOG_DEMO_DATA: 'false' },
    overrides: { databaseUrl: `sqlite:${join(options.dir, `${name}.db`)}`, logLevel: 'silent' } as never,
  });
  return (module.build as unknown as Build)(config, { verifier: options.verifier });
}

export async function declarations(): Promise<Record<ScopedService, readonly DeclaredRoute[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-scopes-'));
  const out = {} as Record<ScopedService, readonly DeclaredRoute[]>;
  try {
    for (const name of SCOPED_SERVICES) {
      const server = await buildScoped(name, { dir });
      await server.ready();
      out[name] = declaredRoutes(server);
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export function scopeTable(routes: Record<ScopedService, readonly DeclaredRoute[]>): string {
  const lines = [
    '# Routes and the scopes they need',
    '',
    "<!-- Generated from the routes' `config.access` declarations by services/platform/src/scopes.ts",
    '     (`npm run -s docs:scopes`); a test fails when this file is stale. Do not edit by hand. -->',
    '',
    'A scoped route needs an access token carrying its scope (401 without a valid token, 403',
    '`insufficient_scope` without the scope) and, where roles are named, a user holding one of them.',
    'Identity grants each API scope only to the roles `api.scopes` allows, checked again at every',
    'token issuance, refreshes included. See [security.md](security.md).',
    '',
  ];
  for (const name of SCOPED_SERVICES) {
    lines.push(`## ${name}`, '', '| Method | Path | Needs | Roles |', '| --- | --- | --- | --- |');
    const sorted = [...routes[name]].sort(
      (a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method),
    );
    for (const { method, url, access } of sorted) {
      const needs = isPublic(access)
        ? access.token === 'optional'
          ? 'public (a token, if sent, is checked)'
          : 'public'
        : `\`${access.scope}\``;
      const roles = !isPublic(access) && access.roles ? access.roles.join(', ') : '';
      lines.push(`| ${method} | \`${url}\` | ${needs} | ${roles} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export const SCOPES_DOC = new URL('../../../docs/scopes.md', import.meta.url);

if (import.meta.main) {
  writeFileSync(SCOPES_DOC, scopeTable(await declarations()));
}
