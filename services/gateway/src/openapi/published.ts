/**
 * The gateway's `/openapi.json`: the merge (merge.ts) of what its upstreams serve at their own
 * `/openapi.json`, fetched lazily and kept:
 * - built at the first request, and again at the first request after a reload (a new runtime);
 * - older than `maxAgeMs` (or missing an upstream's part, after `retryMs`), still served while a
 *   fresh one is fetched behind it, so a slow upstream never holds a request for the document;
 * - each upstream is asked instance after instance, each for at most `timeoutMs` and
 *   `maxBytes`; one that gives no document leaves its routes out until the next refresh.
 */
import type { OpenApiDocument } from '@portico/http';
import type { FastifyBaseLogger } from 'fastify';
import type { Runtime } from '../runtime.ts';
import { describe } from '../upstream/upstream.ts';
import { mergeDocuments } from './merge.ts';

export interface PublishedOptions {
  runtime: () => Runtime;
  issuer: string;
  log: FastifyBaseLogger;
  /** @default 60000 */
  maxAgeMs?: number;
  /** How soon a document missing an upstream's part is fetched again. @default 5000 */
  retryMs?: number;
  /** @default 3000 */
  timeoutMs?: number;
  /** @default 8 MiB */
  maxBytes?: number;
  /** Reads an instance's document instead of fetching its `/openapi.json` (services built in process). */
  read?: (instance: string) => Promise<OpenApiDocument>;
}

interface Built {
  at: number;
  document: OpenApiDocument;
  missing: string[];
}

export function publishedDocument(options: PublishedOptions) {
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const retryMs = options.retryMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 3000;
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  let current: { runtime: Runtime; built: Promise<Built> } | undefined;
  let refreshing: Promise<void> | undefined;

  const read = options.read ?? fetchDocument;

  async function fetchDocument(instance: string): Promise<OpenApiDocument> {
    const res = await fetch(`${instance}/openapi.json`, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    });
    if (!res.ok) throw new Error(`${res.status} from ${instance}/openapi.json`);
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > maxBytes) throw new Error(`${instance}/openapi.json is ${length} bytes`);
    const text = await res.text();
    if (text.length > maxBytes) throw new Error(`${instance}/openapi.json is over ${maxBytes} bytes`);
    return JSON.parse(text) as OpenApiDocument;
  }

  async function build(runtime: Runtime): Promise<Built> {
    const names = new Set<string>();
    for (const { def } of runtime.routes) {
      if (def.upstream) names.add(def.upstream);
      for (const branch of Object.values(def.aggregate?.branches ?? {})) names.add(branch.upstream);
    }
    const documents = new Map<string, OpenApiDocument>();
    const missing: string[] = [];
    await Promise.all(
      [...names].map(async (name) => {
        const instances = runtime.file.upstreams[name]?.instances ?? [];
        for (const instance of instances) {
          try {
            documents.set(name, await read(instance));
            return;
          } catch (err) {
            options.log.warn({ upstream: name, instance, err: describe(err) }, 'no OpenAPI document');
          }
        }
        missing.push(name);
      }),
    );
    // Upstreams in the file's order, so the merged document does not depend on who answered first.
    const ordered = new Map([...names].filter((n) => documents.has(n)).map((n) => [n, documents.get(n)!]));
    const document = mergeDocuments(runtime, ordered, { issuer: options.issuer });
    return { at: Date.now(), document, missing: missing.sort() };
  }

  return {
    /** The merged document, fetched now if the gateway file changed since it was built. */
    async document(): Promise<OpenApiDocument> {
      const runtime = options.runtime();
      if (current?.runtime !== runtime) current = { runtime, built: build(runtime) };
      const pending = current;
      let built: Built;
      try {
        built = await pending.built;
      } catch (err) {
        if (current === pending) current = undefined;
        throw err;
      }
      if (!refreshing && Date.now() - built.at > (built.missing.length ? retryMs : maxAgeMs)) {
        refreshing = build(runtime)
          .then((next) => {
            if (current?.runtime === runtime) current = { runtime, built: Promise.resolve(next) };
          })
          .catch((err) => options.log.warn({ err: describe(err) }, 'refreshing the OpenAPI document failed'))
          .finally(() => {
            refreshing = undefined;
          });
      }
      return built.missing.length
        ? { ...built.document, 'x-portico-missing-upstreams': built.missing }
        : built.document;
    },
  };
}
