/**
 * Work a route leaves for after its answer: it starts when the response has been handed to
 * the socket (or the connection is gone), whatever hooks run between the handler and the
 * write. A `setImmediate` from the handler only usually comes after the write: one hook that
 * waits on I/O, and the work runs first and its time shows in the answer.
 */
import type { FastifyReply } from 'fastify';

export function afterAnswer(reply: FastifyReply): (work: () => void) => void {
  return (work) => {
    // A response emits 'close' once, after 'finish' or when its connection ends first.
    if (reply.raw.closed) setImmediate(work);
    else reply.raw.once('close', work);
  };
}
