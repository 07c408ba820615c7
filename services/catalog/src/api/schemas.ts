/**
 * Wire schemas: they validate requests, serialise responses and generate the OpenAPI
 * document. Bodies are strict: unknown fields are a 400; the read-only fields a client
 * may echo back from a GET (`id`, `currency`, `created_at`, `updated_at`) are accepted and ignored.
 */
import Type from 'typebox';
import { Description, Id, Name, Price } from '../domain/product-input.ts';

const readOnly = {
  id: Type.Optional(Type.Unsafe<unknown>({ readOnly: true, description: 'Ignored: set by the server' })),
  currency: Type.Optional(
    Type.Unsafe<unknown>({ readOnly: true, description: 'Ignored: set by the server' }),
  ),
  created_at: Type.Optional(
    Type.Unsafe<unknown>({ readOnly: true, description: 'Ignored: set by the server' }),
  ),
  updated_at: Type.Optional(
    Type.Unsafe<unknown>({ readOnly: true, description: 'Ignored: set by the server' }),
  ),
};

export const ProductInput = Type.Object(
  {
    name: Name,
    description: Description,
    price: Price,
    category_id: Id,
    in_stock: Type.Optional(Type.Boolean()),
    ...readOnly,
  },
  { additionalProperties: false },
);

export const ProductPatch = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    price: Type.Optional(Price),
    category_id: Type.Optional(Id),
    in_stock: Type.Optional(Type.Boolean()),
    ...readOnly,
  },
  { additionalProperties: false },
);

export const CategoryInput = Type.Object(
  { name: Name, description: Type.Optional(Description), ...readOnly },
  { additionalProperties: false },
);

export const IdParams = Type.Object({ id: Id });

export const ProductListQuery = Type.Object(
  {
    category_id: Type.Optional(Id),
    in_stock: Type.Optional(Type.Boolean()),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'Full-text search in name and description: every word must match, and the last word, of two ' +
          'or more letters, also matches words it starts ("usb head" finds "USB headphones"); case-insensitive; ' +
          'punctuation and operators are ignored (the text is never query syntax). Offset pages ' +
          'come best match first, the same way on every database: products with every word in the name, ' +
          'newest first, then those with some words only in the description, newest first; they stop ' +
          'after 1,000 matches. Cursor pages come in id order.',
      }),
    ),
    page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
    per_page: Type.Optional(Type.Integer({ minimum: 1, default: 20, description: 'Capped at 100' })),
    cursor: Type.Optional(
      Type.String({
        maxLength: 200,
        description:
          'Keyset pagination: empty for the first page, then next_cursor. Not with page (400 PAGINATION_CONFLICT)',
      }),
    ),
  },
  { description: 'Unknown query parameters are ignored' },
);

export const PageQuery = Type.Object(
  {
    page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
    per_page: Type.Optional(Type.Integer({ minimum: 1, default: 20, description: 'Capped at 100' })),
  },
  { description: 'Unknown query parameters are ignored' },
);

export const ProductOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  price: Type.Number(),
  currency: Type.String(),
  category_id: Type.String(),
  in_stock: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const CategoryOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const Links = Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]));

export const Pagination = Type.Object({
  page: Type.Optional(Type.Integer()),
  per_page: Type.Integer(),
  total: Type.Integer(),
  has_next: Type.Boolean(),
  has_previous: Type.Boolean(),
  next_cursor: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  previous_cursor: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

export const ProductPagination = Type.Object({
  ...Pagination.properties,
  total: Type.Integer({
    description:
      'Products matching the filters. Exact for category and stock filters (kept with every write, ' +
      'never counted per request), on offset and cursor pages alike. With `q` it is exact when the ' +
      'search read every match: on the offset page that reaches the last match, on cursor pages ' +
      'when there are at most 100 matches (on SQLite offset pages too); otherwise it is an estimate ' +
      'and total_is_exact is false. Matches are never counted one by one, so a search costs the ' +
      'same whether a hundred or a million products match.',
  }),
  total_is_exact: Type.Boolean({
    description:
      'false when total is an estimate (a search with more matches than it read). The estimate ' +
      'is at least the matches seen so far; has_next, not total, says whether another page ' +
      'exists (offset pages of a search stop after 1,000 matches: narrow the query or add ' +
      'filters to reach the rest).',
  }),
});

export const ProductEnvelope = Type.Object({ data: ProductOut, links: Links });
export const ProductList = Type.Object({
  data: Type.Array(ProductOut),
  pagination: ProductPagination,
  links: Links,
});
export const CategoryEnvelope = Type.Object({ data: CategoryOut, links: Links });
export const CategoryList = Type.Object({
  data: Type.Array(CategoryOut),
  pagination: Pagination,
  links: Links,
});

export const ActionOut = Type.Object({
  name: Type.String(),
  method: Type.Union([
    Type.Literal('GET'),
    Type.Literal('POST'),
    Type.Literal('PUT'),
    Type.Literal('PATCH'),
    Type.Literal('DELETE'),
  ]),
  href: Type.String(),
  body: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export const ActionsEnvelope = Type.Object({ data: ProductOut, actions: Type.Array(ActionOut) });

export { ProblemSchema as Problem } from '@portico/http';

export const NotModified = Type.Null({ description: 'Not Modified: your copy (If-None-Match) is current' });
