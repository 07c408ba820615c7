import { authSettings, type Static, serviceSettings, Type, Url } from '@portico/config';

export const ConfigSchema = Type.Object(
  {
    ...serviceSettings('catalog', 8002),
    demoData: Type.Boolean({
      default: true,
      env: 'CATALOG_DEMO_DATA',
      description: 'Load demo categories and products into an empty catalog',
    }),
    readCacheTtlMs: Type.Integer({
      minimum: 0,
      maximum: 5000,
      default: 1000,
      env: 'CATALOG_READ_CACHE_TTL_MS',
      description:
        'How long another instance may serve a product read after a write elsewhere; 0 turns the read cache off',
    }),
    auth: authSettings(),
    graphql: Type.Object(
      {
        enabled: Type.Boolean({ default: true, env: 'CATALOG_GRAPHQL' }),
        introspection: Type.Boolean({
          default: false,
          env: 'GRAPHQL_INTROSPECTION',
          description:
            'Answer __schema/__type: off by default, on in the embedded developer set-up (npm start)',
        }),
        graphiql: Type.Boolean({
          default: false,
          env: 'GRAPHQL_GRAPHIQL',
          description: 'Serve GraphiQL to browsers at /graphql: off by default, on in npm start',
        }),
        maxDepth: Type.Integer({ minimum: 1, default: 8, env: 'GRAPHQL_MAX_DEPTH' }),
        maxCost: Type.Integer({ minimum: 1, default: 5000, env: 'GRAPHQL_MAX_COST' }),
        maxAliases: Type.Integer({ minimum: 0, default: 30, env: 'GRAPHQL_MAX_ALIASES' }),
        maxTokens: Type.Integer({ minimum: 1, default: 2000, env: 'GRAPHQL_MAX_TOKENS' }),
      },
      { default: {}, additionalProperties: false },
    ),
    pubsub: Type.Object(
      {
        redisUrl: Url('redis', {
          orEmpty: true,
          default: '',
          env: 'REDIS_URL',
          description: 'Empty: in-process (one instance); redis://… to reach subscribers on every instance',
        }),
        keyPrefix: Type.String({ default: 'portico:', env: 'PUBSUB_KEY_PREFIX' }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type CatalogConfig = Static<typeof ConfigSchema>;
