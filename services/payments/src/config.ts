import { authSettings, Resource, type Static, serviceSettings, Type, Url } from '@portico/config';

export const ConfigSchema = Type.Object(
  {
    ...serviceSettings('payments', 8004),
    auth: authSettings(),
    orders: Type.Object(
      {
        url: Url('http', { default: 'http://127.0.0.1:8003', env: 'ORDERS_URL' }),
        timeoutMs: Type.Integer({
          minimum: 50,
          maximum: 60_000,
          default: 2000,
          env: 'PAYMENTS_ORDERS_TIMEOUT_MS',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * The credential this service marks orders paid with: an OAuth 2.0 client-credentials
     * token from identity carrying the `orders:pay` scope (users never get that scope).
     */
    serviceClient: Type.Object(
      {
        tokenUrl: Url('http', { default: 'http://localhost:9000/token', env: 'PAYMENTS_TOKEN_URL' }),
        clientId: Type.String({ default: 'portico-service', env: 'PAYMENTS_CLIENT_ID' }),
        clientSecret: Type.String({
          secret: true,
          default: '',
          env: 'PORTICO_SERVICE_CLIENT_SECRET',
          description: 'Secret of the portico-service client (npm start supplies one per data dir)',
        }),
        scope: Type.String({ default: 'orders:pay' }),
        resource: Resource({ default: 'http://localhost:8000', env: 'AUTH_AUDIENCE' }),
      },
      { additionalProperties: false, default: {} },
    ),
    processor: Type.Object(
      {
        timeoutMs: Type.Integer({
          minimum: 10,
          maximum: 120_000,
          default: 10_000,
          env: 'PAYMENTS_PROCESSOR_TIMEOUT_MS',
          description:
            'Past this the charge outcome is unknown: the intent stays processing and a retry resolves it',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    idempotency: Type.Object(
      {
        leaseMs: Type.Integer({
          minimum: 100,
          default: 30_000,
          env: 'PAYMENTS_IDEMPOTENCY_LEASE_MS',
          description: 'A request holding a key longer than this is presumed crashed; a retry may take over',
        }),
        retentionHours: Type.Integer({ minimum: 1, default: 24 }),
      },
      { additionalProperties: false, default: {} },
    ),
    orderSync: Type.Object(
      {
        intervalMs: Type.Integer({ minimum: 10, default: 2000, env: 'PAYMENTS_ORDER_SYNC_INTERVAL_MS' }),
        leaseMs: Type.Integer({
          minimum: 100,
          default: 10_000,
          env: 'PAYMENTS_ORDER_SYNC_LEASE_MS',
          description:
            'One replica runs the sync loop, holding a lease it renews every interval; when it dies another takes over after this long',
        }),
        baseBackoffMs: Type.Integer({ minimum: 1, default: 500 }),
        maxBackoffMs: Type.Integer({ minimum: 1, default: 60_000 }),
        inlineAttempts: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type PaymentsConfig = Static<typeof ConfigSchema>;
