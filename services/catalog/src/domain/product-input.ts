/**
 * What a client may write to a product, in the domain's names, and the limits every API
 * enforces on it. REST builds its wire schemas (snake_case, strict bodies) from these fields;
 * GraphQL maps its inputs onto these names. The service checks every input here, so no API
 * can write a product these rules refuse.
 */
import { commonErrors } from '@portico/problem';
import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';

export const Id = Type.String({ minLength: 1, maxLength: 64, description: 'A UUIDv7' });
export const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
export const Description = Type.String({ maxLength: 5000 });
export const Price = Type.Union([Type.Number(), Type.String({ maxLength: 32 })], {
  description:
    'A decimal amount greater than 0 with at most 2 decimal places, as a number (19.99) or a string ("19.99")',
  example: 19.99,
});

const ProductInputRules = Type.Object({
  name: Name,
  description: Description,
  price: Price,
  categoryId: Id,
  inStock: Type.Optional(Type.Boolean()),
});

const ProductPatchRules = Type.Object({
  name: Type.Optional(Name),
  description: Type.Optional(Description),
  price: Type.Optional(Price),
  categoryId: Type.Optional(Id),
  inStock: Type.Optional(Type.Boolean()),
});

export type ProductInput = Static<typeof ProductInputRules>;
export type ProductPatch = Static<typeof ProductPatchRules>;

function check(rules: TSchema, value: object): void {
  // A field left undefined is a field left out.
  const present = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
  const issues = [...Value.Errors(rules, present)];
  if (issues.length === 0) return;
  const list = issues.map((issue) => {
    const field = issue.instancePath.slice(1).replaceAll('/', '.');
    return { field, code: 'VALIDATION_ERROR', message: `${field} ${issue.message}` };
  });
  throw commonErrors.VALIDATION_ERROR(list[0]!.message, { extensions: { errors: list } });
}

export function checkInput(input: ProductInput): void {
  check(ProductInputRules, input);
}

export function checkPatch(patch: ProductPatch): void {
  check(ProductPatchRules, patch);
}
