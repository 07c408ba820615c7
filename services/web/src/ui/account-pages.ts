/**
 * A user's sign-in methods are managed at the identity service, on its own server-rendered
 * pages (they ask for the password again there); the console links to `/account/security`
 * (passkeys, the authenticator app, recovery codes) and `/account/two-step`, which send the
 * browser to the provider's page of that name, wherever the provider is deployed.
 */
import type { Server } from '@portico/http';

const PAGES = ['account/security', 'account/two-step', 'account/passkeys'] as const;

export function accountPageRoutes(server: Server, options: { issuer: string }): void {
  const base = options.issuer.endsWith('/') ? options.issuer : `${options.issuer}/`;
  for (const path of PAGES) {
    const target = new URL(path, base);
    server.get(`/${path}`, { schema: { hide: true } }, (_request, reply) =>
      reply.header('cache-control', 'no-store').redirect(target.href, 303),
    );
  }
}
