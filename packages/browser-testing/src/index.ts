/**
 * Debian's chromium for the browser tests, driven by playwright-core. A browser test skips
 * where chromium is not installed, except in CI, where every browser test must run.
 */
import { existsSync } from 'node:fs';
import { type Browser, type CDPSession, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why a browser test cannot run on this machine, or false when it can. */
export const chromiumMissing: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install chromium)`;

/**
 * `reason` as a node:test `skip` option. In CI a browser test may not be skipped: there a
 * reason throws instead.
 */
export function skipOutsideCI(reason: string | false | undefined): string | false {
  if (reason && process.env.CI) throw new Error(`the browser test must run in CI, but ${reason}`);
  return reason || false;
}

/**
 * A headless chromium without a sandbox (tests run as root in containers), the GPU or
 * background traffic of its own (updates, sync) that would compete with the test for a loaded
 * machine's cores. `args` adds flags, such as `--ignore-certificate-errors`.
 */
export function launchChromium(...args: string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...args,
    ],
  });
}

/**
 * Gives `page`'s browser context a DevTools virtual authenticator, as a phone or laptop's
 * built-in one: CTAP2, platform (`internal`), resident keys, user verification that succeeds.
 * WebAuthn ceremonies on the page then complete without a person; `cdp` reads what it holds
 * (`WebAuthn.getCredentials` with the `authenticatorId`).
 */
export async function addVirtualAuthenticator(
  page: Page,
): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return { cdp, authenticatorId };
}
