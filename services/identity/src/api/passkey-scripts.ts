/**
 * The two scripts the passkey buttons need, served from this origin (the pages' CSP allows
 * only 'self'): @simplewebauthn/browser's prebuilt UMD bundle as it ships in the package (no
 * bundler), and browser/passkeys.js. Both are read once at start-up.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

async function bundledWebauthn(): Promise<string> {
  // The package exports only its ESM entry (esm/index.js); the bundle sits at dist/bundle.
  const entry = fileURLToPath(import.meta.resolve('@simplewebauthn/browser'));
  return readFile(join(dirname(entry), '..', 'dist', 'bundle', 'index.umd.min.js'), 'utf8');
}

export async function passkeyScripts(server: FastifyInstance): Promise<void> {
  const scripts: Record<string, string> = {
    'webauthn.js': await bundledWebauthn(),
    'passkeys.js': await readFile(new URL('./browser/passkeys.js', import.meta.url), 'utf8'),
  };
  server.get('/passkeys/:file', { schema: { hide: true } }, async (request, reply) => {
    const script = scripts[(request.params as { file: string }).file];
    if (script === undefined) return reply.callNotFound();
    return reply.header('cache-control', 'no-cache').type('text/javascript; charset=utf-8').send(script);
  });
}
