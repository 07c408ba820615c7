/** Wire shapes of the payments API: they validate, serialise, and document (OpenAPI). */
import Type from 'typebox';

export { ProblemSchema as Problem } from '@portico/http';

const Timestamp = Type.String({ format: 'date-time' });

export const IntentSchema = Type.Object({
  id: Type.String(),
  order_id: Type.String(),
  user_id: Type.String(),
  amount: Type.Number(),
  amount_minor: Type.Integer(),
  currency: Type.String(),
  status: Type.String(),
  card: Type.Union([Type.Object({ brand: Type.String(), last4: Type.String() }), Type.Null()]),
  last_error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  order_sync: Type.String({
    description: 'Whether the order has been told: not_needed, pending, done, rejected',
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
  links: Type.Object({ self: Type.String(), confirm: Type.Optional(Type.String()), order: Type.String() }),
});

export const IntentEnvelope = Type.Object({ data: IntentSchema });
export const IntentList = Type.Object({ data: Type.Array(IntentSchema) });

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const IdempotencyHeader = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Required: any unique string, e.g. a UUID' })),
});

export const CreateIntentBody = Type.Object(
  {
    order_id: Type.String({ format: 'uuid' }),
    amount: Type.Optional(Type.Number({ minimum: 0 })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
  },
  { additionalProperties: false },
);

export const ConfirmIntentBody = Type.Object(
  {
    card: Type.Object(
      {
        number: Type.String({ pattern: '^[0-9]{12,19}$' }),
        exp_month: Type.Integer({ minimum: 1, maximum: 12 }),
        exp_year: Type.Integer({ minimum: 2000, maximum: 2100 }),
        cvc: Type.String({ pattern: '^[0-9]{3,4}$' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const IntentListQuery = Type.Object(
  {
    order_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  },
  { additionalProperties: false },
);
