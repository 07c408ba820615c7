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
 *
 * `--device` uses the device authorization grant (RFC 8628) instead, for a terminal without
 * a browser: it prints where to go and the code to enter (on stderr), and waits.
 * `--dpop <key file>` binds the token to a key (RFC 9449; the file is made on first use), and
 * `--proof` prints the DPoP proof for one request with that key:
 *
 *   T=$(npm run -s token -- --device --dpop cli-key.json)
 *   curl -H "Authorization: DPoP $T" \
 *        -H "DPoP: $(npm run -s token -- --proof --dpop cli-key.json --access-token "$T" GET http://localhost:8000/api/v1/users/me)" \
 *        http://localhost:8000/api/v1/users/me
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dataDir } from '@portico/config';
import { readDemoLogins } from '../domain/demo.ts';
import { FlowError } from './browser.ts';
import { obtainTokenByDevice } from './device-flow.ts';
import { dpopProof, loadOrCreateDpopKey } from './dpop-key.ts';
import { obtainToken } from './token-flow.ts';

const API_SCOPES =
  'catalog:read catalog:write orders:read orders:write payments:read payments:write users:read users:write';

const USAGE = `usage: npm run -s token -- --user <name> [--password <pw>] [--code <totp or recovery code>] [--issuer <url>] [--scope "<scopes>"] [--dpop <key file>] [--json]
       npm run -s token -- --device [--issuer <url>] [--scope "<scopes>"] [--dpop <key file>] [--json]
       npm run -s token -- --proof --dpop <key file> [--access-token <token>] <METHOD> <URL>`;

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      allowPositionals: true,
      options: {
        user: { type: 'string', short: 'u' },
        password: { type: 'string' },
        code: { type: 'string' },
        device: { type: 'boolean', default: false },
        dpop: { type: 'string' },
        proof: { type: 'boolean', default: false },
        'access-token': { type: 'string' },
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
  if (values.help) {
    console.error(USAGE);
    return 0;
  }
  const key = typeof values.dpop === 'string' ? await loadOrCreateDpopKey(values.dpop) : undefined;
  if (values.proof) {
    const [method, url] = positionals;
    if (!key || !method || !url) {
      console.error(USAGE);
      return 2;
    }
    const accessToken = values['access-token'] as string | undefined;
    console.log(await dpopProof(key, { method, url, ...(accessToken ? { accessToken } : {}) }));
    return 0;
  }
  if (!values.device && typeof values.user !== 'string') {
    console.error(USAGE);
    return 2;
  }
  const issuer = values.issuer as string;
  try {
    const tokens = values.device
      ? await obtainTokenByDevice(
          {
            issuer,
            clientId: values.client as string,
            scope: values.scope as string,
            ...(key ? { dpop: key } : {}),
          },
          (prompt) => {
            console.error(`To sign in, open ${prompt.verificationUri} and enter the code ${prompt.userCode}`);
            if (prompt.verificationUriComplete) {
              console.error(`(or open ${prompt.verificationUriComplete})`);
            }
            console.error(
              `Waiting for you to sign in; the code expires in ${Math.round(prompt.expiresIn / 60)} minutes.`,
            );
          },
        )
      : await passwordFlow(values, key);
    if (tokens === undefined) return 1;
    console.log(values.json ? JSON.stringify(tokens, null, 2) : tokens.access_token);
    return 0;
  } catch (err) {
    const username = values.user as string;
    const code = (err as { error?: string }).error;
    if (err instanceof FlowError && err.status === 401)
      console.error(`Wrong ${values.code ? 'password or code' : 'password'} for ${username}.`);
    else if (err instanceof FlowError && /second factor/.test(err.message))
      console.error(`${username} has two-step sign-in: pass --code with the authenticator's code.`);
    else if (err instanceof FlowError && err.status === 429)
      console.error('Too many failed sign-ins; wait and retry.');
    else if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED')
      console.error(`Nothing answers at ${issuer}: start Portico first (npm start).`);
    else if (code === 'access_denied') console.error('The sign-in was cancelled.');
    else if (code === 'expired_token') console.error('The code expired before anyone signed in; run again.');
    else console.error(`Could not obtain a token: ${(err as Error).message}`);
    return 1;
  }
}

async function passwordFlow(
  values: Record<string, string | boolean | undefined>,
  key: Awaited<ReturnType<typeof loadOrCreateDpopKey>> | undefined,
) {
  const username = values.user as string;
  const loginsFile = process.env.IDENTITY_DEMO_LOGINS_FILE ?? join(dataDir, 'identity-demo-logins.json');
  const password =
    (values.password as string | undefined) ||
    process.env.PORTICO_PASSWORD ||
    readDemoLogins(loginsFile).find((l) => l.username === username)?.password;
  if (!password) {
    console.error(
      `No password for ${username}: pass --password or PORTICO_PASSWORD (demo passwords are in ${loginsFile} after the first start).`,
    );
    return undefined;
  }
  return obtainToken({
    issuer: values.issuer as string,
    clientId: values.client as string,
    redirectUri: values['redirect-uri'] as string,
    scope: values.scope as string,
    credentials: {
      username,
      password,
      ...(typeof values.code === 'string' ? { code: () => values.code as string } : {}),
    },
    ...(key ? { dpop: key } : {}),
  });
}

process.exitCode = await main();
