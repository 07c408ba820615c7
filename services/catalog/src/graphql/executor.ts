/**
 * The hot path. A document is parsed (with a token limit) and validated (the spec's rules
 * plus our limits) once per distinct query text, then compiled by graphql-jit once per
 * operation; both are kept in a bounded LRU. A request for a known query costs one map
 * lookup before its resolvers run.
 */

import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  type ValidationRule,
  validate,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import { type Limits, protectionRules } from './protection.ts';

export interface ExecutorOptions {
  limits: Limits;
  introspection: boolean;
  /** Distinct query texts kept parsed and validated. @default 1000 */
  cacheSize?: number;
}

export type Prepared = { document: DocumentNode } | { errors: readonly GraphQLError[] };

type Compiled = CompiledQuery | ExecutionResult;

export interface Executor {
  rules: ValidationRule[];
  prepare(query: string): Prepared;
  /**
   * The compiled operation, or the errors that stopped it compiling; undefined the first
   * time an operation runs (run it with graphql-js then): compiling costs milliseconds, so
   * only operations seen twice are worth it, and a flood of one-off queries cannot make
   * the server compile each of them.
   */
  compiled(document: DocumentNode, operationName: string | null | undefined): Compiled | undefined;
}

export function createExecutor(schema: GraphQLSchema, options: ExecutorOptions): Executor {
  const cacheSize = options.cacheSize ?? 1000;
  const rules = [
    ...specifiedRules,
    ...protectionRules(options.limits, { introspection: options.introspection }),
    ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
  const documents = new LRUCache<string, Prepared>({ max: cacheSize });
  const compiledByDocument = new WeakMap<DocumentNode, Map<string, Compiled | 'seen'>>();

  return {
    rules,
    prepare(query) {
      const hit = documents.get(query);
      if (hit) return hit;
      let prepared: Prepared;
      try {
        const document = parse(query, { maxTokens: options.limits.maxTokens, noLocation: false });
        const errors = validate(schema, document, rules);
        prepared = errors.length > 0 ? { errors } : { document };
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        const tokens = /Document contains more tha[nt] \d+ tokens/.test(err.message);
        prepared = {
          errors: [
            tokens
              ? new GraphQLError(err.message, {
                  extensions: { code: 'TOKEN_LIMIT_EXCEEDED', http: { status: 400 } },
                })
              : err,
          ],
        };
      }
      documents.set(query, prepared);
      return prepared;
    },
    compiled(document, operationName) {
      let byName = compiledByDocument.get(document);
      if (!byName) {
        byName = new Map();
        compiledByDocument.set(document, byName);
      }
      const key = operationName ?? '';
      let compiled = byName.get(key);
      if (compiled === undefined) {
        byName.set(key, 'seen');
        return undefined;
      }
      if (compiled === 'seen') {
        // No customJSONSerializer: on Node 24, JSON.stringify is about 3x faster than the
        // fast-json-stringify serializer graphql-jit would generate (measured on our results).
        compiled = compileQuery(schema, document, operationName ?? undefined);
        byName.set(key, compiled);
      }
      return compiled;
    },
  };
}

export { isCompiledQuery };
