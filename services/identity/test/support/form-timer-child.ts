/**
 * The form timer's client process (form-timer.ts): loads the page named by its argument once
 * (its CSRF cookie and token), then for each set of fields from the parent posts them and
 * replies with the time to the whole answer. It ends when the parent disconnects.
 */
import { createBrowser } from '../../src/cli/browser.ts';
import type { TimerReply } from './form-timer.ts';

const send = (message: TimerReply) => process.send?.(message);
const page = new URL(process.argv[2] ?? '');
const browser = createBrowser();
const html = await (await browser.request(page)).text();
const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

process.on('message', async (fields: Record<string, string>) => {
  try {
    const started = performance.now();
    const response = await browser.request(page, { ...fields, csrf });
    await response.text();
    send({ ms: performance.now() - started, status: response.status });
  } catch (err) {
    send({ error: String(err) });
  }
});
send({ ready: true });
