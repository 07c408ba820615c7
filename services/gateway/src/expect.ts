/**
 * Expect (RFC 9110 §10.1.1), answered by the gateway itself; the header is never forwarded.
 * - `100-continue`: the client waits for 100 (Continue) before it sends the body. The gateway
 *   sends it when it starts reading the body (policies/body-limit), so a request it refuses
 *   before that (405, a bad path, 413 by declared length) gets its final status at once and
 *   the body is never sent. The body is then read whole before anything goes upstream, so the
 *   upstream has nothing to expect.
 * - any other expectation: 417 (Expectation Failed), which Node's HTTP server answers before
 *   the request reaches the gateway.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export function expectsContinue(req: IncomingMessage): boolean {
  const value = req.headers.expect;
  return typeof value === 'string' && value.trim().toLowerCase() === '100-continue';
}

/** Sends 100 (Continue) once, if the client asked for it and no final status has gone out. */
export function continueIfExpected(req: IncomingMessage, res: ServerResponse): void {
  if (!expectsContinue(req) || res.headersSent || (res as { _sent100?: boolean })._sent100) return;
  res.writeContinue();
}
