/** @fastify/http-proxy as a bare reverse proxy: the Node baseline the gateway must beat. */
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const app = Fastify({ logger: false });
await app.register(proxy, { upstream: process.env.UPSTREAM!, http2: false });
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
console.log('ready');
