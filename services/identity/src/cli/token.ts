/**
 * `npm run -s token -- --user alice` prints an access token for a demo user, obtained
 * through the real authorization code + PKCE flow against the running identity service.
 *
 *   curl -H "Authorization: Bearer $(npm run -s token -- --user alice)" http://localhost:8001/api/v1/users/me
 *
 * The password comes from --password, else PORTICO_PASSWORD, else the demo logins file
 * the identity service wrote on its first start (IDENTITY_DEMO_LOGINS_FILE, default
 * $PORTICO_DATA_DIR/identity-demo-logins.json). An account with two-step sign-in also needs
 * --code (the authenticator's six digits, or a recovery code).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dataDir } from '@portico/config';
import { readDemoLogins } from '../domain/demo.ts';
import { FlowError } from './browser.ts';
import { obtainToken } from './token-flow.ts';

const API_SCOPES =
  'catalog:read catalog:write orders:read orders:write payments:read payments:write users:read users:write';

const USAGE = `usage: npm run -s token -- --user <name> [--password <pw>] [--code <totp or recovery code>] [--issuer <url>] [--scope "<scopes>"] [--json]`;

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        user: { type: 'string', short: 'u' },
        password: { type: 'string' },
        code: { type: 'string' },
        issuer: { type: 'string', default: process.env.IDENTITY_ISSUER ?? 'http://localhost:9000' },
        client: { type: 'string', default: 'portico-cli' },
        'redirect-uri': { type: 'string', default: 'http://127.0.0.1/callback' },
        scope: { type: 'string', default: `openid profile email ${API_SCOPES}` },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help || typeof values.user !== 'string') {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const username = values.user;
  const loginsFile = process.env.IDENTITY_DEMO_LOGINS_FILE ?? join(dataDir, 'identity-demo-logins.json');
  const password =
    (values.password as string | undefined) ||
    process.env.PORTICO_PASSWORD ||
    readDemoLogins(loginsFile).find((l) => l.username === username)?.password;
  if (!password) {
    console.error(
      `No password for ${username}: pass --password or PORTICO_PASSWORD (demo passwords are in ${loginsFile} after the first start).`,
    );
    return 1;
  }
  try {
    const tokens = await obtainToken({
      issuer: values.issuer as string,
      clientId: values.client as string,
      redirectUri: values['redirect-uri'] as string,
      scope: values.scope as string,
      credentials: {
        username,
        password,
        ...(typeof values.code === 'string' ? { code: () => values.code as string } : {}),
      },
    });
    console.log(values.json ? JSON.stringify(tokens, null, 2) : tokens.access_token);
    return 0;
  } catch (err) {
    if (err instanceof FlowError && err.status === 401)
      console.error(`Wrong ${values.code ? 'password or code' : 'password'} for ${username}.`);
    else if (err instanceof FlowError && /second factor/.test(err.message))
      console.error(`${username} has two-step sign-in: pass --code with the authenticator's code.`);
    else if (err instanceof FlowError && err.status === 429)
      console.error('Too many failed sign-ins; wait and retry.');
    else if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED')
      console.error(`Nothing answers at ${values.issuer}: start Portico first (npm start).`);
    else console.error(`Could not obtain a token: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = await main();
