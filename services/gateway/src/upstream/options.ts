/** An upstream's settings in the gateway file: its instances, their pool, health checks and breaker. */
import { Origin, type Static, Type } from '@portico/config';
import { Duration } from '../schema.ts';

// Values of a Record get no schema defaults, so upstream settings are optional and defaulted in code.
export const Upstream = Type.Object(
  {
    instances: Type.Array(Origin(), { minItems: 1 }),
    connections: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Pooled connections per instance (128), which is also how many requests it carries at once',
      }),
    ),
    queue: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Requests that may wait for a free connection (default: connections × instances); past it, a fast 503',
      }),
    ),
    healthCheck: Type.Optional(
      Type.Object(
        {
          path: Type.Optional(Type.String({ pattern: '^/', description: '(/health)' })),
          interval: Type.Optional(Duration()),
          timeout: Type.Optional(Duration()),
          unhealthyAfter: Type.Optional(
            Type.Integer({ minimum: 1, description: 'failed checks that eject (2)' }),
          ),
          healthyAfter: Type.Optional(
            Type.Integer({ minimum: 1, description: 'passed checks that re-admit (1)' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    breaker: Type.Optional(
      Type.Object(
        {
          failures: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Consecutive failures that open it (5)' }),
          ),
          cooldown: Type.Optional(Duration()),
          stallAfter: Type.Optional(
            Duration({
              description:
                'An instance that answers nothing this long with requests outstanding is probed and, if the probe fails too, ejected (1s; 0: off); never more than half of the instances, nor the last',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type UpstreamDef = Static<typeof Upstream>;
