import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Accept a client's X-Request-Id only when it is short and plain, so logs stay safe to read. */
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

export const REQUEST_ID_HEADER = 'x-request-id';

export function requestIdFrom(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && WELL_FORMED.test(given) ? given : randomUUID();
}
