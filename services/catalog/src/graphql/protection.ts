/**
 * Limits that keep one request from costing the server more than a page of REST would:
 * tokens (checked while parsing, before any work), depth, aliases and a static cost.
 * Introspection (`__schema`, `__type`) counts like every other field: it is no way around them.
 * Each failure is a validation error with a stable `extensions.code` and a message that
 * says which limit was hit and by how much.
 */
import {
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  getNamedType,
  isListType,
  isNonNullType,
  Kind,
  type OperationDefinitionNode,
  SchemaMetaFieldDef,
  type SelectionSetNode,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

export interface Limits {
  /** Most lexical tokens in a document. @default 2000 */
  maxTokens: number;
  /** Deepest field nesting. @default 8 */
  maxDepth: number;
  /** Most aliased fields in an operation. @default 30 */
  maxAliases: number;
  /** Highest static cost: every field 1, multiplied by the page size of the lists around it. @default 5000 */
  maxCost: number;
}

export const DEFAULT_LIMITS: Limits = { maxTokens: 2000, maxDepth: 8, maxAliases: 30, maxCost: 5000 };

/** Arguments that size a list, and the size assumed when a list has none. */
const PAGE_ARGS = ['first', 'last'];
const DEFAULT_LIST_SIZE = 20;

function limitError(code: string, message: string, node?: OperationDefinitionNode) {
  return new GraphQLError(message, { nodes: node, extensions: { code, http: { status: 400 } } });
}

/**
 * GraphiQL's own schema query nests `ofType` 15 deep and would cost ~340 000 by list sizes.
 * Where introspection is on (the developer set-up only: it is off by default), one plain
 * schema dump per operation is allowed that far: a query whose root fields are only
 * `__schema` (once, unaliased), `__type` and `__typename` is held to this depth and no cost.
 * Aliases still count, so it cannot be repeated; anything else mixed in is counted as usual.
 */
export const SCHEMA_DUMP_MAX_DEPTH = 16;

export function protectionRules(limits: Limits, options: { introspection?: boolean } = {}): ValidationRule[] {
  return [(context) => operationLimits(context, limits, options.introspection ?? false)];
}

function isSchemaDump(operation: OperationDefinitionNode): boolean {
  if (operation.operation !== 'query') return false;
  let schemas = 0;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.alias) return false;
    const name = selection.name.value;
    if (name === '__schema') schemas++;
    else if (name !== '__type' && name !== '__typename') return false;
  }
  return schemas <= 1;
}

/** Walks each operation once (fragments inlined, each fragment at most once per path). */
function operationLimits(context: ValidationContext, limits: Limits, introspection: boolean): ASTVisitor {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const schema = context.getSchema();

  return {
    OperationDefinition(operation) {
      const root =
        operation.operation === 'query'
          ? schema.getQueryType()
          : operation.operation === 'mutation'
            ? schema.getMutationType()
            : schema.getSubscriptionType();
      let maxDepth = 0;
      let aliases = 0;

      const walk = (
        selections: SelectionSetNode,
        parent: ReturnType<typeof getNamedType> | null | undefined,
        depth: number,
        seen: Set<string>,
      ): number => {
        let cost = 0;
        for (const selection of selections.selections) {
          if (selection.kind === Kind.FIELD) {
            if (selection.alias) aliases++;
            maxDepth = Math.max(maxDepth, depth);
            const field = fieldOf(parent, selection.name.value, parent === root);
            // A connection's page size is counted once, on the connection field, not again on `edges`.
            const multiplier = parent?.name.endsWith('Connection') ? 1 : listSize(selection, field);
            const child = selection.selectionSet
              ? walk(selection.selectionSet, field ? getNamedType(field.type) : undefined, depth + 1, seen)
              : 0;
            cost += multiplier * (1 + child);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            const type = selection.typeCondition
              ? schema.getType(selection.typeCondition.name.value)
              : parent;
            cost += walk(selection.selectionSet, type as typeof parent, depth, seen);
          } else {
            const name = selection.name.value;
            const fragment = fragments.get(name);
            if (!fragment || seen.has(name)) continue; // unknown or cyclic: the spec's own rules report it
            const type = schema.getType(fragment.typeCondition.name.value);
            cost += walk(fragment.selectionSet, type as typeof parent, depth, new Set(seen).add(name));
          }
        }
        return cost;
      };

      const cost = walk(operation.selectionSet, root, 1, new Set());
      const dump = introspection && isSchemaDump(operation);
      const depthLimit = dump ? Math.max(limits.maxDepth, SCHEMA_DUMP_MAX_DEPTH) : limits.maxDepth;
      if (maxDepth > depthLimit) {
        context.reportError(
          limitError(
            'DEPTH_LIMIT_EXCEEDED',
            `Query depth ${maxDepth} exceeds the limit of ${depthLimit}`,
            operation,
          ),
        );
      }
      if (aliases > limits.maxAliases) {
        context.reportError(
          limitError(
            'ALIAS_LIMIT_EXCEEDED',
            `${aliases} aliases exceed the limit of ${limits.maxAliases}`,
            operation,
          ),
        );
      }
      if (!dump && cost > limits.maxCost) {
        context.reportError(
          limitError(
            'COST_LIMIT_EXCEEDED',
            `Query cost ${cost} exceeds the limit of ${limits.maxCost}`,
            operation,
          ),
        );
      }
    },
  };
}

/**
 * The field a selection names, introspection included: `__schema` and `__type` on the root and
 * `__typename` anywhere are counted like any other field, and so is everything under them.
 */
function fieldOf(
  parent: ReturnType<typeof getNamedType> | null | undefined,
  name: string,
  isRoot: boolean,
): GraphQLField<unknown, unknown> | undefined {
  if (name === '__typename') return TypeNameMetaFieldDef;
  if (isRoot && name === '__schema') return SchemaMetaFieldDef;
  if (isRoot && name === '__type') return TypeMetaFieldDef;
  return parent && 'getFields' in parent
    ? (parent.getFields() as Record<string, GraphQLField<unknown, unknown>>)[name]
    : undefined;
}

/** How many items a field may return: 1 for a single value, else its page argument or the default. */
function listSize(node: FieldNode, field: GraphQLField<unknown, unknown> | undefined) {
  if (!field) return 1;
  const type = isNonNullType(field.type) ? field.type.ofType : field.type;
  const connection = getNamedType(field.type).name.endsWith('Connection');
  if (!isListType(type) && !connection) return 1;
  for (const name of PAGE_ARGS) {
    const arg = node.arguments?.find((a) => a.name.value === name);
    if (arg?.value.kind === Kind.INT) return Math.max(1, Number(arg.value.value));
    // A variable's value is not known here: assume the largest page a list serves.
    if (arg?.value.kind === Kind.VARIABLE) return 100;
  }
  const declared = field.args.find((a) => PAGE_ARGS.includes(a.name))?.defaultValue;
  return typeof declared === 'number' ? declared : DEFAULT_LIST_SIZE;
}
