/**
 * Generates `types.generated.ts` from `schema.graphql`, so the SDL stays the source of truth
 * and resolvers that drift from it stop compiling. Run after editing the schema:
 *   node services/catalog/src/graphql/codegen.ts
 * A test fails when the generated file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  buildSchema,
  type GraphQLArgument,
  GraphQLEnumType,
  type GraphQLField,
  GraphQLInputObjectType,
  type GraphQLInputType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLOutputType,
  GraphQLScalarType,
  type GraphQLSchema,
} from 'graphql';

export const SCHEMA_PATH = new URL('../../schema.graphql', import.meta.url);
export const GENERATED_PATH = new URL('./types.generated.ts', import.meta.url);

const SCALARS: Record<string, string> = {
  ID: 'string',
  String: 'string',
  Int: 'number',
  Float: 'number',
  Boolean: 'boolean',
};

function inputType(type: GraphQLInputType, nullable = true): string {
  if (type instanceof GraphQLNonNull) return inputType(type.ofType, false);
  const inner =
    type instanceof GraphQLList
      ? `Array<${inputType(type.ofType)}>`
      : type instanceof GraphQLScalarType
        ? (SCALARS[type.name] ?? 'unknown')
        : type instanceof GraphQLEnumType
          ? type
              .getValues()
              .map((v) => `'${v.name}'`)
              .join(' | ')
          : type.name;
  return nullable ? `${inner} | null` : inner;
}

/** Output fields map object types to the parent model the resolvers get (`P['Product']`). */
function outputType(type: GraphQLOutputType, nullable = true): string {
  if (type instanceof GraphQLNonNull) return outputType(type.ofType, false);
  const inner =
    type instanceof GraphQLList
      ? `Array<${outputType(type.ofType)}>`
      : type instanceof GraphQLScalarType
        ? (SCALARS[type.name] ?? 'unknown')
        : type instanceof GraphQLObjectType
          ? `P['${type.name}']`
          : 'unknown';
  return nullable ? `${inner} | null | undefined` : inner;
}

function argsInterface(owner: string, field: GraphQLField<unknown, unknown>): string | undefined {
  if (field.args.length === 0) return undefined;
  const name = `${owner}${field.name[0]!.toUpperCase()}${field.name.slice(1)}Args`;
  const lines = field.args.map((arg: GraphQLArgument) => {
    // A defaulted argument is always present when the resolver runs.
    const required = arg.type instanceof GraphQLNonNull || arg.defaultValue !== undefined;
    const type =
      arg.defaultValue !== undefined && !(arg.type instanceof GraphQLNonNull)
        ? inputType(new GraphQLNonNull(arg.type))
        : inputType(arg.type);
    return `  ${arg.name}${required ? '' : '?'}: ${type};`;
  });
  return `export interface ${name} {\n${lines.join('\n')}\n}`;
}

export function generate(schema: GraphQLSchema): string {
  const out: string[] = [
    '// Generated from services/catalog/schema.graphql by src/graphql/codegen.ts: do not edit.',
    "import type { GraphQLResolveInfo } from 'graphql';",
    '',
    'type MaybePromise<T> = T | Promise<T>;',
    '',
  ];
  const objects: GraphQLObjectType[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (type instanceof GraphQLInputObjectType) {
      const fields = Object.values(type.getFields()).map((f) => {
        const required = f.type instanceof GraphQLNonNull && f.defaultValue === undefined;
        return `  ${f.name}${required ? '' : '?'}: ${inputType(f.type)};`;
      });
      out.push(`export interface ${type.name} {\n${fields.join('\n')}\n}`, '');
    } else if (type instanceof GraphQLObjectType) {
      objects.push(type);
      for (const field of Object.values(type.getFields())) {
        const args = argsInterface(type.name, field);
        if (args) out.push(args, '');
      }
    }
  }
  out.push(
    `/** The model each object type resolves from; the root types' parents are \`unknown\`. */`,
    `export type ObjectTypeName =\n${objects.map((o) => `  | '${o.name}'`).join('\n')};`,
    '',
    'export type Resolver<Parent, Args, Context, Result> = (',
    '  parent: Parent,',
    '  args: Args,',
    '  context: Context,',
    '  info: GraphQLResolveInfo,',
    ') => MaybePromise<Result>;',
    '',
    'export interface SubscriptionResolver<Args, Context, Event, Result> {',
    '  subscribe: (',
    '    parent: unknown,',
    '    args: Args,',
    '    context: Context,',
    '    info: GraphQLResolveInfo,',
    '  ) => MaybePromise<AsyncIterable<Event>>;',
    '  resolve: (event: Event, args: Args, context: Context, info: GraphQLResolveInfo) => MaybePromise<Result>;',
    '}',
    '',
    '/** Resolvers typed from the SDL; `P` maps each object type to its parent model. */',
    'export interface Resolvers<Context, P extends Record<ObjectTypeName, unknown>, Event = unknown> {',
  );
  const subscription = schema.getSubscriptionType();
  for (const type of objects) {
    out.push(`  ${type.name}?: {`);
    for (const field of Object.values(type.getFields())) {
      const args = field.args.length
        ? `${type.name}${field.name[0]!.toUpperCase()}${field.name.slice(1)}Args`
        : 'Record<string, never>';
      const result = outputType(field.type);
      out.push(
        type === subscription
          ? `    ${field.name}?: SubscriptionResolver<${args}, Context, Event, ${result}>;`
          : `    ${field.name}?: Resolver<P['${type.name}'], ${args}, Context, ${result}>;`,
      );
    }
    out.push('  };');
  }
  out.push('}', '');
  return out.join('\n');
}

export function loadSchemaSource(): string {
  return readFileSync(SCHEMA_PATH, 'utf8');
}

if (import.meta.main) {
  writeFileSync(GENERATED_PATH, generate(buildSchema(loadSchemaSource())));
  console.log(`wrote ${GENERATED_PATH.pathname}`);
}
