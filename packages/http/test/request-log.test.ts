/**
 * One log line per request (tracing off here: the trace id comes from `traceparent`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineErrors } from '@portico/problem';
import { createServer } from '../src/index.ts';

const errors = defineErrors({ THING_NOT_FOUND: { status: 404, title: 'Not Found' } });

async function app() {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => void lines.push(JSON.parse(line)) };
  const server = await createServer({
    name: 'test',
    logLevel: 'info',
    fastify: { logger: { level: 'info', stream } },
  });
  server.get('/things/:id', async (request) => {
    throw errors.THING_NOT_FOUND(`Thing ${(request.params as { id: string }).id} not found`);
  });
  server.get('/things', async () => ({ things: [] }));
  server.get('/boom', async () => {
    throw new Error('the disk is full');
  });
  return { server, lines };
}

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('request log', () => {
  test('one info line: method, path, status, duration, trace id', async () => {
    const { server, lines } = await app();
    await server.inject({ url: '/things?secret=1', headers: { traceparent: TRACEPARENT } });
    assert.equal(lines.length, 1, JSON.stringify(lines));
    const [line] = lines;
    assert.equal(line!.level, 30);
    assert.equal(line!.msg, 'GET /things 200');
    assert.deepEqual(
      { method: line!.method, path: line!.path, status: line!.status, trace_id: line!.trace_id },
      { method: 'GET', path: '/things', status: 200, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
    );
    assert.equal(typeof line!.ms, 'number');
    assert.equal(typeof line!.request_id, 'string');
  });

  test('a 4xx: its one line at info carries the problem code, no stack', async () => {
    const { server, lines } = await app();
    const res = await server.inject({ url: '/things/42' });
    assert.equal(res.statusCode, 404);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]!.level, 30);
    assert.equal(lines[0]!.code, 'THING_NOT_FOUND');
    assert.equal(lines[0]!.detail, 'Thing 42 not found');
    assert.equal(lines[0]!.err, undefined);
    assert.equal(lines[0]!.trace_id, undefined, 'no traceparent, no trace id');
  });

  test('a 5xx: an error line with the stack, then the request line', async () => {
    const { server, lines } = await app();
    const res = await server.inject({ url: '/boom' });
    assert.equal(res.statusCode, 500);
    assert.equal(lines.length, 2, JSON.stringify(lines));
    const [error, request] = lines as [
      { level: number; err: { message: string; stack: string } },
      Record<string, unknown>,
    ];
    assert.equal(error.level, 50);
    assert.equal(error.err.message, 'the disk is full');
    assert.match(error.err.stack, /request-log\.test\.ts/);
    assert.equal(request.status, 500);
    assert.equal(request.msg, 'GET /boom 500');
  });

  test('successful /health probes are not logged; below info nothing is', async () => {
    const { server, lines } = await app();
    await server.inject({ url: '/health' });
    assert.equal(lines.length, 0);
    server.log.level = 'warn';
    await server.inject({ url: '/things' });
    await server.inject({ url: '/things/1' });
    assert.equal(lines.length, 0);
  });
});
