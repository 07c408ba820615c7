/**
 * The device pages in a real browser (Debian's chromium, driven by playwright-core): a person
 * types the code the CLI printed, confirms it, signs in, and the CLI, polling meanwhile, prints
 * a token. Skipped where chromium is not installed, except in CI, where it must run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { createTokenVerifier } from '@portico/auth';
import { chromiumMissing, launchChromium, skipOutsideCI } from '@portico/browser-testing';
import type { Browser } from 'playwright-core';
import { type RunningIdentity, startIdentity } from './support/harness.ts';

const CLI = new URL('../src/cli/token.ts', import.meta.url).pathname;
const STEP = 60_000;

const skip = skipOutsideCI(chromiumMissing);

describe('device pages in chromium', { skip }, () => {
  let identity: RunningIdentity;
  let browser: Browser;

  before(async () => {
    identity = await startIdentity({ url: 'sqlite::memory:' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await identity?.close();
  });

  test('type the code, confirm it, sign in: the page says the device is connected and the CLI has a token', async () => {
    const child = spawn(process.execPath, [CLI, '--device', '--issuer', identity.issuer], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const [, uri, code] = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no prompt: ${stderr}`)), STEP);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk;
        const found = /open (\S+) and enter the code (\S+)/.exec(stderr);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      });
    });

    const context = await browser.newContext();
    context.setDefaultTimeout(STEP);
    const page = await context.newPage();
    try {
      await page.goto(uri!);
      assert.equal(await page.title(), 'Connect a device · Portico');
      // Lower case and without the dash: the provider normalises what people type.
      await page.getByLabel('Code').fill(code!.replace('-', '').toLowerCase());
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Is this the code on your device?' }).waitFor();
      assert.ok((await page.content()).includes(code!));
      await page.getByRole('button', { name: 'Yes, continue' }).click();

      const alice = identity.login('alice');
      await page.getByLabel('Username').fill(alice.username);
      await page.getByLabel('Password').fill(alice.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Device connected' }).waitFor();
    } finally {
      await context.close();
    }

    assert.equal(await exited, 0, stderr);
    const claims = await createTokenVerifier({
      issuer: identity.issuer,
      audience: 'http://localhost:8000',
      jwksUri: `${identity.issuer}/jwks`,
    }).verify(stdout.trim());
    assert.equal(claims.client_id, 'portico-cli');
    assert.deepEqual(claims.roles, ['customer']);
  });
});
