/**
 * `portico gateway import`: an OpenAPI document (read.ts) as routes (routes.ts) in a gateway
 * file (gateway-file.ts), written in one step (a new file renamed over the old, so a watching
 * gateway reloads the whole of it or none).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { type GatewayFileTarget, openGatewayFile, withImported } from './gateway-file.ts';
import { readDocument } from './read.ts';
import { type Imported, importRoutes } from './routes.ts';

export interface ImportRequest {
  /** The OpenAPI document: a file or an http(s) URL. */
  source: string;
  /** The gateway file to write (made when missing). */
  file: string;
  upstream?: string;
  server?: string;
  prefix?: string;
  /** Route keys for every imported route, over the document's (`auth`: a rule for every method). */
  overrides?: Record<string, unknown>;
  /** Replace an upstream of the same name and its routes. */
  replace?: boolean;
  /** Do not write: only return the text. */
  dryRun?: boolean;
}

export interface ImportResult {
  imported: Imported;
  target: GatewayFileTarget;
  /** The gateway file's new text. */
  text: string;
}

export async function importDocument(request: ImportRequest): Promise<ImportResult> {
  const target = await openGatewayFile(request.file);
  const document = await readDocument(request.source);
  const imported = importRoutes(document, {
    source: request.source,
    routeKeys: target.routeKeys,
    ...(request.upstream !== undefined ? { upstream: request.upstream } : {}),
    ...(request.server !== undefined ? { server: request.server } : {}),
    ...(request.prefix !== undefined ? { prefix: request.prefix } : {}),
    ...(request.overrides ? { overrides: request.overrides } : {}),
  });
  const text = withImported(target, imported, request.replace);
  if (!request.dryRun) {
    const temporary = `${target.file}.${process.pid}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, target.file);
  }
  return { imported, target, text };
}
