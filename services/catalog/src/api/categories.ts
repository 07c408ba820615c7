import { PUBLIC } from '@portico/auth';
import { etagFor, type Server } from '@portico/http';
import type { CategoryService } from '../domain/categories.ts';
import { link, offsetOf, offsetPage, perPage } from './pagination.ts';
import { WRITE } from './products.ts';
import { answeredNotModified } from './reads.ts';
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
      const [rows, total] = await Promise.all([
        categories.list(size, offsetOf(page, size)),
        categories.count(),
      ]);
      const etag = etagFor(request.url, total, ...rows.map((c) => `${c.id}:${c.updatedAt}`));
      if (answeredNotModified(request, reply, etag)) return reply;
      return {
        data: rows.map(categoryJson),
        ...offsetPage('/api/v1/categories', {}, page, size, rows.length, total),
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
      if (answeredNotModified(request, reply, etagFor(category.id, category.updatedAt))) return reply;
      return { data: categoryJson(category), links: categoryLinks(category.id) };
    },
  );
}
