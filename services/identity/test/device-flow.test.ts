/**
 * The device authorization grant (RFC 8628) end to end: `npm run -s token -- --device` in a
 * child process prints where to go and the code, a person signs in on the identity service's
 * device pages (driven here over HTTP), and the CLI, polling meanwhile, prints the token.
 * With `--dpop <key file>` the token is bound to the CLI's key (RFC 9449 `cnf.jkt`).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type AuthError, createDpopVerifier, createTokenVerifier, memoryReplayGuard } from '@portico/auth';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { createBrowser } from '../src/cli/browser.ts';
import { type RunningIdentity, startIdentity } from './support/harness.ts';

const CLI = new URL('../src/cli/token.ts', import.meta.url).pathname;
const exec = promisify(execFile);

interface DeviceRun {
  child: ChildProcess;
  verificationUri: string;
  verificationUriComplete: string;
  userCode: string;
  /** Exit code, stdout and stderr once the CLI ends. */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts the CLI with `--device` and waits (up to 60 s) for it to print the code. */
async function startDevice(issuer: string, extra: string[] = []): Promise<DeviceRun> {
  const child = spawn(process.execPath, [CLI, '--device', '--issuer', issuer, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  const prompt = new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no device prompt: ${stderr}`)), 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk;
      const found = /open (\S+) and enter the code (\S+)\n\(or open (\S+)\)/.exec(stderr);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.on('close', () => reject(new Error(`the CLI ended before prompting: ${stderr}`)));
  });
  const [, verificationUri, userCode, verificationUriComplete] = await prompt;
  return {
    child,
    verificationUri: verificationUri!,
    userCode: userCode!,
    verificationUriComplete: verificationUriComplete!,
    done,
  };
}

describe('token CLI --device (RFC 8628)', () => {
  let identity: RunningIdentity;
  const dir = mkdtempSync(join(tmpdir(), 'portico-device-'));
  const running: ChildProcess[] = [];

  before(async () => {
    identity = await startIdentity({ url: 'sqlite::memory:' });
  });
  after(async () => {
    for (const child of running) if (child.exitCode === null) child.kill();
    await identity?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verifier = () =>
    createTokenVerifier({
      issuer: identity.issuer,
      audience: 'http://localhost:8000',
      jwksUri: `${identity.issuer}/jwks`,
    });

  test('prints the verification URI and code, and the token once the user signs in on the device pages', async () => {
    const run = await startDevice(identity.issuer);
    running.push(run.child);
    assert.equal(new URL(run.verificationUri).href, `${identity.issuer}/device`);
    assert.match(run.userCode, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(run.verificationUriComplete, `${identity.issuer}/device?user_code=${run.userCode}`);

    // The code page is ours: labelled input, the provider's anti-forgery field.
    const page = await fetch(run.verificationUri);
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(html, /<title>Connect a device · Portico<\/title>/);
    assert.match(html, /<label for="user_code">Code<\/label>/);
    assert.match(html, /id="user_code" name="user_code"/);
    assert.match(html, /name="xsrf"/);

    const end = await createBrowser().device(run.verificationUri, run.userCode, identity.login('alice'));
    assert.match(end, /<h1>Device connected<\/h1>/);
    assert.match(end, /Portico token CLI/);

    const { code, stdout, stderr } = await run.done;
    assert.equal(code, 0, stderr);
    const claims = await verifier().verify(stdout.trim());
    assert.equal(claims.client_id, 'portico-cli');
    assert.deepEqual(claims.roles, ['customer']);
    assert.ok(claims.scopes.includes('orders:read'));
    assert.equal(claims.payload.cnf, undefined, 'no --dpop: a Bearer token');
  });

  test('--dpop binds the token to the key in the file: cnf.jkt is its thumbprint, and as Bearer it is refused', async () => {
    const keyFile = join(dir, 'cli-key.json');
    const run = await startDevice(identity.issuer, ['--dpop', keyFile, '--json']);
    running.push(run.child);
    await createBrowser().device(
      run.verificationUriComplete.split('?')[0]!,
      run.userCode,
      identity.login('alice'),
    );
    const { code, stdout, stderr } = await run.done;
    assert.equal(code, 0, stderr);
    const tokens = JSON.parse(stdout) as { access_token: string; token_type: string; refresh_token?: string };
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');

    const { d, ...publicJwk } = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
    assert.ok(d, 'the key file holds the private key');
    const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as {
      cnf?: { jkt?: string };
    };
    assert.equal(payload.cnf?.jkt, await calculateJwkThumbprint(publicJwk, 'sha256'));
    await assert.rejects(verifier().verify(tokens.access_token), (err: AuthError) => {
      assert.equal(err.status, 401);
      assert.match(err.headers['www-authenticate']!, /^DPoP .*error="invalid_token"/);
      return true;
    });

    // --proof signs the proof for one request with the same key; a DPoP verifier accepts it once.
    const url = 'http://localhost:8000/api/v1/users/me?fields=id';
    const { stdout: proof } = await exec(process.execPath, [
      CLI,
      '--proof',
      '--dpop',
      keyFile,
      '--access-token',
      tokens.access_token,
      'GET',
      url,
    ]);
    const dpopVerifier = createTokenVerifier({
      issuer: identity.issuer,
      audience: 'http://localhost:8000',
      jwksUri: `${identity.issuer}/jwks`,
      dpop: createDpopVerifier({ origins: ['http://localhost:8000'], replay: memoryReplayGuard() }),
    });
    const claims = await dpopVerifier.verify(tokens.access_token, 'DPoP');
    const request = {
      method: 'GET',
      url: '/api/v1/users/me?fields=id',
      proof: proof.trim(),
      token: tokens.access_token,
      jkt: payload.cnf!.jkt!,
    };
    await dpopVerifier.dpop!.verify(request);
    assert.equal(claims.client_id, 'portico-cli');
    await assert.rejects(dpopVerifier.dpop!.verify(request), /already used/);

    // The refresh token is bound to the key too: without a proof by it, it refreshes nothing.
    assert.ok(tokens.refresh_token);
    const refresh = await fetch(`${identity.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: 'portico-cli',
      }),
    });
    assert.equal(refresh.status, 400);
    assert.equal(((await refresh.json()) as { error: string }).error, 'invalid_grant');
  });

  test('a wrong code is said so on the page; cancelling on the confirm page ends the CLI with a message', async () => {
    const run = await startDevice(identity.issuer);
    running.push(run.child);
    const browser = createBrowser();
    const first = await browser.request(run.verificationUri);
    const html = await first.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const wrong = await browser.request(run.verificationUri, { xsrf, user_code: 'BCDF-GHJK' });
    const wrongHtml = await wrong.text();
    assert.match(wrongHtml, /role="alert"[^>]*>That code is not right/);
    assert.match(wrongHtml, /aria-describedby="code-error"/);

    const xsrf2 = /name="xsrf" value="([^"]+)"/.exec(wrongHtml)![1]!;
    const confirm = await browser.request(run.verificationUri, { xsrf: xsrf2, user_code: run.userCode });
    const confirmHtml = await confirm.text();
    assert.match(confirmHtml, /Is this the code on your device\?/);
    assert.ok(confirmHtml.includes(run.userCode));
    const xsrf3 = /name="xsrf" value="([^"]+)"/.exec(confirmHtml)![1]!;
    const cancelled = await browser.request(run.verificationUri, {
      xsrf: xsrf3,
      user_code: run.userCode,
      confirm: 'yes',
      abort: 'yes',
    });
    assert.match(await cancelled.text(), /Cancelled: your device was not connected/);

    const { code, stdout, stderr } = await run.done;
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /The sign-in was cancelled/);
  });
});
