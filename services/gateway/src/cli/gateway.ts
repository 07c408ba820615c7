/**
 * `npm run gateway -- <command>`: the gateway's commands for whoever runs it.
 *
 *   npm run gateway -- import http://127.0.0.1:8080/openapi.json --rate-limit 100/1m
 *   npm run gateway -- import ./notes.yaml --file my-gateway.yaml --prefix /api/notes --dry-run
 *
 * `import` puts a service behind the gateway from its OpenAPI document: an upstream from its
 * servers, a route per path with the methods it lists, auth from its security, policies from its
 * `x-portico-*` extensions, and the flags below over those (docs/gateway.md, "Bring your own
 * service"). The gateway file is GATEWAY_FILE, else the embedded one, unless --file names another.
 */
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { EMBEDDED_FILE } from '../config.ts';
import { importDocument } from '../import/import.ts';
import { ImportError } from '../import/routes.ts';

const USAGE = `usage: npm run gateway -- import <openapi file or url> [options]
  --file <gateway file>     where the routes go (default: GATEWAY_FILE, else ${EMBEDDED_FILE})
  --upstream <name>         the upstream's name (default: from info.title)
  --server <url>            the service's URL (default: the document's servers[0])
  --prefix </path>          where its paths go on the gateway (default: the server URL's path)
  --auth <rule>             every method's rule: public, token, or "{ scopes: [a, b] }"
  --scopes <a,b>            scopes a token needs, all of them, on every guarded method
  --rate-limit <n>/<window> per consumer per route, e.g. 100/1m
  --cache <ttl>             cache GET answers, e.g. 5m
  --set <key>=<value>       any other route key of the gateway file, value in YAML (repeatable)
  --replace                 replace an upstream of the same name and its routes
  --dry-run                 print the gateway file instead of writing it`;

class UsageError extends Error {}

function yamlValue(flag: string, text: string): unknown {
  try {
    return parse(text);
  } catch (err) {
    throw new UsageError(`${flag} ${text}: ${(err as Error).message.split('\n')[0]}`);
  }
}

function overridesFrom(values: Record<string, string | boolean | string[] | undefined>) {
  const overrides: Record<string, unknown> = {};
  if (typeof values.auth === 'string') {
    overrides.auth = yamlValue('--auth', values.auth);
  }
  if (typeof values.scopes === 'string')
    overrides.scopes = values.scopes.split(/[\s,]+/).filter((scope) => scope !== '');
  if (typeof values['rate-limit'] === 'string') {
    const match = /^(\d+)\/(\d+(?:ms|s|m|h))$/.exec(values['rate-limit']);
    if (!match) throw new UsageError('--rate-limit must be <requests>/<window>, e.g. 100/1m');
    overrides.rateLimit = { limit: Number(match[1]), window: match[2] };
  }
  if (typeof values.cache === 'string') overrides.cache = { ttl: values.cache };
  for (const setting of (values.set as string[] | undefined) ?? []) {
    const at = setting.indexOf('=');
    if (at < 1) throw new UsageError(`--set ${setting}: give <key>=<value>`);
    overrides[setting.slice(0, at)] = yamlValue('--set', setting.slice(at + 1));
  }
  return overrides;
}

async function runImport(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      file: { type: 'string', default: process.env.GATEWAY_FILE || EMBEDDED_FILE },
      upstream: { type: 'string' },
      server: { type: 'string' },
      prefix: { type: 'string' },
      auth: { type: 'string' },
      scopes: { type: 'string' },
      'rate-limit': { type: 'string' },
      cache: { type: 'string' },
      set: { type: 'string', multiple: true },
      replace: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError('give one OpenAPI document: a file or a URL');
  const { imported, target, text } = await importDocument({
    source: positionals[0]!,
    file: values.file,
    overrides: overridesFrom(values),
    replace: values.replace,
    dryRun: values['dry-run'],
    ...(values.upstream !== undefined ? { upstream: values.upstream } : {}),
    ...(values.server !== undefined ? { server: values.server } : {}),
    ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
  });
  for (const warning of imported.warnings) console.error(`warning: ${warning}`);
  if (values['dry-run']) process.stdout.write(text);
  const { name, definition } = imported.upstream;
  console.error(
    `${values['dry-run'] ? 'would write' : 'wrote'} ${target.file}: upstream ${name} (${(definition.instances as string[]).join(', ')})`,
  );
  for (const route of imported.routes)
    console.error(
      `  ${route.name}: ${route.methods.join(' ')} ${route.path}${route.exact ? '' : ' and below'}`,
    );
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'import') return await runImport(rest);
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      console.error(USAGE);
      return command === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command ${command}`);
  } catch (err) {
    if (err instanceof ImportError) {
      console.error(err.message);
      return 1;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
