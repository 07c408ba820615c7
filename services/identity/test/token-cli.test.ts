/**
 * The developer CLI (`npm run -s token -- --user alice`) against a running identity
 * service: it goes through the real authorization code + PKCE flow and prints a token
 * the API accepts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createTokenVerifier } from '@portico/auth';
import { codeAt, enrol, type RunningIdentity, startIdentity } from './support/harness.ts';

const run = promisify(execFile);
const CLI = new URL('../src/cli/token.ts', import.meta.url).pathname;

describe('token CLI', () => {
  let identity: RunningIdentity;
  const dir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
  const loginsFile = join(dir, 'identity-demo-logins.json');

  before(async () => {
    identity = await startIdentity({ url: 'sqlite::memory:' }, { demoLoginsFile: loginsFile });
  });
  after(async () => {
    await identity?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('prints an access token for a demo user, password from the demo logins file', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--user', 'admin', '--issuer', identity.issuer], {
      env: { ...process.env, IDENTITY_DEMO_LOGINS_FILE: loginsFile, PORTICO_PASSWORD: '' },
    });
    const token = stdout.trim();
    const verifier = createTokenVerifier({
      issuer: identity.issuer,
      audience: 'http://localhost:8000',
      jwksUri: `${identity.issuer}/jwks`,
    });
    const claims = await verifier.verify(token);
    assert.deepEqual(claims.roles, ['admin']);
    assert.equal(claims.client_id, 'portico-cli');
    assert.ok(claims.scopes.includes('catalog:write'));
  });

  test('a wrong password fails with a clear message and exit code 1', async () => {
    await assert.rejects(
      run(process.execPath, [CLI, '--user', 'alice', '--password', 'wrong', '--issuer', identity.issuer]),
      (err: { code: number; stderr: string; stdout: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr, /Wrong password for alice/);
        assert.equal(err.stdout, '');
        return true;
      },
    );
  });

  test('an account with two-step sign-in needs --code; with it the token says mfa', async () => {
    const { secret } = await enrol(identity, identity.login('alice'));
    const env = { ...process.env, IDENTITY_DEMO_LOGINS_FILE: loginsFile, PORTICO_PASSWORD: '' };
    const args = [CLI, '--user', 'alice', '--issuer', identity.issuer];
    await assert.rejects(run(process.execPath, args, { env }), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /alice has two-step sign-in: pass --code/);
      return true;
    });
    const { stdout } = await run(process.execPath, [...args, '--code', await codeAt(secret, 1)], { env });
    const verifier = createTokenVerifier({
      issuer: identity.issuer,
      audience: 'http://localhost:8000',
      jwksUri: `${identity.issuer}/jwks`,
    });
    assert.deepEqual((await verifier.verify(stdout.trim())).payload.amr, ['pwd', 'otp', 'mfa']);
  });
});
