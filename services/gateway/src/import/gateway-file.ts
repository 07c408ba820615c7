/**
 * Imported entries (routes.ts) into a gateway file, new or existing, YAML or JSON:
 * - the file's other upstreams and routes are kept as they are; an upstream of the same name is
 *   refused unless `replace`, which swaps it and its routes in place;
 * - a route on a path another route has, or with another route's name, is refused: the gateway
 *   would send that path to one of them only;
 * - the whole file is checked as the gateway checks it at start (its schema, with the plugins it
 *   names, and each policy's own checks) before anything is written, and a problem with an
 *   imported value is named where it came from in the document;
 * - YAML through the `yaml` Document API, so comments stay; new entries are added as text after
 *   the last upstream and the last route, leaving every other byte of the file alone, unless the
 *   file's shape does not allow it (a flow collection, `replace`), when the document is printed
 *   again whole (comments kept, spacing normalised).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '@portico/config';
import { Document, isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { type GatewayFile, gatewayFileSchema, loadGatewayFile } from '../config.ts';
import { declaredPlugins, loadPlugins } from '../plugins.ts';
import type { AnyPolicy } from '../policy.ts';
import { ImportError, type Imported } from './routes.ts';

type Json = Record<string, unknown>;

export interface GatewayFileTarget {
  file: string;
  /** The file's text; undefined when it does not exist yet. */
  text: string | undefined;
  document: Document;
  plugins: AnyPolicy[];
  /** Every key a route may have, the plugins' included. */
  routeKeys: Set<string>;
}

const PRINT = { lineWidth: 0, flowCollectionPadding: true } as const;

export async function openGatewayFile(path: string): Promise<GatewayFileTarget> {
  const file = resolve(path);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  let document: Document;
  if (text === undefined || text.trim() === '') document = new Document({ upstreams: {}, routes: [] });
  else if (file.endsWith('.json')) {
    try {
      document = new Document(JSON.parse(text));
    } catch (err) {
      throw new ImportError(file, [`cannot parse it: ${(err as Error).message}`]);
    }
  } else {
    document = parseDocument(text);
    if (document.errors.length > 0)
      throw new ImportError(
        file,
        document.errors.map((err) => `cannot parse it: ${err.message}`),
      );
  }
  if (!isMap(document.contents)) throw new ImportError(file, ['its top level must be a mapping']);
  let plugins: AnyPolicy[];
  try {
    plugins = await loadPlugins(declaredPlugins(document.toJS() as GatewayFile), dirname(file));
  } catch (err) {
    if (err instanceof ConfigError) throw new ImportError(file, err.issues);
    throw err;
  }
  const routeItem = gatewayFileSchema(plugins).properties.routes.items as unknown as {
    properties: Record<string, unknown>;
  };
  return { file, text, document, plugins, routeKeys: new Set(Object.keys(routeItem.properties)) };
}

