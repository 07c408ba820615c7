/**
 * The GraphQL schema as a file, beside the API description: `GET /graphql/schema.graphql`
 * serves `schema.graphql` as it is, so a client can generate types or read the API without
 * introspection (which is off outside development). Read once at start; ETag'd for 304s.
 */
import { PUBLIC } from '@portico/auth';
import { etagFor, isFresh, notModified, type Server } from '@portico/http';
import { GRAPHQL_PATH } from './transport.ts';

export const SDL_PATH = `${GRAPHQL_PATH}/schema.graphql`;
const SDL_TYPE = 'text/plain; charset=utf-8';

export function registerSchemaFile(server: Server, source: string): void {
  const etag = etagFor(source);
  server.get(
    SDL_PATH,
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['graphql'],
        summary: 'The GraphQL schema (SDL) of /graphql',
        description:
          'The schema the catalog executes at `/graphql`, in the GraphQL schema definition language, as the file it is built from.',
        'x-graphql-schema': true,
        response: {
          200: {
            description: 'The schema, in GraphQL SDL',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          304: { description: 'Not Modified: your copy (If-None-Match) is current', type: 'null' },
        },
      },
    },
    async (request, reply) => {
      reply.header('etag', etag).header('cache-control', 'public, no-cache');
      if (isFresh(request, etag)) return notModified(reply);
      return reply.type(SDL_TYPE).send(source);
    },
  );
}
