import { authSettings, type Static, serviceSettings, Type, Url } from '@portico/config';

export const ConfigSchema = Type.Object(
  {
    ...serviceSettings('orders', 8003),
    auth: authSettings(),
    catalog: Type.Object(
      {
        url: Url('http', {
          default: 'http://127.0.0.1:8002',
          env: 'CATALOG_URL',
          description: 'Base URL of the catalog service (prices, names and stock are read at checkout)',
        }),
        timeoutMs: Type.Integer({
          minimum: 50,
          maximum: 60_000,
          default: 2000,
          env: 'ORDERS_CATALOG_TIMEOUT_MS',
          description: 'Budget for one catalog call, connect to last byte; past it the order answers 503',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    pubsub: Type.Object(
      {
        redisUrl: Url('redis', {
          orEmpty: true,
          default: '',
          env: 'REDIS_URL',
          description:
            'Where placed and cancelled orders are announced (the catalog keeps purchase history from them): empty is in-process, redis://… reaches every catalog instance',
        }),
        keyPrefix: Type.String({ default: 'portico:', env: 'PUBSUB_KEY_PREFIX' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type OrdersConfig = Static<typeof ConfigSchema>;
