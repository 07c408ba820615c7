/**
 * Times password-reset answers from a process of its own: a client in the identity server's
 * process shares its event loop, so the known address's work after the answer (its mail) can
 * delay the client reading that answer, which a remote client never sees. The parent sends
 * `{ email }` and gets `{ ms }` back, one at a time; `{ ready: true }` first, once the form is read.
 */
import { createBrowser } from '../../src/cli/browser.ts';

const resetUrl = new URL(process.argv[2]!);
const browser = createBrowser();
const page = await (await browser.request(resetUrl)).text();
const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

process.on('message', async ({ email }: { email: string }) => {
  const started = performance.now();
  const response = await browser.request(resetUrl, { csrf, email });
  await response.text();
  process.send!({ ms: performance.now() - started });
});
process.send!({ ready: true });
