import { needs, PUBLIC, PUBLIC_OPTIONAL_TOKEN } from '@portico/auth';
import { checkPreconditions, etagFor, type Server } from '@portico/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { decodeCursor, encodeCursor } from '../domain/pages.ts';
import { canWriteCatalog, WRITE_SCOPE } from '../domain/permissions.ts';
import type { Product, ProductService } from '../domain/products.ts';
import { productActionsJson } from './actions.ts';
import { checkOnePagination, link, offsetOf, offsetPage, perPage } from './pagination.ts';
import type { CachedRead, ReadCache } from './read-cache.ts';
import { answeredNotModified } from './reads.ts';
import {
  ActionsEnvelope,
  IdParams,
  NotModified,
  Problem,
  ProductEnvelope,
  ProductInput,
  ProductList,
  ProductListQuery,
  ProductPatch,
} from './schemas.ts';
import { inWireNames, productInput, productJson, productLinks } from './serialize.ts';

const JSON_TYPE = 'application/json; charset=utf-8';
export const WRITE = needs(WRITE_SCOPE);

const problems = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
  412: Problem,
  415: Problem,
  422: Problem,
};

export function productEtag(p: Product): string {
  return etagFor(p.id, p.version);
}

function ifMatch(request: FastifyRequest) {
  return request.headers['if-match']
    ? (current: Product) => checkPreconditions(request, productEtag(current))
    : undefined;
}

/**
 * A write's answer: the product with its ETag and links (201 with its Location when made); a
 * refusal names the fields as the wire spells them.
 */
async function answerWrite(reply: FastifyReply, write: Promise<Product>, status: 200 | 201 = 200) {
  const product = await inWireNames(write);
  if (status === 201) reply.header('location', `/api/v1/products/${product.id}`);
  return reply
    .code(status)
    .header('etag', productEtag(product))
    .send({ data: productJson(product), links: productLinks(product) });
}

