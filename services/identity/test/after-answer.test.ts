/** Work left for after an answer starts only once the answer is written, whatever the hooks in between. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { afterAnswer } from '../src/api/after-answer.ts';

test('work after the answer waits for an onSend hook that waits on I/O', async () => {
  const server = Fastify();
  server.addHook('onSend', async () => {
    await sleep(20);
  });
  const seen: { written: boolean }[] = [];
  let ran!: () => void;
  const done = new Promise<void>((resolve) => {
    ran = resolve;
  });
  server.get('/', async (_request, reply) => {
    afterAnswer(reply)(() => {
      seen.push({ written: reply.raw.writableFinished });
      ran();
    });
    return 'answer';
  });
  try {
    // A real socket: an injected request's response is never written anywhere.
    const address = await server.listen({ port: 0, host: '127.0.0.1' });
    assert.equal(await (await fetch(address)).text(), 'answer');
    await done;
    assert.deepEqual(seen, [{ written: true }]);
  } finally {
    await server.close();
  }
});
