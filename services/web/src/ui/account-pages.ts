/**
 * Two-step sign-in is turned on at the identity service, on its own server-rendered pages
 * (it asks for the password again there); the console links to `/account/two-step`, which
 * sends the browser to the provider's page, wherever the provider is deployed.
 */
import type { Server } from '@portico/http';

export function twoStepRoutes(server: Server, options: { issuer: string }): void {
  const target = new URL(
    'account/two-step',
    options.issuer.endsWith('/') ? options.issuer : `${options.issuer}/`,
  );
  server.get('/account/two-step', { schema: { hide: true } }, (_request, reply) =>
    reply.header('cache-control', 'no-store').redirect(target.href, 303),
  );
}
