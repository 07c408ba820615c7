/**
 * Request bodies up to the route's limit:
 * - a declared Content-Length above the limit is refused (413) before any byte is read (and
 *   before 100 Continue, which goes out only when the body is read: expect.ts);
 * - a chunked body is counted as it arrives and refused as soon as it passes the limit;
 * - the body is held whole, so idempotent requests can be retried on another instance.
 */
import type { IncomingMessage } from 'node:http';
import { Type } from '@portico/config';
import type { Context } from '../../context.ts';
import { errors } from '../../errors.ts';
import { continueIfExpected } from '../../expect.ts';
import { definePolicy } from '../../policy.ts';

export const bodyLimit = definePolicy({
  name: 'body-limit',
  priority: 1900,
  route: {
    bodyLimit: Type.Optional(Type.Integer({ minimum: 0, description: 'Largest request body, in bytes' })),
  },
  defaults: { bodyLimit: Type.Integer({ minimum: 0, default: 1024 * 1024 }) },
  create({ bodyLimit: limit = 1024 * 1024 }) {
    // Not async: a request without a body (most reads) passes straight on, without a promise of its own.
    return (ctx, next) => {
      const { req } = ctx;
      const declared = req.headers['content-length'];
      if (declared === undefined && req.headers['transfer-encoding'] === undefined) return next();
      return readThenNext(ctx, next, limit, declared);
    };
  },
});

async function readThenNext(
  ctx: Context,
  next: () => Promise<void>,
  limit: number,
  declared: string | undefined,
) {
  const { req } = ctx;
  if (declared !== undefined && Number(declared) > limit) {
    ctx.replyHeaders.connection = 'close';
    throw errors.PAYLOAD_TOO_LARGE(`The request body is larger than this route accepts (${limit} bytes)`);
  }
  continueIfExpected(req, ctx.res);
  ctx.body = await readBody(req, limit);
  if (ctx.body === undefined) {
    // The rest of the body is never read, so this connection cannot carry another request.
    ctx.replyHeaders.connection = 'close';
    throw errors.PAYLOAD_TOO_LARGE(`The request body is larger than this route accepts (${limit} bytes)`);
  }
  return next();
}

/** The whole body, or undefined when it passes `limit` (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