export function productRoutes(server: Server, products: ProductService, cache: ReadCache) {
  products.subscribe(() => cache.clear());

  function sendCached(request: FastifyRequest, reply: FastifyReply, hit: CachedRead | undefined): boolean {
    if (!hit) return false;
    if (!answeredNotModified(request, reply, hit.etag)) reply.type(JSON_TYPE).send(hit.body);
    return true;
  }

  function sendFresh(request: FastifyRequest, reply: FastifyReply, key: string, etag: string, body: unknown) {
    const text = Buffer.from(JSON.stringify(body));
    cache.set(key, etag, text);
    if (answeredNotModified(request, reply, etag)) return reply;
    return reply.type(JSON_TYPE).send(text);
  }

  const tags = ['products'];

  server.get(
    '/api/v1/products',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: 'List products',
        description:
          'Filter by category, stock and text; offset pages (page/per_page) or keyset pages (cursor). ' +
          'Every page costs the same at a thousand products or a million: totals are kept with each ' +
          'write, deep offsets are skipped inside an index, and search reads a full-text index.',
        querystring: ProductListQuery,
        response: { 200: ProductList, 304: NotModified, 400: Problem },
      },
    },
    async (request, reply) => {
      const { category_id, in_stock, q, cursor } = request.query;
      checkOnePagination(request.url, cursor);
      if (sendCached(request, reply, cache.get(request.url))) return reply;
      const filter = { categoryId: category_id, inStock: in_stock, q };
      const size = perPage(request.query.per_page);
      const filters = { category_id, in_stock, q };
      let body: Static<typeof ProductList>;
      let items: Product[];

      if (cursor !== undefined) {
        const page = await products.keysetPage(filter, size, decodeCursor(cursor));
        const { hasNext, hasPrevious, total } = page;
        items = page.items;
        const next = hasNext && items.length ? encodeCursor({ after: items.at(-1)!.id }) : null;
        const previous = hasPrevious && items.length ? encodeCursor({ before: items[0]!.id }) : null;
        body = {
          data: items.map(productJson),
          pagination: {
            per_page: size,
            total: total.value,
            total_is_exact: total.exact,
            has_next: hasNext,
            has_previous: hasPrevious,
            next_cursor: next,
            previous_cursor: previous,
          },
          links: {
            self: link('/api/v1/products', { ...filters, cursor, per_page: size }),
            next: next && link('/api/v1/products', { ...filters, cursor: next, per_page: size }),
            previous: previous && link('/api/v1/products', { ...filters, cursor: previous, per_page: size }),
          },
        };
      } else {
        const page = request.query.page ?? 1;
        const { items: rows, total, hasNext } = await products.page(filter, size, offsetOf(page, size));
        items = rows;
        const { pagination, links } = offsetPage(
          '/api/v1/products',
          filters,
          page,
          size,
          rows.length,
          total.value,
          hasNext,
        );
        body = {
          data: rows.map(productJson),
          pagination: { ...pagination, total_is_exact: total.exact },
          links,
        };
      }

      const etag = etagFor(
        request.url,
        String(body.pagination.total),
        ...items.map((p) => `${p.id}:${p.version}`),
      );
      return sendFresh(request, reply, request.url, etag, body);
    },
  );

  server.post(
    '/api/v1/products',
    {
      config: { access: WRITE },
      schema: {
        tags,
        summary: 'Create a product',
        body: ProductInput,
        response: { 201: ProductEnvelope, ...problems },
      },
    },
    async (request, reply) => answerWrite(reply, products.create(productInput(request.body)), 201),
  );

  server.get(
    '/api/v1/products/:id',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: 'Get a product',
        params: IdParams,
        response: { 200: ProductEnvelope, 304: NotModified, 404: Problem },
      },
    },
    async (request, reply) => {
      const key = `product:${request.params.id}`;
      if (sendCached(request, reply, cache.get(key))) return reply;
      const product = await products.get(request.params.id);
      const body = { data: productJson(product), links: productLinks(product) };
      return sendFresh(request, reply, key, productEtag(product), body);
    },
  );

  server.put(
    '/api/v1/products/:id',
    {
      config: { access: WRITE },
      schema: {
        tags,
        summary: 'Replace a product',
        description:
          'Send If-Match with the ETag you read to refuse the write (412) if someone changed it meanwhile.',
        params: IdParams,
        body: ProductInput,
        response: { 200: ProductEnvelope, ...problems },
      },
    },
    async (request, reply) =>
      answerWrite(reply, products.replace(request.params.id, productInput(request.body), ifMatch(request))),
  );

  server.patch(
    '/api/v1/products/:id',
    {
      config: { access: WRITE },
      schema: {
        tags,
        summary: 'Change some fields of a product (JSON merge patch)',
        params: IdParams,
        body: ProductPatch,
        response: { 200: ProductEnvelope, ...problems },
      },
    },
    async (request, reply) =>
      answerWrite(reply, products.patch(request.params.id, productInput(request.body), ifMatch(request))),
  );

  server.delete(
    '/api/v1/products/:id',
    {
      config: { access: WRITE },
      schema: {
        tags,
        summary: 'Delete a product',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems },
      },
    },
    async (request, reply) => {
      await products.remove(request.params.id, ifMatch(request));
      return reply.code(204).send(null);
    },
  );

  server.get(
    '/api/v1/products/:id/actions',
    {
      config: { access: PUBLIC_OPTIONAL_TOKEN },
      schema: {
        tags,
        summary: 'What can be done with this product now (hypermedia)',
        params: IdParams,
        response: { 200: ActionsEnvelope, 401: Problem, 404: Problem },
      },
    },
    async (request, reply) => {
      const product = await products.get(request.params.id);
      reply.header('cache-control', 'private, no-cache').header('vary', 'Authorization');
      return {
        data: productJson(product),
        actions: productActionsJson(product, canWriteCatalog(request.auth?.scopes)),
      };
    },
  );
}
