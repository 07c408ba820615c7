/**
 * A service written outside Portico, put behind the gateway from its OpenAPI document: plain
 * node:http, no framework, notes kept in memory per user. Its contract is openapi.yaml beside
 * this file, served at /openapi.json; its x-portico-* keys ask the gateway for rate limits and
 * a body limit, and its security for tokens with notes:read or notes:write.
 *
 *   NOTES_PORT=8090 node services/gateway/examples/notes/index.ts
 *   npm run gateway -- import http://127.0.0.1:8090/openapi.json --file /tmp/gateway.yaml
 *   GATEWAY_FILE=/tmp/gateway.yaml node services/gateway/src/main.ts
 *
 * It trusts the gateway for who calls: the user is the `X-Gateway-User-Id` the gateway sets from
 * the verified token (and removes from whatever a client sends). Reached any other way, it
 * answers 401. Do not expose it except through the gateway.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';

export const DOCUMENT_FILE = new URL('./openapi.yaml', import.meta.url);

interface Note {
  id: string;
  text: string;
  created_at: string;
}

const MAX_BODY = 16 * 1024;

function send(res: ServerResponse, status: number, body?: unknown, type = 'application/json') {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(
    status,
    body === undefined ? {} : { 'content-type': type, 'content-length': Buffer.byteLength(text) },
  );
  res.end(text);
}

function problem(res: ServerResponse, status: number, title: string, detail: string) {
  send(res, status, { type: 'about:blank', title, status, detail }, 'application/problem+json');
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface NotesService {
  url: string;
  close(): Promise<void>;
}

export async function startNotes(options: { port?: number; host?: string } = {}): Promise<NotesService> {
  const contract = parse(readFileSync(DOCUMENT_FILE, 'utf8')) as Record<string, unknown>;
  const notes = new Map<string, Map<string, Note>>();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const { pathname } = new URL(req.url ?? '/', 'http://notes');
    const method = req.method ?? 'GET';
    if (pathname === '/health') return send(res, 200, { status: 'healthy' });
    if (pathname === '/openapi.json') {
      // Its servers are where it was reached, so an import from this URL finds it.
      const origin = `http://${req.headers.host ?? '127.0.0.1'}`;
      return send(res, 200, { ...contract, servers: [{ url: origin }] });
    }
    const id = /^\/notes\/([^/]+)$/.exec(pathname)?.[1];
    if (pathname !== '/notes' && id === undefined)
      return problem(res, 404, 'Not Found', `No resource at ${pathname}`);

    const user = req.headers['x-gateway-user-id'];
    if (typeof user !== 'string' || user === '')
      return problem(res, 401, 'Unauthorized', 'Call this service through the gateway');
    const own = notes.get(user) ?? new Map<string, Note>();
    notes.set(user, own);

    if (id === undefined && method === 'GET') return send(res, 200, { data: [...own.values()] });
    if (id === undefined && method === 'POST') {
      const text = await readBody(req);
      if (text === undefined)
        return problem(res, 413, 'Content Too Large', `A note is ${MAX_BODY} bytes at most`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return problem(res, 400, 'Bad Request', 'The body is not JSON');
      }
      const value = (body as { text?: unknown } | null)?.text;
      if (typeof value !== 'string' || value === '' || value.length > 2000)
        return problem(res, 400, 'Bad Request', 'text must be a string of 1 to 2000 characters');
      const note = { id: randomUUID(), text: value, created_at: new Date().toISOString() };
      own.set(note.id, note);
      res.setHeader('location', `/notes/${note.id}`);
      return send(res, 201, note);
    }
    if (id !== undefined && (method === 'GET' || method === 'DELETE')) {
      const note = own.get(decodeURIComponent(id));
      if (!note) return problem(res, 404, 'Not Found', `You have no note ${id}`);
      if (method === 'GET') return send(res, 200, note);
      own.delete(note.id);
      return send(res, 204);
    }
    res.setHeader('allow', id === undefined ? 'GET, POST' : 'GET, DELETE');
    return problem(res, 405, 'Method Not Allowed', `${method} is not allowed on ${pathname}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => problem(res, 500, 'Internal Server Error', 'Something went wrong'));
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.main) {
  const service = await startNotes({ port: Number(process.env.NOTES_PORT ?? 8090) });
  console.log(`notes listening on ${service.url}; its contract at ${service.url}/openapi.json`);
}
