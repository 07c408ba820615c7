import { PUBLIC } from '@portico/auth';
import { etagFor, isFresh, notModified, type Server } from '@portico/http';
import type { CategoryService } from '../domain/categories.ts';
import { link, offsetOf, perPage } from './pagination.ts';
import { READ_CACHE_CONTROL, WRITE } from './products.ts';
import {
  CategoryEnvelope,
  CategoryInput,
  CategoryList,
  IdParams,
  NotModified,
  PageQuery,
  Problem,
} from './schemas.ts';
import { categoryJson } from './serialize.ts';

export function categoryRoutes(server: Server, categories: CategoryService) {
  const tags = ['categories'];
  const categoryLinks = (id: string) => ({
    self: `/api/v1/categories/${id}`,
    products: link('/api/v1/products', { category_id: id }),
  });

  server.get(
    '/api/v1/categories',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: 'List categories',
        querystring: PageQuery,
        response: { 200: CategoryList, 304: NotModified, 400: Problem },
      },
    },
    async (request, reply) => {
      const page = request.query.page ?? 1;
      const size = perPage(request.query.per_page);
      const offset = offsetOf(page, size);
      const [rows, total] = await Promise.all([categories.list(size, offset), categories.count()]);
      const hasNext = offset + rows.length < total;
      const etag = etagFor(request.url, total, ...rows.map((c) => `${c.id}:${c.updatedAt}`));
      reply.header('etag', etag).header('cache-control', READ_CACHE_CONTROL);
      if (isFresh(request, etag)) return notModified(reply);
      return {
        data: rows.map(categoryJson),
        pagination: { page, per_page: size, total, has_next: hasNext, has_previous: page > 1 },
        links: {
          self: link('/api/v1/categories', { page, per_page: size }),
          next: hasNext ? link('/api/v1/categories', { page: page + 1, per_page: size }) : null,
          previous: page > 1 ? link('/api/v1/categories', { page: page - 1, per_page: size }) : null,
        },
      };
    },
  );

  server.post(
    '/api/v1/categories',
    {
      config: { access: WRITE },
      schema: {
        tags,
        summary: 'Create a category',
        body: CategoryInput,
        response: {
          201: CategoryEnvelope,
          400: Problem,
          401: Problem,
          403: Problem,
          409: Problem,
          415: Problem,
        },
      },
    },
    async (request, reply) => {
      const category = await categories.create({
        name: request.body.name,
        description: request.body.description,
      });
      return reply
        .code(201)
        .header('location', `/api/v1/categories/${category.id}`)
        .send({ data: categoryJson(category), links: categoryLinks(category.id) });
    },
  );

  server.get(
    '/api/v1/categories/:id',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: 'Get a category',
        params: IdParams,
        response: { 200: CategoryEnvelope, 304: NotModified, 404: Problem },
      },
    },
    async (request, reply) => {
      const category = await categories.get(request.params.id);
      const etag = etagFor(category.id, category.updatedAt);
      reply.header('etag', etag).header('cache-control', READ_CACHE_CONTROL);
      if (isFresh(request, etag)) return notModified(reply);
      return { data: categoryJson(category), links: categoryLinks(category.id) };
    },
  );
}
