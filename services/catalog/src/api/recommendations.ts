/**
 * GET /api/v1/recommendations?user_id= — as the seed's dashboard calls it. Your own
 * unless you are an admin (403 otherwise); the purchases behind it are the catalog's own
 * copy, kept from the orders service's events.
 */
import { type AccessClaims, isAdmin, needs } from '@portico/auth';
import type { Server } from '@portico/http';
import { commonErrors } from '@portico/problem';
import Type from 'typebox';
import type { RecommendationService } from '../domain/recommendations.ts';
import { Problem, ProductOut } from './schemas.ts';
import { productJson } from './serialize.ts';

const Query = Type.Object(
  {
    user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }),
  },
  { additionalProperties: false },
);

const Recommended = Type.Object({
  ...ProductOut.properties,
  reason: Type.Union([Type.Literal('ordered_category'), Type.Literal('popular'), Type.Literal('in_stock')]),
  links: Type.Object({ self: Type.String(), actions: Type.String() }),
});

export function recommendationRoutes(server: Server, recommendations: RecommendationService) {
  server.get(
    '/api/v1/recommendations',
    {
      config: { access: needs('catalog:read') },
      schema: {
        tags: ['recommendations'],
        summary: 'Products to recommend to a user',
        description:
          'In-stock products from the categories the user ordered from, else popular in-stock products. `meta.degraded` is true while the feed of orders is not live (recent orders may be missing).',
        querystring: Query,
        response: {
          200: Type.Object({
            data: Type.Array(Recommended),
            meta: Type.Object({ personalised: Type.Boolean(), degraded: Type.Boolean() }),
            links: Type.Object({ self: Type.String() }),
          }),
          400: Problem,
          401: Problem,
          403: Problem,
        },
      },
    },
    async (request, reply) => {
      const auth = request.auth as AccessClaims;
      const userId = request.query.user_id ?? auth.sub;
      if (userId !== auth.sub && !isAdmin(auth)) {
        throw commonErrors.FORBIDDEN("Only admins may read another user's recommendations");
      }
      const result = await recommendations.recommend(userId, request.query.limit);
      reply.header('cache-control', 'private, no-store');
      return {
        data: result.items.map(({ product, reason }) => ({
          ...productJson(product),
          reason,
          links: {
            self: `/api/v1/products/${product.id}`,
            actions: `/api/v1/products/${product.id}/actions`,
          },
        })),
        meta: { personalised: result.personalised, degraded: result.degraded },
        links: {
          self: `/api/v1/recommendations?${new URLSearchParams({ user_id: userId, limit: String(request.query.limit) })}`,
        },
      };
    },
  );
}