/** The gateway file with `imported` in it, checked, as the text to write. */
export function withImported(target: GatewayFileTarget, imported: Imported, replace = false): string {
  const { document, file } = target;
  const before = (document.toJS() ?? {}) as Json;
  const name = imported.upstream.name;
  const upstreams = (before.upstreams ?? {}) as Json;
  const routes = (before.routes ?? []) as Json[];
  const issues: string[] = [];

  const replaced = routes.flatMap((route, i) => (route.upstream === name ? [i] : []));
  if (name in upstreams && !replace) {
    const names = replaced.map((i) => routes[i]!.name).join(', ');
    issues.push(
      `upstreams.${name} is already in ${file}${names ? ` (routes ${names})` : ''}: --replace replaces it and its routes, --upstream names another`,
    );
  }
  // Routes of this upstream are replaced, or refused above with it.
  const kept = routes.filter((route) => route.upstream !== name);
  for (const route of imported.routes) {
    for (const other of kept) {
      const otherPath = String(other.path).replace(/(.)\/+$/, '$1');
      if (other.name === route.name)
        issues.push(`route ${route.name} (for ${route.path}) is already a route's name in ${file}`);
      else if (otherPath === route.path)
        issues.push(
          `${route.path} is already served by route ${String(other.name)} in ${file}; --prefix puts the imported paths elsewhere`,
        );
    }
  }
  if (issues.length > 0) throw new ImportError(imported.upstream.name, issues);

  const after: Json = {
    ...before,
    upstreams: { ...upstreams, [name]: imported.upstream.definition },
    routes: [...routes, ...imported.routes],
  };
  // Replaced routes give their place to the new ones.
  if (replace && replaced.length > 0) {
    const at = replaced[0]!;
    after.routes = [
      ...routes.slice(0, at).filter((r) => r.upstream !== name),
      ...imported.routes,
      ...routes.slice(at).filter((r) => r.upstream !== name),
    ];
  }
  check(after, target, imported);

  if (file.endsWith('.json')) return `${JSON.stringify(after, null, 2)}\n`;
  const comment = ` ${name}: from ${imported.source} (npm run gateway -- import)`;
  const edited = target.text === undefined ? undefined : spliced(target, imported, comment);
  if (edited !== undefined && same(parseDocument(edited).toJS(), after)) return edited;
  return printed(document, imported, replace, comment);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The gateway's own check of the whole file, its problems with imported values named in the document. */
function check(file: Json, target: GatewayFileTarget, imported: Imported): void {
  try {
    // Checked on a copy: loading fills in the schema's defaults, which are not written.
    loadGatewayFile(structuredClone(file) as GatewayFile, target.plugins);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const routes = file.routes as Json[];
    const named = (issue: string) =>
      issue
        .replace(
          /routes\.(\d+)((?:\.[A-Za-z0-9_-]+)*)/g,
          (whole, index: string, rest: string) =>
            place(imported.origins.get(String(routes[Number(index)]?.name)), rest) ?? whole,
        )
        .replace(
          new RegExp(
            `upstreams\\.${imported.upstream.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}((?:\\.[A-Za-z0-9_-]+)*)`,
            'g',
          ),
          (whole, rest: string) => place(imported.origins.get('upstream'), rest) ?? whole,
        );
    throw new ImportError(imported.source, [...new Set(err.issues.map(named))]);
  }
}

/** `.rateLimit.limit` → `paths./notes.x-portico-rate-limit.limit`, from the longest key path that has an origin. */
function place(origins: Map<string, string> | undefined, rest: string): string | undefined {
  if (!origins) return undefined;
  const parts = rest.split('.').slice(1);
  for (let n = parts.length; n > 0; n--) {
    const where = origins.get(parts.slice(0, n).join('.'));
    if (where) return [where, ...parts.slice(n)].join('.');
  }
  return undefined;
}

/** A route as YAML: block keys, each value that is a collection on one line. */
function routeNode(document: Document, route: Json) {
  const node = document.createNode(route, { aliasDuplicateObjects: false }) as YAMLMap;
  for (const pair of node.items) {
    const value = pair.value as YAMLMap | YAMLSeq | undefined;
    if (isMap(value) || isSeq(value)) value.flow = true;
  }
  return node;
}

function upstreamNode(document: Document, definition: Json) {
  const node = document.createNode(definition, { aliasDuplicateObjects: false }) as YAMLMap;
  node.flow = true;
  return node;
}

type Ranged = { range?: [number, number, number] | null };
interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * The file with the import in it, as edits of its text: the upstream after the last one (or in
 * place of the one it replaces), the routes after the last route (or where the first route
 * they replace was). Undefined when the file's shape is not one this can edit.
 */
function spliced(target: GatewayFileTarget, imported: Imported, comment: string): string | undefined {
  const text = target.text!;
  const name = imported.upstream.name;
  const upstreams = target.document.get('upstreams');
  const routes = target.document.get('routes');
  if (!isMap(upstreams) || upstreams.flow || upstreams.items.length === 0) return undefined;
  if (!isSeq(routes) || routes.flow || routes.items.length === 0) return undefined;

  const lineStart = (offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
  // The end of the line a node's content ends on (its range may run on over blank lines).
  const lineEnd = (offset: number) => {
    let last = offset;
    while (last > 0 && /\s/.test(text[last - 1]!)) last--;
    const end = text.indexOf('\n', last);
    return end < 0 ? text.length : end;
  };
  const indent = (lines: string, by: number) =>
    lines
      .trimEnd()
      .split('\n')
      .map((line) => ' '.repeat(by) + line)
      .join('\n');
  const edits: Edit[] = [];

  const entry = new Document({ [name]: null });
  (entry.contents as YAMLMap).items[0]!.value = upstreamNode(entry, imported.upstream.definition);
  const upstreamText = entry.toString(PRINT).trimEnd();
  const own = upstreams.items.find((pair) => (pair.key as { value?: unknown }).value === name);
  const firstKey = (upstreams.items[0]!.key as Ranged).range;
  if (!firstKey) return undefined;
  if (own) {
    const key = (own.key as Ranged).range;
    const value = (own.value as Ranged).range;
    if (!key || !value) return undefined;
    edits.push({ start: key[0], end: lineEnd(value[1]), text: upstreamText });
  } else {
    const last = (upstreams.items.at(-1)!.value as Ranged).range;
    if (!last) return undefined;
    const at = lineEnd(last[1]);
    edits.push({
      start: at,
      end: at,
      text: `\n${indent(upstreamText, firstKey[0] - lineStart(firstKey[0]))}`,
    });
  }

  const scratch = new Document();
  const seq = new Document([]);
  (seq.contents as YAMLSeq).items = imported.routes.map((route) => routeNode(scratch, route));
  const block = (column: number) => indent(`#${comment}\n${seq.toString(PRINT)}`, column);
  const items = routes.items as Ranged[];
  const replaced = items.filter((item) => isMap(item) && item.get('upstream') === name);
  const marker = new RegExp(
    `^[ \\t]*# ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: from .*\\(npm run gateway -- import\\)\\n`,
  );
  for (const [i, item] of replaced.entries()) {
    if (!item.range) return undefined;
    const dash = text.lastIndexOf('-', item.range[0]);
    let start = lineStart(dash);
    const end = Math.min(text.length, lineEnd(item.range[1]) + 1);
    if (i === 0) {
      // The comment an earlier import wrote goes with the routes it named.
      const previous = lineStart(start - 1);
      if (start > 0 && marker.test(text.slice(previous, start))) start = previous;
      edits.push({ start, end, text: `${block(dash - lineStart(dash))}\n` });
    } else edits.push({ start, end, text: '' });
  }
  if (replaced.length === 0) {
    const last = items.at(-1)!.range;
    if (!last) return undefined;
    const dash = text.lastIndexOf('-', last[0]);
    const at = lineEnd(last[1]);
    edits.push({ start: at, end: at, text: `\n\n${block(dash - lineStart(dash))}` });
  }

  edits.sort((a, b) => b.start - a.start);
  let out = text;
  for (let i = 0; i < edits.length; i++) {
    const edit = edits[i]!;
    if (i > 0 && edit.end > edits[i - 1]!.start) return undefined;
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  }
  return out.endsWith('\n') ? out : `${out}\n`;
}

/** The whole document printed again with the import in it (comments kept). */
function printed(document: Document, imported: Imported, replace: boolean, comment: string): string {
  const name = imported.upstream.name;
  if (!isMap(document.get('upstreams'))) document.set('upstreams', document.createNode({}));
  (document.get('upstreams') as YAMLMap).set(name, upstreamNode(document, imported.upstream.definition));
  if (!isSeq(document.get('routes'))) document.set('routes', document.createNode([]));
  const routes = document.get('routes') as YAMLSeq;
  const nodes = imported.routes.map((route) => routeNode(document, route));
  nodes[0]!.commentBefore = comment;
  const ofUpstream = (item: unknown) => isMap(item) && item.get('upstream') === name;
  const first = replace ? routes.items.findIndex(ofUpstream) : -1;
  if (first >= 0) {
    const rest = routes.items.filter((item, i) => i < first || !ofUpstream(item));
    rest.splice(first, 0, ...nodes);
    routes.items = rest;
  } else routes.items.push(...nodes);
  return document.toString(PRINT);
}
